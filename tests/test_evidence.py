"""The sheet's evidence at the source: each PDF page a finding stands on, cropped around its
boxes and written beside the sheet as a small PNG; text reports show the span marked."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image

from auditlib import load
from auditlib.audit import audit
from auditlib.findings import findings_frame
from auditlib.locate import locate, report_text
from auditlib.pageimage import EVIDENCE_MARGIN, EVIDENCE_SCALE, write_evidence
from auditlib.view import evidence_html, highlight
from tests.conftest import S000, SAMPLES, sample_path
from tests.test_locate import cell_finding

PDF = SAMPLES / "huaian-2024.pdf"


def test_pdf_pages_are_small_files_with_every_box(tmp_path):
    report = load(PDF)
    found = [f for f in audit([report]) if f.bbox]
    cells = [cell_finding(report, "table4", "review", "total"), cell_finding(report, "table4", "litigation_after_review", "upheld")]
    for f in cells:
        f.key = f"{f.row}:{f.column}"  # two findings, two ids
    locate(cells, [report])
    assert cells[0].page == cells[1].page == 5
    df = findings_frame(found + cells)
    pages = write_evidence(df.to_dict("records"), tmp_path)
    assert sorted(p.page for p in pages) == sorted({f.page for f in found + cells})
    five = next(p for p in pages if p.page == 5)
    assert [n for n, _ in five.numbers] == [1, 2] and {fid for _, fid in five.numbers} == {f.id for f in cells}
    png = (tmp_path / five.path).read_bytes()
    assert five.path.startswith("evidence/") and len(png) < 40_000
    # The red boxes in the cropped picture stand where the cells are on the page.
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    red = (img[:, :, 0] > 200) & (img[:, :, 1] < 60) & (img[:, :, 2] < 60)
    upper = int((min(f.bbox[1] for f in cells) - EVIDENCE_MARGIN) * EVIDENCE_SCALE)
    for f in cells:
        x0, top, x1, bottom = (v * EVIDENCE_SCALE for v in f.bbox)
        top, bottom = top - upper, bottom - upper
        ring = red[int(top) - 6 : int(bottom) + 6, int(x0) - 6 : int(x1) + 6]
        assert ring[:4].any() and ring[-4:].any() and ring[:, :4].any() and ring[:, -4:].any(), f.row
        assert not red[int(top) + 2 : int(bottom) - 2, int(x0) + 2 : int(x1) - 2].any()  # the digits stay clear
    # A re-run leaves the same picture alone; a picture no finding needs any more goes.
    stamp = os.stat(tmp_path / five.path).st_mtime_ns
    again = write_evidence(df.to_dict("records"), tmp_path)
    assert again == pages and os.stat(tmp_path / five.path).st_mtime_ns == stamp
    write_evidence(findings_frame(found).to_dict("records"), tmp_path)
    assert not (tmp_path / five.path).exists()
    page = evidence_html(df, [report], pages)
    assert f"src='{five.path}'" in page and "data:" not in page


def test_text_reports_show_the_span_marked():
    report = load(sample_path(S000))
    fs = [f for f in audit([report]) if f.span]
    assert fs
    page = evidence_html(findings_frame(fs), [report], [])
    text = report_text(report)
    for f in fs:
        assert highlight(text[slice(*f.span)], spans=[(0, f.span[1] - f.span[0])]) in page
    assert page.count("<mark>") == len(fs) and "<img" not in page
