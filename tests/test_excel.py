"""auditlib.excel: the auditors' workbooks, written atomically, with report text made safe."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from auditlib.audit import audit
from auditlib.excel import FINDINGS_HEADERS, SEVERITY_FILL, safe_cell, write_agency_workbook
from auditlib.findings import findings_frame


def test_safe_cell_neutralises_formulas_and_blanks():
    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe_cell("-1+2") == "'-1+2"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("予以公开") == "予以公开"
    assert safe_cell(float("nan")) is None and safe_cell(None) is None
    assert safe_cell(12.0) == 12 and isinstance(safe_cell(12.0), int)
    assert safe_cell("a\x00b") == "ab"  # characters XML forbids are dropped


def test_agency_workbook_of_a_sample(parsed_samples, tmp_path: Path) -> None:
    r = parsed_samples["004_27f28e9d7369eeba"]
    fdf = findings_frame(audit([r]))
    assert not fdf.empty
    path = write_agency_workbook(tmp_path / "w.xlsx", [r], fdf)
    assert [p.name for p in tmp_path.iterdir()] == ["w.xlsx"]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["表二", "表三", "表四", "发现"]
    t3 = wb["表三"]
    assert "石龙区人民政府办公室" in t3.cell(row=1, column=1).value
    labels = {t3.cell(row=i, column=2).value: i for i in range(3, t3.max_row + 1)}
    row = labels["一、本年新收政府信息公开申请数量"]
    assert t3.cell(row=row, column=1).value == 2021
    # The total column of 本年新收 holds the report's figure.
    header = [t3.cell(row=2, column=j).value for j in range(1, t3.max_column + 1)]
    assert t3.cell(row=row, column=header.index("总计") + 1).value == 4
    found = wb["发现"]
    assert [c.value for c in found[1]][: len(FINDINGS_HEADERS)] == FINDINGS_HEADERS
    assert found.max_row == len(fdf) + 1
    sev = {found.cell(row=i, column=2).value for i in range(2, found.max_row + 1)}
    assert sev <= {"错误", "警告", "提示"}
    filled = {c.fill.fgColor.rgb for ws in (wb["表二"], t3, wb["表四"]) for rw in ws.iter_rows() for c in rw}
    assert filled & {f.fgColor.rgb for f in SEVERITY_FILL.values()}, "a finding's cell is filled"
