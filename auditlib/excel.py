"""Excel workbooks for auditors: an agency's tables with the cells behind findings
filled, its findings with the auditors' decisions, and the review export.

Report text is untrusted: a cell that starts like a formula would run as one when
the workbook is opened, so every such string is neutralised with a leading
apostrophe. Every file is written to a temporary name beside its target and
moved into place, so an interrupted run never leaves a half-written workbook.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from auditlib.files import atomic_path
from auditlib.findings import plain
from auditlib.layouts import TABLE_NAMES
from auditlib.vocab import SEVERITY, severity_zh, status_zh, worst

if TYPE_CHECKING:
    from auditlib.report import Report

# Excel's own "bad / neutral / note" palette (vocab's fills), so the meaning reads at a glance.
SEVERITY_FILL = {k: PatternFill("solid", fgColor=s.fill.lstrip("#")) for k, s in SEVERITY.items()}
_NA_FILL = PatternFill("solid", fgColor="EDEDED")
_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="D9D9D9")
_WRAP = Alignment(wrap_text=True, vertical="top")

FINDINGS_HEADERS = ["规则", "严重程度", "位置", "预期", "实际", "说明", "原文证据", "审核状态", "审核备注"]
# Extra columns after the required ones, so an agency with several years (and
# a later merge of workbooks) can still tell the findings apart.
FINDINGS_EXTRA = ["年度", "审核人", "审核时间", "来源", "编号"]
REVIEW_HEADERS = ["机关", "年度", *FINDINGS_HEADERS, "审核人", "审核时间", "来源", "编号"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def save_workbook(wb: Workbook, path: str | os.PathLike[str]) -> Path:
    with atomic_path(path, suffix=".xlsx") as tmp:
        wb.save(tmp)
    return Path(path)


# ---------------------------------------------------------------- cell values
def safe_cell(value: Any) -> Any:
    """A value fit for a cell: NA → empty, formulas neutralised, XML-illegal characters dropped."""
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, (int, float)):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def _autowidth(ws: Worksheet, widths: dict[int, int] | None = None, cap: int = 60) -> None:
    widths = widths or {}
    for col_cells in ws.iter_cols(min_row=1, max_row=min(ws.max_row, 200)):
        idx = col_cells[0].column
        if idx in widths:
            ws.column_dimensions[get_column_letter(idx)].width = widths[idx]
            continue
        longest = 4
        for c in col_cells:
            if c.value is not None:
                # CJK characters are about twice as wide as Latin ones.
                s = str(c.value).split("\n")[0]
                longest = max(longest, sum(2 if ord(ch) > 0x2E80 else 1 for ch in s))
        ws.column_dimensions[get_column_letter(idx)].width = min(cap, longest + 2)


def _header(ws: Worksheet, row: int, labels: Iterable[str]) -> None:
    for j, label in enumerate(labels, start=1):
        c = ws.cell(row=row, column=j, value=safe_cell(label))
        c.font = _HEAD_FONT
        c.fill = _HEAD_FILL
        c.alignment = _WRAP


# ---------------------------------------------------------------- agency workbook
def _cell_findings(findings: pd.DataFrame) -> dict[tuple[str, str, str | None, str | None], list[dict]]:
    """Findings by the cell they point at: (source, table, row, column); row/column None = wider."""
    out: dict[tuple[str, str, str | None, str | None], list[dict]] = {}
    if findings is None or findings.empty:
        return out
    for f in findings.to_dict("records"):
        table = f.get("table")
        if not isinstance(table, str) or not table:
            continue
        row = f.get("row") if isinstance(f.get("row"), str) else None
        col = f.get("column") if isinstance(f.get("column"), str) else None
        cells = f.get("cells")
        # A figure over several rows (不予公开 1–8) lists them all; older frames carry only row/column.
        places = [tuple(c) for c in cells] if isinstance(cells, list | tuple) and len(cells) else [(row, col)]
        for r, c in places:
            out.setdefault((str(f["source"]), table, r, c), []).append(f)
    return out


def _note(fs: list[dict]) -> Comment:
    text = "\n".join(f"[{f['rule']}] {f.get('message') or ''}" for f in fs)
    return Comment(safe_cell(text[:2000]) or "", "auditlib")


def _mark(cell: Any, fs: list[dict]) -> None:
    cell.fill = SEVERITY_FILL.get(worst(f["severity"] for f in fs), SEVERITY_FILL["warning"])
    cell.comment = _note(fs)


def _table_block(ws: Worksheet, start: int, report: Report, table: str, marks: dict) -> int:
    """Write one report's table from row ``start``; return the next free row."""
    pt = report.tables.get(table)
    if pt is None:
        return start
    df = report._frame(table)
    lay = pt.layout
    title = f"{report.meta.agency or ''} {report.meta.year or ''}年度 {lay.title}（{lay.format}版格式；来源 {report.source}）"
    tcell = ws.cell(row=start, column=1, value=safe_cell(title))
    tcell.font = Font(bold=True, size=12)
    whole = marks.get((report.source, table, None, None))
    if whole:
        _mark(tcell, whole)
    col_keys = [k for k, _ in df.columns]
    _header(ws, start + 1, ["年度", "项目", *[str(lbl) for _, lbl in df.columns]])
    r = start + 2
    for (row_key, label), values in zip(df.index, df.itertuples(index=False), strict=True):
        ws.cell(row=r, column=1, value=report.meta.year)
        lc = ws.cell(row=r, column=2, value=safe_cell(label))
        lc.alignment = _WRAP
        own = {c.key for c in lay.row(row_key).columns}
        row_marks = marks.get((report.source, table, row_key, None))
        if row_marks:
            _mark(lc, row_marks)
        for j, (col_key, v) in enumerate(zip(col_keys, values, strict=True), start=3):
            c = ws.cell(row=r, column=j)
            if col_key not in own:
                c.fill = _NA_FILL  # this row has no such column in the official format
                continue
            if v is None or pd.isna(v):
                raw = pt.raw.get((row_key, col_key))
                # Keep what was printed when it could not be read as a number.
                c.value = safe_cell(raw.strip()) if raw and raw.strip() else None
            else:
                c.value = safe_cell(v)
            fs = list(marks.get((report.source, table, row_key, col_key), []))
            if row_marks:
                fs += row_marks
            if fs:
                _mark(c, fs)
        r += 1
    return r + 1


def _findings_sheet(ws: Worksheet, findings: pd.DataFrame) -> None:
    _header(ws, 1, [*FINDINGS_HEADERS, *FINDINGS_EXTRA])
    ws.freeze_panes = "A2"
    if findings is None or findings.empty:
        ws.cell(row=2, column=1, value="未发现问题")
        _autowidth(ws)
        return
    for i, f in enumerate(findings.to_dict("records"), start=2):
        status = f.get("review_status") or "open"
        values = [
            f.get("rule"),
            severity_zh(f.get("severity")),
            f.get("location"),
            f.get("expected"),
            f.get("actual"),
            f.get("message"),
            f.get("evidence"),
            status_zh(status),
            f.get("review_note"),
            f.get("year"),
            f.get("reviewer"),
            f.get("reviewed_at"),
            f.get("source"),
            f.get("id"),
        ]
        for j, v in enumerate(values, start=1):
            c = ws.cell(row=i, column=j, value=safe_cell(v))
            c.alignment = _WRAP
        sev = ws.cell(row=i, column=2)
        sev.fill = SEVERITY_FILL.get(str(f.get("severity")), PatternFill())
    ws.auto_filter.ref = f"A1:{get_column_letter(len(FINDINGS_HEADERS) + len(FINDINGS_EXTRA))}{ws.max_row}"
    _autowidth(ws, {6: 50, 7: 50, 9: 30})


def build_agency_workbook(reports: list[Report], findings: pd.DataFrame | None) -> Workbook:
    """表二/表三/表四 (each report of the agency stacked by year) and 发现."""
    reports = sorted(reports, key=lambda r: (r.meta.year or 0, r.source))
    marks = _cell_findings(findings if findings is not None else pd.DataFrame())
    wb = Workbook()
    wb.remove(wb.active)
    for table, name in TABLE_NAMES.items():
        ws = wb.create_sheet(name)
        r = 1
        for rep in reports:
            r = _table_block(ws, r, rep, table, marks)
        if not reports:
            ws.cell(row=1, column=1, value="无可读取的报告")
        _autowidth(ws, {1: 8, 2: 40}, cap=18)
    _findings_sheet(wb.create_sheet("发现"), findings if findings is not None else pd.DataFrame())
    return wb


def write_agency_workbook(path: str | os.PathLike[str], reports: list[Report], findings: pd.DataFrame | None) -> Path:
    """Write the agency's workbook atomically.

    ``findings`` is a findings frame (see :func:`auditlib.findings.findings_frame`),
    ideally with the review columns of :meth:`ReviewStore.status_frame`.
    """
    return save_workbook(build_agency_workbook(reports, findings), path)


# ---------------------------------------------------------------- review export
def write_review_workbook(path: str | os.PathLike[str], reviewed: pd.DataFrame) -> Path:
    """The reviewed findings (see :meth:`ReviewStore.reviewed`) in one sheet 审核结果."""
    wb = Workbook()
    ws = wb.active
    ws.title = "审核结果"
    _header(ws, 1, REVIEW_HEADERS)
    ws.freeze_panes = "A2"
    for i, f in enumerate(reviewed.to_dict("records"), start=2):
        status = f.get("review_status") or f.get("status")
        values = [
            f.get("agency"),
            f.get("year"),
            f.get("rule"),
            severity_zh(f.get("severity")),
            f.get("location"),
            f.get("expected"),
            f.get("actual"),
            f.get("message"),
            f.get("evidence"),
            status_zh(status),
            f.get("note"),
            f.get("who"),
            f.get("decided_at"),
            f.get("source"),
            f.get("id"),
        ]
        for j, v in enumerate(values, start=1):
            ws.cell(row=i, column=j, value=safe_cell(v)).alignment = _WRAP
    if ws.max_row > 1:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(REVIEW_HEADERS))}{ws.max_row}"
    _autowidth(ws, {8: 50, 9: 50, 11: 30})
    return save_workbook(wb, path)
