"""How each table of a parsed report was found: `auditlib parse FILE --explain`.

For an auditor who doubts a number, or a developer whose new layout came out
empty: where the table stood (page, and whether a PDF table came from its
ruling lines or was rebuilt from word positions), which rows were matched and
by what label as printed, and every cell left empty with the reason.
"""

from __future__ import annotations

from auditlib.blocks import Table
from auditlib.layouts import TABLE_NAMES
from auditlib.numbers import squash
from auditlib.report import Report
from auditlib.tables import ParsedTable

_HOW = {
    "rules": "PDF 表格线（pdfplumber 网格）",
    "words": "PDF 无表格线，按文字位置重建 (no ruling lines: rebuilt from word positions)",
    "ocr": "扫描页，文字识别（OCR）读取 (scanned page read by OCR)",
}
_KIND = {"docx": "Word 表格", "html": "网页表格", "text": "文本中的表格行", "pdf": "PDF"}
_SECTION_OF = {"table2": "二", "table3": "三", "table4": "四"}


def explain(report: Report) -> str:
    """A readable account of how 表二, 表三 and 表四 were read."""
    out = [f"解析过程 (how the tables were read) — {report.source}（{_KIND.get(report.document.kind, report.document.kind)}）"]
    for name, pt in report.tables.items():
        out.append("")
        fmt = "" if name == "table4" else f"（{pt.layout.format}版格式 layout）"  # 表四 is the same in both
        out.append(f"{TABLE_NAMES[name]}{fmt}")
        out.extend("  " + line for line in _where(report, name))
        if not pt.found:
            out.append("  未找到该表：所在章节中没有任何一行能按规定标签识别 (table not found)")
            continue
        matched = [r for r in pt.layout.rows if r.key in pt.labels]
        out.append(f"  识别的行 (rows matched): {len(matched)}/{len(pt.layout.rows)}")
        for row in pt.layout.rows:
            if row.key not in pt.labels:
                out.append(f"    ✗ {row.label}：找不到这一行 (row not found)")
                continue
            printed = pt.labels[row.key]
            where = _at(report, pt.lines.get(row.key))
            how = "" if squash(printed) == squash(row.label) else f" ← 原文标签“{printed}”"
            values = "｜".join("空" if pt.values.get((row.key, c.key)) is None else str(pt.values[(row.key, c.key)]) for c in row.columns)
            out.append(f"    ✓ {row.label}{how}{' ' + where if where else ''}：{values}")
        empty = _empty_cells(pt)
        if empty:
            out.append(f"  留空的单元格 (cells left empty): {len(empty)}")
            out.extend(f"    · {line}" for line in empty)
        for w in pt.warnings:
            out.append(f"  ⚠ {w}")
    return "\n".join(out) + "\n"


def _at(report: Report, line: int | None) -> str:
    # A PDF row is known by its table's pages (given above it), not a page of its own.
    if line is None or report.document.kind == "pdf":
        return ""
    return f"第{line}行"


def _where(report: Report, name: str) -> list[str]:
    section = report.sections.get(_SECTION_OF[name])
    blocks = report.document.blocks
    start, end = (section.start + 1, section.end) if section else (0, len(blocks))
    where = f"在第{_SECTION_OF[name]}部分“{section.heading}”之下" if section else "（找不到所在章节，在全文中查找）"
    tables = [b for b in blocks[start:end] if isinstance(b, Table)]
    if not tables:
        return [f"{where}：没有表格，按文字行读取 (no table markup: read from text lines)"]
    lines = [f"{where}：{len(tables)} 个表格"]
    for t in tables:
        if t.pages:
            pages = "、".join(str(p) for p in t.pages)
            how = "；".join(_HOW.get(h, h) for h in t.how.split("+"))
            joined = "（跨页续表已合并，重复的表头行只保留一次）" if len(t.pages) > 1 else ""
            lines.append(f"  第{pages}页，{len(t.rows)} 行：{how}{joined}")
        else:
            lines.append(f"  {_KIND.get(report.document.kind, '表格')}，{len(t.rows)} 行" + (f"，第{t.line}行起" if t.line else ""))
    return lines


def _empty_cells(pt: ParsedTable) -> list[str]:
    notes: list[str] = []
    not_found = {r.key for r in pt.layout.rows if r.key not in pt.labels}
    for row in pt.layout.rows:
        if row.key in not_found:
            continue
        for col in row.columns:
            cell = (row.key, col.key)
            if pt.values.get(cell) is not None:
                continue
            raw = pt.raw.get(cell)
            if cell in pt.uncertain:
                why = "该行单元格数与格式不符，无法确定对应的列 (cells do not fit the row: column uncertain)"
            elif raw is None or not squash(raw):
                why = "原文空白 (blank in the report)"
            else:
                why = f"原文“{raw}”不是数字 (not a number)"
            notes.append(f"{row.label} / {col.label}：{why}")
    if not_found:
        notes.append(f"{len(not_found)} 行未找到，其单元格全部留空 (rows not found: all their cells empty)")
    return notes
