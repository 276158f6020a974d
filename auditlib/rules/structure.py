"""Structure and format: sections, format version, title, the 信息处理费 statement."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditlib.findings import Finding
from auditlib.layouts import TABLE_NAMES
from auditlib.report import Report
from auditlib.rules import Context, make, rule
from auditlib.sections import SECTION_NUMERALS, SECTION_TITLES
from auditlib.tables import ParsedTable


@rule("SECTION_MISSING", "warning", "缺少规定的章节", "one of the six sections cannot be found")
def section_missing(report: Report, ctx: Context) -> Iterator[Finding]:
    found = "、".join(s.heading for s in report.sections.values()) or "（无）"
    for n in SECTION_NUMERALS:
        if n not in report.sections:
            title = f"{n}、{SECTION_TITLES[n]}"
            yield make(
                report,
                "SECTION_MISSING",
                title,
                f"找不到第{n}部分“{title}”（section {n} not found）",
                f"找到的章节标题：{found}",
                key=n,
            )


@rule("FORMAT_OUTDATED", "warning", "2021年及以后的报告仍使用2019年格式", "a report on 2021 or later uses the 2019 format")
def format_outdated(report: Report, ctx: Context) -> Iterator[Finding]:
    year = report.meta.year
    if year is None or year < 2021:
        return
    # Judged per table: a report may keep one old table beside new ones.
    old = [pt for pt in report.tables.values() if pt.found and pt.layout.format == "2019" and pt.table != "table4"]
    if not old:
        return
    names = "、".join(TABLE_NAMES[pt.table] for pt in old)
    seen = "；".join(f"{TABLE_NAMES[pt.table]}印有“{pt.format_seen}”" for pt in old if pt.format_seen)
    evidence = "\n".join(pt.row_text("other") if pt.table == "table3" else _t2_header(pt) for pt in old)
    yield make(
        report,
        "FORMAT_OUTDATED",
        names,
        f"{year}年度报告应使用2021年格式（国办公开办函〔2021〕30号），但{names}仍为2019年试行格式"
        + (f"（{seen}）" if seen else "")
        + f"（2019 format used in {names} of a report on 2021 or later）",
        evidence,
        table=old[0].table if len(old) == 1 else None,
        key="format",
    )


def _t2_header(pt: ParsedTable) -> str:
    """表二 of 2019 shows itself by its columns: the first row as printed, with its column names."""
    row = pt.layout.rows[0]
    return f"{TABLE_NAMES[pt.table]}（{'、'.join(c.label for c in row.columns)}）：{pt.row_text(row.key)}"


@rule("TITLE_AGENCY_MISSING", "warning", "标题未写明报告机关（需从正文推断）", "the title does not name the agency")
def title_agency_missing(report: Report, ctx: Context) -> Iterator[Finding]:
    m = report.meta
    if m.title is None or m.title_agency:
        return
    inferred = f"，据{'落款' if m.agency_source == 'signature' else '正文'}推断为“{m.agency}”" if m.agency else "，正文中也找不到"
    yield make(
        report,
        "TITLE_AGENCY_MISSING",
        "标题",
        f"标题“{m.title}”没有写明是哪个机关的报告{inferred}（title does not name the reporting agency）",
        m.title,
        key="title",
    )


_FEE = re.compile(r"信息处理费|收费|收取|费用|不收费|未收费|免费")


@rule("FEE_NOT_REPORTED", "warning", "2021年格式报告第六部分未说明信息处理费收取情况", "section 六 of a 2021-format report says nothing of 信息处理费")
def fee_not_reported(report: Report, ctx: Context) -> Iterator[Finding]:
    if report.format != "2021":
        return
    text = report.section_texts.get("六")
    if text is None:
        text = report.narrative  # no section 六: the statement may still be elsewhere
    if _FEE.search(text):
        return
    six = report.sections.get("六")
    yield make(
        report,
        "FEE_NOT_REPORTED",
        six.heading if six else "六、其他需要报告的事项",
        "第六部分没有说明信息处理费的收取情况（国办函〔2020〕109号要求说明；"
        "section 六 does not state the information processing fees charged）",
        (text.strip() or "（空）")[:200] if six else "（无第六部分）",
        key="fee",
    )
