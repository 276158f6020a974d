"""Scanned reports: tables read by OCR, numbers kept only where the table's arithmetic confirms them.

The scans are made from the official Word template with known numbers (tests/scans.py) and
degraded like real ones. OCR costs seconds a page, so two scans serve every end-to-end test;
the verification itself is also tested on the parser's own path without OCR.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from auditlib import view
from auditlib.audit import audit
from auditlib.blocks import Table
from auditlib.ingest.docx import read_docx
from auditlib.ingest.ocr import OcrText, available
from auditlib.report import load, parse_document
from tests.fixtures import make_docx
from tests.scan_pictures import picture_documents
from tests.scans import NARRATIVE, consistent_report, scanned_pdf

pytestmark = pytest.mark.skipif(not available(), reason="OCR engine not installed (scripts/setup installs it)")


def _needs_office() -> None:
    # The scans are printed from the Word template by LibreOffice (scripts/setup test installs it).
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) not installed")


CHECKED = ("table3", "table4")


def _cells(report, truth, tables=CHECKED):
    for table in tables:
        got = report.tables[table].to_dict()
        for row, cols in truth[table].items():
            for col, want in cols.items():
                yield table, row, col, got[row][col], want


@pytest.fixture(scope="module")
def truth():
    return consistent_report(7)


@pytest.fixture(scope="module")
def sealed(truth):
    """Every page scanned: 200 dpi, skewed 0.7°, a red seal over 表三 or 表四, JPEG."""
    _needs_office()
    return load(scanned_pdf(truth, "seal"))


@pytest.fixture(scope="module")
def mixed(truth):
    """Pages 1 and 4 typed (text layer), the table pages 2–3 a phone photo: perspective, 1.2°, blur."""
    _needs_office()
    return load(scanned_pdf(truth, "photo", keep_text_pages=(1, 4)))


def test_scanned_tables_fill_and_never_wrong(sealed, truth):
    cells = list(_cells(sealed, truth))
    wrong = [(t, r, c, got, want) for t, r, c, got, want in cells if got is not None and got != want]
    assert wrong == []
    filled = sum(got is not None for *_, got, _ in cells)
    assert filled >= 0.98 * len(cells), f"{filled}/{len(cells)} cells verified"
    assert sealed.format == "2021"


def test_scanned_narrative_gives_meta_and_sections(sealed, truth):
    assert sealed.meta.agency == truth["agency"]
    assert sealed.meta.year == truth["year"]
    assert list(sealed.sections) == ["一", "二", "三", "四", "五", "六"]
    assert any("OCR" in w for w in sealed.warnings)


def test_table2_has_no_identity_so_stays_null_with_findings(sealed):
    """表二 carries no checksum: what OCR read there is shown, never taken as the value."""
    assert all(v is None for row in sealed.tables["table2"].to_dict().values() for v in row.values())
    found = [f for f in audit([sealed]) if f.rule == "OCR_UNVERIFIED" and f.table == "table2"]
    assert len(found) == sum(len(r.columns) for r in sealed.tables["table2"].layout.rows)
    f = found[0]
    out = f.to_json()
    assert out["page"] == 1 and len(out["bbox"]) == 4 and out["bbox"][0] < out["bbox"][2]
    assert "识别为" in f.message and "置信度" in f.message
    json.dumps(out, ensure_ascii=False)
    # Each finding carries the cell as read, small, and the recogniser's confidence in each digit.
    assert all(g.extra["cell_image"].startswith("data:image/png;base64,") for g in found)
    assert max(len(g.extra["cell_image"]) for g in found) < 4000
    numeric = [g for g in found if g.extra["read"].isdigit()]
    assert numeric and all(len(g.extra["char_confidence"]) == len(g.extra["read"]) for g in numeric)


def test_mixed_document_reads_text_pages_as_text_and_scans_by_ocr(mixed, truth):
    # 表二 stands on the typed page 1: read from the text layer, exactly.
    assert mixed.tables["table2"].to_dict() == truth["table2"]
    assert mixed.meta.signed_on is not None and mixed.meta.signed_on.isoformat() == truth["signed_on"]
    cells = list(_cells(mixed, truth))
    assert [c for c in cells if c[3] is not None and c[3] != c[4]] == []
    assert sum(c[3] is not None for c in cells) >= 0.98 * len(cells)
    assert not [f for f in audit([mixed]) if f.rule.startswith(("T3_", "T4_"))]


# ---------------------------------------------------------------- tables given as pictures


@pytest.fixture(scope="module")
def picture_docs(truth):
    """表三 and 表四 pasted in as scanned pictures (200 dpi, JPEG) in a Word file, and that file
    saved by LibreOffice as a PDF (text layer plus pictures) and as a web page."""
    _needs_office()
    return picture_documents(truth)


def _read_as_one(report, truth) -> None:
    # 表二 is a real table in every one of these: read exactly, in its place before the pictures.
    assert report.tables["table2"].to_dict() == truth["table2"]
    cells = list(_cells(report, truth))
    assert [c for c in cells if c[3] is not None and c[3] != c[4]] == []
    assert sum(c[3] is not None for c in cells) >= 0.98 * len(cells)
    assert list(report.sections) == ["一", "二", "三", "四", "五", "六"]
    assert report.meta.signed_on is not None and report.meta.signed_on.isoformat() == truth["signed_on"]
    assert not [f for f in audit([report]) if f.rule.startswith(("T3_", "T4_", "TABLE_"))]


def test_word_file_with_tables_as_pictures(picture_docs, truth):
    report = load(picture_docs["docx"])
    _read_as_one(report, truth)
    raw = report.tables["table3"].raw[("granted", "total")]
    assert isinstance(raw, OcrText) and raw.image.startswith("word/media/") and raw.page == 0
    assert any("word/media/" in w and "OCR" in w for w in report.warnings)


def test_pdf_with_text_layer_and_a_table_pasted_as_picture(picture_docs, truth):
    report = load(picture_docs["pdf"])
    _read_as_one(report, truth)
    # 表四's picture stands on a page with running text: read as a picture of that page, in page points.
    raw = report.tables["table4"].raw[("review", "total")]
    assert isinstance(raw, OcrText) and raw.image == f"第{raw.page}页图片1"
    x0, top, x1, bottom = raw.bbox
    assert 0 < x0 < x1 < 595 and 0 < top < bottom < 842


def test_web_page_with_tables_as_pictures_beside_it_or_inline(picture_docs, truth):
    for kind in ("html", "html_data_uri"):
        report = load(picture_docs[kind])
        _read_as_one(report, truth)
        assert any("OCR" in w for w in report.warnings), kind


# ---------------------------------------------------------------- verification, without OCR


@pytest.fixture(scope="module")
def docx_doc(tmp_path_factory, truth):
    path = make_docx(truth, NARRATIVE, tmp_path_factory.mktemp("ocrdocx") / "r.docx")
    return read_docx(path.read_bytes(), str(path))


def _as_ocr(doc, replace: dict[tuple[int, int, int], str] | None = None):
    """The document with every table cell as if OCR had read it (optionally misread)."""
    replace = replace or {}
    blocks = []
    tno = 0
    for b in doc.blocks:
        if isinstance(b, Table):
            rows = [
                [
                    None
                    if c is None
                    else OcrText(replace.get((tno, i, j), c), 0.71, 2, (10.0, 20.0 + i, 30.0, 30.0 + i))
                    for j, c in enumerate(row)
                ]
                for i, row in enumerate(b.rows)
            ]
            blocks.append(Table(rows, line=b.line))
            tno += 1
        else:
            blocks.append(b)
    return dataclasses.replace(doc, blocks=blocks)


def _position(doc, table_no: int, text: str, row_label: str) -> tuple[int, int, int]:
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    for i, row in enumerate(tables[table_no].rows):
        if any(c and row_label in c for c in row):
            j = max(k for k, c in enumerate(row) if c == text)
            return table_no, i, j
    raise AssertionError(row_label)


def test_every_cell_confirmed_when_read_right(docx_doc, truth):
    report = parse_document(_as_ocr(docx_doc))
    assert all(got == want for *_, got, want in _cells(report, truth))
    assert {c.table for c in report.ocr_checks} == {"table2"}


def test_misread_digit_is_null_with_a_one_digit_suggestion(docx_doc, truth):
    # 表三 "1.属于国家秘密" 总计 misread: one digit changed.
    true_total = truth["table3"]["denied_state_secret"]["total"]
    text = str(true_total)
    misread = text[:-1] + str((int(text[-1]) + 3) % 10)
    pos = _position(docx_doc, 1, text, "国家秘密")
    report = parse_document(_as_ocr(docx_doc, {pos: misread}))
    assert report.value("table3", "denied_state_secret", "total") is None
    others = [c for c in _cells(report, truth) if c[:3] != ("table3", "denied_state_secret", "total")]
    assert all(got == want for *_, got, want in others)
    [check] = [c for c in report.ocr_checks if c.table == "table3"]
    assert (check.row, check.column, check.read, check.suggestion) == (
        "denied_state_secret",
        "total",
        misread,
        true_total,
    )
    assert check.broken  # the row total and the 总计 column's result sum
    [f] = [f for f in audit([report]) if f.rule == "OCR_UNVERIFIED" and f.table == "table3"]
    assert f"改为“{true_total}”" in f.message and f.actual == int(misread)
    assert not [f for f in audit([report]) if f.rule in ("T3_ROW_TOTAL", "T3_RESULTS_SUM")]


def test_reading_far_from_the_arithmetic_gets_no_suggestion(docx_doc, truth):
    """A reading more than one digit away from what the arithmetic wants is shown, and nothing is guessed."""
    text = str(truth["table4"]["review"]["total"])
    # 表四 has no row labels: its 15 numbers stand in one row.
    tables = [b for b in docx_doc.blocks if isinstance(b, Table)]
    values_row = next(i for i, r in enumerate(tables[2].rows) if sum(1 for c in r if c and c.strip().isdigit()) >= 15)
    pos = (2, values_row, 4)  # the review group's 总计
    assert tables[2].rows[values_row][4] == text
    misread = "9" + text + "9"
    report = parse_document(_as_ocr(docx_doc, {pos: misread}))
    assert report.value("table4", "review", "total") is None
    checks = {c.column: c for c in report.ocr_checks if c.table == "table4"}
    assert checks["total"].read == misread and checks["total"].suggestion is None
    # The group's four parts stand in that one identity only: nothing confirms them either.
    assert set(checks) == {"upheld", "corrected", "other", "pending", "total"}
    assert all(report.value("table4", "review", c) is None for c in checks)
    assert all(report.value("table4", "litigation_direct", c) is not None for c in checks)
    assert not [f for f in audit([report]) if f.rule == "T4_TOTAL"]


def test_suggestion_only_where_the_recogniser_doubted_and_the_cell_picture_travels(docx_doc, truth):
    """With a confidence per character, the one-digit hint must change the digit read least surely;
    the finding carries the cell's picture (a data: URI) and the sheet/stepper view shows it."""
    true_total = truth["table3"]["granted"]["total"]
    text = str(true_total)
    assert len(text) >= 2
    misread = text[:-1] + str((int(text[-1]) + 3) % 10)
    t, i, j = _position(docx_doc, 1, text, "予以公开")
    png = b"\x89PNG\r\n\x1a\nfake-but-opaque-bytes"

    def findings_with(chars):
        doc = _as_ocr(docx_doc)
        cell = OcrText(misread, 0.8, 2, (1.0, 2.0, 3.0, 4.0), chars=chars, crop=png)
        [b for b in doc.blocks if isinstance(b, Table)][t].rows[i][j] = cell
        report = parse_document(doc)
        assert report.value("table3", "granted", "total") is None
        [f] = [f for f in audit([report]) if f.rule == "OCR_UNVERIFIED" and f.row == "granted" and f.column == "total"]
        return report, f

    doubt_last = tuple([0.99] * (len(text) - 1) + [0.41])
    report, f = findings_with(doubt_last)
    assert f"改为“{true_total}”" in f.message and f"第{len(text)}位" in f.message and "0.41" in f.message
    assert f.extra["char_confidence"] == list(doubt_last)
    assert f.extra["cell_image"].startswith("data:image/png;base64,")
    shown = view.ocr_cell_images(report, [("table3", "granted", "total")])
    assert "<img src='data:image/png;base64," in shown and f"识别为“{misread}”" in shown

    # The recogniser was sure of the last digit and doubted the first: no one-digit slip to suggest.
    _, f = findings_with(tuple([0.41] + [0.99] * (len(text) - 1)))
    assert "改为" not in f.message and f.extra["suggestion"] is None


def test_pdf_whose_fonts_cannot_be_decoded_is_read_like_a_scan(tmp_path):
    """Fonts embedded without their Unicode map: the page shows the report, its text layer is
    glyph numbers ((cid:12)…). Read as text it was "not a report"; it is read by OCR instead."""
    import pdfplumber

    _needs_office()
    from tests.zoo import zoo

    doc = next(d for d in zoo() if d.variant == "plain" and d.container == "pdf")
    data = doc.path.read_bytes()
    assert b"/ToUnicode" in data
    garbled = tmp_path / "garbled.pdf"
    garbled.write_bytes(data.replace(b"/ToUnicode", b"/ToUnicodX"))  # the same length: offsets hold
    with pdfplumber.open(garbled) as pdf:
        assert all(c["text"].startswith("(cid:") for c in pdf.pages[0].chars if not c["text"].isspace())
    r = load(garbled)
    assert any("无法解码" in w for w in r.warnings)
    assert (r.meta.agency, r.meta.year, list(r.sections)) == (doc.expected["agency"], doc.expected["year"], list("一二三四五六"))
    cells = list(_cells(r, doc.expected))
    assert [c for c in cells if c[3] is not None and c[3] != c[4]] == []
    assert sum(c[3] is not None for c in cells) >= 0.95 * len(cells)
    assert "INPUT_UNREADABLE" not in {f.rule for f in audit([r])}
