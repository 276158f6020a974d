"""Table rules: 勾稽关系 of 表三 and 表四, blank cells, and tables that do not fit their format."""

from __future__ import annotations

from collections.abc import Iterator

from auditlib.findings import Finding
from auditlib.layouts import T3_RESULT_ROWS_2019, T3_RESULT_ROWS_2021, TABLE_NAMES, Row
from auditlib.report import Report
from auditlib.rules import Context, make, rule
from auditlib.tables import ParsedTable


def _loc(pt: ParsedTable, row: str, col: str | None = None) -> str:
    label = pt.labels.get(row) or pt.layout.row(row).label
    out = f"{TABLE_NAMES[pt.table]} {label}"
    if col:
        out += " / " + next(c.label for c in pt.layout.row(row).columns if c.key == col)
    return out


def _sum(values: list[int | float | None]) -> tuple[int | float, int]:
    """Sum of the filled cells and how many were blank."""
    filled = [v for v in values if v is not None]
    return sum(filled), len(values) - len(filled)


def _shortfall(total: int | float | None, values: list[int | float | None]) -> tuple[int | float, int] | None:
    """(sum of the filled parts, blanks) when they disagree with ``total``; None when they agree
    or cannot be compared (no total, or every part blank)."""
    s, blanks = _sum(values)
    if total is None or blanks == len(values) or s == total:
        return None
    return s, blanks


def _unconfirmed(report: Report, table: str) -> set[tuple[str, str]]:
    """Cells read by OCR that the table's arithmetic did not confirm (left null): a sum over
    them would blame the report for what the scan hid, so OCR_UNVERIFIED speaks for them."""
    return {(c.row, c.column) for c in report.ocr_checks if c.table == table}


def _row_totals(pt: ParsedTable, skip: set[tuple[str, str]]) -> Iterator[tuple[Row, int | float, int | float, int]]:
    """Rows whose 总计 (the last column) is not the sum of their other cells: (row, total, sum, blanks)."""
    values = pt.values
    for row in pt.layout.rows:
        cells = [cell for cell, _ in row.cell_keys]
        if (skip and any(c in skip for c in cells)) or pt.unread(cells):
            continue
        total = values.get((row.key, "total"))
        found = _shortfall(total, [values.get(c) for c in cells[:-1]])
        if found is not None:
            yield row, total, *found


def _blank_note(blanks: int) -> str:
    return f"（另有{blanks}个单元格空白，只计已填数值）" if blanks else ""


def _t3(report: Report) -> ParsedTable | None:
    pt = report.tables.get("table3")
    return pt if pt and pt.found else None


@rule("T3_BALANCE", "error", "表三各列：第一项加第二项之和应等于第三项（七）总计加第四项", "表三: new + carried over ≠ total handled + carried forward, in a column")
def t3_balance(report: Report, ctx: Context) -> Iterator[Finding]:
    pt = _t3(report)
    if not pt:
        return
    for col in pt.layout.columns or ():
        c = col.key
        new, old = pt.get("new_received", c), pt.get("carried_over", c)
        done, fwd = pt.get("total_handled", c), pt.get("carried_forward", c)
        if None in (new, old, done, fwd):
            continue
        if new + old != done + fwd:
            yield make(
                report,
                "T3_BALANCE",
                f"表三 {col.label}列",
                f"表三“{col.label}”列：一、本年新收 {new} + 二、上年结转 {old} = {new + old}，"
                f"但（七）总计 {done} + 四、结转下年度 {fwd} = {done + fwd}"
                "（the columns' 一+二 ≠ 三（七）+四）",
                "\n".join(pt.row_text(r) for r in ("new_received", "carried_over", "total_handled", "carried_forward")),
                expected=new + old,
                actual=done + fwd,
                table="table3",
                row="total_handled",
                column=c,
                key=f"table3:{c}",
            )


@rule("T3_ROW_TOTAL", "error", "表三各行总计应等于六类申请人之和", "a 表三 row's total ≠ the sum of its six applicant columns")
def t3_row_total(report: Report, ctx: Context) -> Iterator[Finding]:
    pt = _t3(report)
    if not pt:
        return
    for row, total, s, blanks in _row_totals(pt, _unconfirmed(report, "table3")):
        yield make(
            report,
            "T3_ROW_TOTAL",
            _loc(pt, row.key, "total"),
            f"表三“{pt.labels.get(row.key) or row.label}”行：总计为 {total}，六类申请人合计 {s}{_blank_note(blanks)}"
            "（row total ≠ sum of applicant columns）",
            pt.row_text(row.key),
            expected=s,
            actual=total,
            table="table3",
            row=row.key,
            column="total",
            key=f"table3:{row.key}",
        )


@rule("T3_RESULTS_SUM", "error", "表三（七）总计应等于（一）至（六）各项办理结果之和", "表三 （七）总计 ≠ the sum of result rows （一）…（六）, in a column")
def t3_results_sum(report: Report, ctx: Context) -> Iterator[Finding]:
    pt = _t3(report)
    if not pt:
        return
    rows = T3_RESULT_ROWS_2019 if pt.layout.format == "2019" else T3_RESULT_ROWS_2021
    skip = _unconfirmed(report, "table3")
    for col in pt.layout.columns or ():
        if any((r, col.key) in skip for r in (*rows, "total_handled")):
            continue
        if pt.unread([(r, col.key) for r in [*rows, "total_handled"]]):
            continue  # a result row the reader could not place: the sum cannot be checked
        total = pt.get("total_handled", col.key)
        values = [pt.get(r, col.key) for r in rows]
        found = _shortfall(total, values)
        if found is None:
            continue
        s, blanks = found
        blank_rows = [pt.labels.get(r) or pt.layout.row(r).label for r, v in zip(rows, values, strict=True) if v is None]
        yield make(
            report,
            "T3_RESULTS_SUM",
            _loc(pt, "total_handled", col.key),
            f"表三“{col.label}”列：（七）总计为 {total}，但（一）至（六）各项合计 {s}{_blank_note(blanks)}"
            "（total handled ≠ sum of the result rows）",
            pt.row_text("total_handled") + ("\n空白行：" + "、".join(blank_rows) if blank_rows else ""),
            expected=total,
            actual=s,
            table="table3",
            row="total_handled",
            column=col.key,
            key=f"table3:{col.key}",
        )


@rule("T4_TOTAL", "error", "表四各组总计应等于维持、纠正、其他、尚未审结四项之和", "a 表四 group's total ≠ the sum of its four parts")
def t4_total(report: Report, ctx: Context) -> Iterator[Finding]:
    pt = report.tables.get("table4")
    if not pt or not pt.found:
        return
    for row, total, s, blanks in _row_totals(pt, _unconfirmed(report, "table4")):
        yield make(
            report,
            "T4_TOTAL",
            _loc(pt, row.key, "total"),
            f"表四“{row.label}”：总计为 {total}，四项结果合计 {s}{_blank_note(blanks)}（group total ≠ sum of parts）",
            pt.row_text(row.key),
            expected=s,
            actual=total,
            table="table4",
            row=row.key,
            column="total",
            key=f"table4:{row.key}",
        )


@rule("TABLE_CELL_MISSING", "warning", "表格单元格空白或无法识别", "a cell of 表二/三/四 is blank or unreadable")
def cell_missing(report: Report, ctx: Context) -> Iterator[Finding]:
    for name in ("table2", "table3", "table4"):
        pt = report.tables.get(name)
        if not pt or not pt.found:
            continue
        by_row: dict[str, list[str]] = {}
        for row, col in pt.missing:
            by_row.setdefault(row, []).append(col)
        for row in pt.layout.rows:
            cols = by_row.get(row.key)
            if not cols:
                continue
            labels = [c.label for c in row.columns if c.key in cols]
            unreadable = [
                pt.raw.get((row.key, c)) for c in cols if pt.raw.get((row.key, c)) and pt.raw[(row.key, c)].strip()
            ]
            what = "无法识别为数字" if unreadable else "空白"
            yield make(
                report,
                "TABLE_CELL_MISSING",
                _loc(pt, row.key, cols[0] if len(cols) == 1 else None),
                f"{TABLE_NAMES[name]}“{pt.labels.get(row.key) or row.label}”有{len(cols)}个单元格{what}："
                f"{'、'.join(labels)}（blank or unreadable cells; counted as unknown, not 0）",
                pt.row_text(row.key),
                table=name,
                row=row.key,
                column=cols[0] if len(cols) == 1 else None,
                key=f"{name}:{row.key}:{','.join(cols)}",
                extra={"columns": cols},
            )


@rule("TABLE_SHAPE", "warning", "表格的单元格数与规定格式不符（无法确定的值置空）", "a table has more or fewer cells than its format allows")
def table_shape(report: Report, ctx: Context) -> Iterator[Finding]:
    for name in ("table2", "table3", "table4"):
        pt = report.tables.get(name)
        if pt is None:
            continue
        if pt.unreadable:
            # Once per table: its cells are null because it could not be read, not because
            # the report left them blank, so no other table rule speaks of them.
            yield make(
                report,
                "TABLE_SHAPE",
                f"{TABLE_NAMES[name]}",
                f"{pt.layout.title}：{pt.unreadable}",
                "",
                table=name,
                key=f"{name}:unreadable",
            )
            continue
        if not pt.found:
            yield make(
                report,
                "TABLE_SHAPE",
                f"{TABLE_NAMES[name]}",
                f"找不到{pt.layout.title}（table not found in the report）",
                "",
                table=name,
                key=f"{name}:absent",
            )
            continue
        for w in pt.warnings:
            where = _loc(pt, w.row) if w.row else TABLE_NAMES[name]
            yield make(
                report,
                "TABLE_SHAPE",
                where,
                f"{where}：{w.message}（cells do not fit the official layout; unplaceable values left empty）",
                w.seen,
                table=name,
                row=w.row,
                key=f"{name}:{w.row}",
            )
