"""表三's cells boxed in PDFs whose tables have no vertical ruling lines (rebuilt from word
positions, so pdfplumber finds no cells): each number's own word places it. Zoo documents
(tests/zoo.py) with 予以公开's 总计 made one too high in the Word file and printed again by
LibreOffice: the row's total (T3_ROW_TOTAL) and the 办理结果 total under it (T3_RESULTS_SUM)
must each be boxed at the number printed, or not at all."""

from __future__ import annotations

import docx
import pytest

from auditlib import load
from auditlib.audit import audit
from tests.test_locate_table4 import _check_box
from tests.zoo import edited_pdfs, soffice

# No rules at all, horizontal rules only, rows boxed without vertical rules (2019), tight
# and borderless; and the ruled grid, which pdfplumber's cells place, for comparison.
VARIANTS = ("plain", "borderless", "hrules", "boxed-rows", "tight-borderless", "2019-borderless")
_VERSION = "1"  # bump when the edit below changes


def _raise_granted_total(src, out) -> dict[str, str]:
    """Copy a zoo Word file with 表三's 予以公开 总计 one too high; that total and 办理结果's total as printed."""
    document = docx.Document(str(src))
    table = next(t for t in document.tables if any("予以公开" in c.text for r in t.rows for c in r.cells))
    rows = {c.text.strip(): r for r in table.rows for c in r.cells[:3]}
    granted = next(r for label, r in rows.items() if "予以公开" in label)
    cell = granted.cells[-1]
    value = str(int(cell.text) + 1)
    runs = cell.paragraphs[0].runs
    runs[0].text = value
    for r in runs[1:]:
        r.text = ""
    document.save(str(out))
    handled = next(r for label, r in rows.items() if label.startswith("（七）") or label.startswith("（四）总计") or label == "总计")
    return {"granted": value, "total_handled": handled.cells[-1].text.strip()}


@pytest.fixture(scope="module")
def raised() -> list[tuple[str, object, dict[str, str]]]:
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is needed to build the zoo")
    return edited_pdfs(f"zoo-t3-{_VERSION}", VARIANTS, _raise_granted_total)


def test_t3_totals_are_boxed_without_ruling_lines(raised):
    for variant, path, printed in raised:
        report = load(path)
        if variant != "plain":
            assert any("words" in getattr(b, "how", "") for b in report.document.blocks), variant
        found = {f.row: f for f in audit([report]) if f.table == "table3" and f.column == "total"}
        assert set(found) == {"granted", "total_handled"}, (variant, sorted(found))
        assert found["granted"].rule == "T3_ROW_TOTAL" and found["total_handled"].rule == "T3_RESULTS_SUM"
        for row, f in found.items():
            _check_box(path, f, printed[row])
        # Both in the 总计 column (the same x), 办理结果's total below, or on a later page.
        granted, handled = found["granted"], found["total_handled"]
        assert abs(granted.bbox[2] - handled.bbox[2]) < 8, variant
        assert (granted.page, granted.bbox[3]) < (handled.page, handled.bbox[1]), variant
