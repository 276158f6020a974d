"""表四's cells boxed in PDFs: no row labels, one printed row of 15 numbers under a
two-row header. Zoo documents (tests/zoo.py) with a wrong 总计 put into the Word file
and printed again by LibreOffice; the box must be the cell of that number, as
pdfplumber places its word, and the drawn box must hold the word."""

from __future__ import annotations

import docx
import pdfplumber
import pytest

from auditlib import load
from auditlib.audit import audit
from auditlib.locate import locate
from auditlib.pageimage import render_page
from tests.conftest import SAMPLES
from tests.test_locate import cell_finding, red_box, text_in
from tests.zoo import edited_pdfs, soffice

# Ruled grids (2021 and 2019, portrait and landscape), a borderless one pdfplumber still
# finds cells in, and two with no vertical rules at all (the numbers' own words place them).
VARIANTS = ("plain", "2019", "landscape", "borderless", "hrules", "boxed-rows")
# Group 复议 (the row's 5th number) and group 复议后起诉 (its 15th): each gets a total one too high.
WRONG = {"review": 4, "litigation_after_review": 14}
_VERSION = "1"  # bump when the edit below changes


def _break_totals(src, out) -> dict[str, str]:
    """Copy a zoo Word file with 表四's chosen totals made one too high; the totals printed."""
    document = docx.Document(str(src))
    table = next(t for t in document.tables if any("结果维持" in c.text for c in t.rows[-2].cells))
    row = table.rows[-1].cells
    assert len(row) == 15, len(row)
    printed = {}
    for group, i in WRONG.items():
        cell = row[i]
        value = str(int(cell.text) + 1)
        runs = cell.paragraphs[0].runs
        runs[0].text = value
        for r in runs[1:]:
            r.text = ""
        printed[group] = value
    document.save(str(out))
    return printed


@pytest.fixture(scope="module")
def broken() -> list[tuple[str, object, dict[str, str]]]:
    """(variant, PDF, the wrong totals as printed), made once and cached beside the zoo."""
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is needed to build the zoo")
    return edited_pdfs(f"zoo-t4-{_VERSION}", VARIANTS, _break_totals)


def _check_box(pdf_path, f, printed: str) -> None:
    """The finding's box holds the printed number and no other text; drawn, it surrounds
    pdfplumber's word of that number, and it is one cell wide, not the row."""
    assert f.page is not None and f.bbox is not None, (pdf_path.name, f.row)
    assert text_in(pdf_path, f.page, f.bbox) == printed, (pdf_path.name, f.row)
    with pdfplumber.open(pdf_path) as pdf:
        words = [w for w in pdf.pages[f.page - 1].dedupe_chars().extract_words() if w["text"] == printed]
    inside = [w for w in words if f.bbox[0] - 0.5 <= w["x0"] and w["x1"] <= f.bbox[2] + 0.5
              and f.bbox[1] - 0.5 <= w["top"] and w["bottom"] <= f.bbox[3] + 0.5]
    assert len(inside) == 1, (pdf_path.name, f.row, f.bbox)
    word = inside[0]
    x0, top, x1, bottom = red_box(render_page(pdf_path, f.page, f.bbox))
    assert x0 < word["x0"] and word["x1"] < x1 and top < word["top"] and word["bottom"] < bottom
    assert abs(x0 - f.bbox[0]) < 5 and abs(x1 - f.bbox[2]) < 5 and abs(top - f.bbox[1]) < 5
    assert (x1 - x0) < 60 and (bottom - top) < 40


def test_t4_total_is_boxed_in_every_layout(broken):
    for variant, path, printed in broken:
        report = load(path)
        found = {f.row: f for f in audit([report]) if f.rule == "T4_TOTAL"}
        assert set(found) == set(WRONG), (variant, sorted(found))
        for group, f in found.items():
            assert f.actual == int(printed[group])
            _check_box(path, f, printed[group])
        # The two groups are different cells of the one row.
        review, after = found["review"], found["litigation_after_review"]
        assert review.page == after.page and review.bbox[2] <= after.bbox[0]
        assert abs(review.bbox[1] - after.bbox[1]) < 3


def test_t4_cell_in_a_real_report():
    """淮安 2024: 表四 as the agency printed it, every group's cells."""
    pdf = SAMPLES / "huaian-2024.pdf"
    report = load(pdf)
    t4 = report.tables["table4"]
    cells = [(row, col) for row in ("review", "litigation_direct", "litigation_after_review") for col in ("upheld", "total")]
    fs = [cell_finding(report, "table4", row, col) for row, col in cells]
    # A whole group (no column): its five cells boxed together, in print order.
    group = cell_finding(report, "table4", "litigation_direct", None)
    locate([*fs, group], [report])  # one opening of the PDF for all
    for (row, col), f in zip(cells, fs, strict=True):
        assert f.page == 5 and text_in(pdf, f.page, f.bbox) == t4.raw[(row, col)], (row, col)
    whole = "".join(t4.raw[("litigation_direct", c)] for c in ("upheld", "corrected", "other", "pending", "total"))
    assert text_in(pdf, group.page, group.bbox) == whole
