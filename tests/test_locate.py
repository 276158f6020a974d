"""Evidence at the source: span into the report's text, and for a PDF the page and the box
of the cell or sentence, checked against pdfplumber's own characters and the rendered pixels."""

from __future__ import annotations

import io
import json
import shutil

import pdfplumber
import pytest
from click.testing import CliRunner
from PIL import Image

from auditlib import load, load_reports
from auditlib.audit import audit
from auditlib.cli import main
from auditlib.findings import Finding
from auditlib.locate import locate, report_text
from auditlib.numbers import squash
from auditlib.pageimage import SCALE, render_page
from tests.conftest import SAMPLES

PDF = SAMPLES / "huaian-2024.pdf"


def cell_finding(report, table: str, row: str, column: str | None) -> Finding:
    return Finding(
        source=report.source, agency=report.meta.agency, year=report.meta.year, rule="T3_ROW_TOTAL",
        severity="error", location="表三", message="", evidence=report.tables[table].row_text(row) if row else "",
        table=table, row=row, column=column, digest=report.digest,
    )


def text_in(pdf_path, page: int, bbox) -> str:
    with pdfplumber.open(pdf_path) as pdf:
        return squash(pdf.pages[page - 1].dedupe_chars().within_bbox(tuple(bbox)).extract_text())


def red_box(png: bytes) -> tuple[float, float, float, float]:
    """The drawn box's outer edges, in PDF points."""
    import numpy as np

    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    red = (px[:, :, 0] > 200) & (px[:, :, 1] < 40) & (px[:, :, 2] < 40)
    ys, xs = np.nonzero(red)
    assert xs.size, "no box drawn"
    return xs.min() / SCALE, ys.min() / SCALE, xs.max() / SCALE, ys.max() / SCALE


def test_spans_point_at_the_evidence():
    reports = load_reports(SAMPLES)
    texts = {r.source: report_text(r) for r in reports}
    findings = audit(reports)
    with_span = [f for f in findings if f.span]
    assert len(with_span) >= len(findings) - 3
    for f in with_span:
        s, e = f.span
        quoted = squash(texts[f.source][s:e])
        assert quoted and quoted in squash(f.evidence), (f.rule, quoted, f.evidence)
    ttm = next(f for f in findings if f.rule == "TEXT_TABLE_MISMATCH")
    assert squash(texts[ttm.source][slice(*ttm.span)]).startswith("咨询类的信息2件")
    # Text files have no pages.
    assert all(f.page is None and f.bbox is None for f in findings if not f.source.endswith(".pdf"))


def test_pdf_sentence_box_holds_the_sentence():
    report = load(PDF)
    f = next(f for f in audit([report]) if f.rule == "DATE_MISSING")
    assert f.page == 6 and len(f.bbox) == 4
    inside = text_in(PDF, f.page, f.bbox)
    assert squash(f.evidence) in inside
    assert squash(report_text(report)[slice(*f.span)]) == squash(f.evidence)


@pytest.mark.parametrize(
    "table, row, column, value",
    [("table3", "granted", "total", "1362"), ("table3", "new_received", "natural_person", "3001"),
     ("table3", "carried_forward", "total", None)],
)
def test_pdf_cell_box_is_the_cell(table, row, column, value):
    report = load(PDF)
    f = cell_finding(report, table, row, column)
    locate([f], [report])
    want = value or str(report.tables[table].get(row, column))
    assert f.page is not None and text_in(PDF, f.page, f.bbox) == want
    # The drawn box: around the cell's characters, and no wider than the cell.
    png = render_page(PDF, f.page, f.bbox)
    x0, top, x1, bottom = red_box(png)
    with pdfplumber.open(PDF) as pdf:
        words = [w for w in pdf.pages[f.page - 1].dedupe_chars().extract_words() if w["text"] == want]
    word = next(w for w in words if f.bbox[0] <= w["x0"] and w["x1"] <= f.bbox[2] and f.bbox[1] <= w["top"])
    assert x0 < word["x0"] and word["x1"] < x1 and top < word["top"] and word["bottom"] < bottom
    assert abs(x0 - f.bbox[0]) < 5 and abs(x1 - f.bbox[2]) < 5 and abs(top - f.bbox[1]) < 5
    assert (x1 - x0) < 60 and (bottom - top) < 40  # one cell, not the row


def test_a_figure_over_rows_is_boxed_whole():
    report = load(PDF)
    f = cell_finding(report, "table3", None, "total")
    rows = ["denied_state_secret", "denied_prohibited_by_law", "denied_security_stability"]
    f.extra["rows"] = rows
    locate([f], [report])
    inside = text_in(PDF, f.page, f.bbox)
    assert inside == "".join(str(report.tables["table3"].get(r, "total")) for r in rows)


def test_a_changed_file_gets_no_box(tmp_path):
    copy = tmp_path / "huaian.pdf"
    shutil.copy(PDF, copy)
    report = load(copy)
    copy.write_bytes(PDF.read_bytes() + b"\n% changed after the audit\n")
    f = cell_finding(report, "table3", "granted", "total")
    locate([f], [report])
    assert f.page is None and f.bbox is None and f.span is not None


def test_show_command_prints_evidence_and_writes_the_page(tmp_path):
    report = load(PDF)
    f = next(f for f in audit([report]) if f.rule == "DATE_MISSING")
    out = tmp_path / "page.png"
    res = CliRunner().invoke(main, ["show", f.id[:8], str(PDF), "--image", str(out)])
    assert res.exit_code == 0, res.output
    assert f.evidence in res.output and "第 6 页" in res.output and f"【{f.evidence}】" in res.output
    x0, top, x1, bottom = red_box(out.read_bytes())
    assert all(abs(a - b) < 5 for a, b in zip((x0, top, x1, bottom), f.bbox, strict=True))
    res = CliRunner().invoke(main, ["show", "0000000000", str(PDF)])
    assert res.exit_code != 0 and "没有这项发现" in res.output
    # The JSON carries the place as the contract says.
    res = CliRunner().invoke(main, ["audit", str(PDF), "--json", "--no-cache"])
    rec = json.loads(res.output.splitlines()[0])
    assert rec["page"] == 6 and rec["bbox"] == f.bbox and rec["span"] == f.span
