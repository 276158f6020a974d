"""Across years of one agency: carry-over, the stock of documents in force, copied text.

Reports are grouped by agency once (linear in the corpus); each report is then
compared only with the same agency's report of the year before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditlib.findings import Finding
from auditlib.report import Report
from auditlib.rules import Context, agency_years, make, rule


def consecutive(reports: list[Report], ctx: Context) -> Iterator[tuple[Report, Report]]:
    """(previous year, this year) pairs of the same agency."""
    for years in agency_years(reports, ctx).years.values():
        for y, r in sorted(years.items()):
            prev = years.get(y - 1)
            if prev is not None:
                yield prev, r


@rule("CARRYOVER_MISMATCH", "error", "上年结转数与上一年度报告的结转下年度数不一致", "上年结转 ≠ the previous year's 结转下年度", scope="corpus")
def carryover(reports: list[Report], ctx: Context) -> Iterator[Finding]:
    for prev, cur in consecutive(reports, ctx):
        pt, pp = cur.tables["table3"], prev.tables["table3"]
        if not (pt.found and pp.found):
            continue
        for col in pt.layout.columns or ():
            now, then = pt.get("carried_over", col.key), pp.get("carried_forward", col.key)
            if now is None or then is None or now == then:
                continue
            yield make(
                cur,
                "CARRYOVER_MISMATCH",
                f"表三 {pt.labels.get('carried_over') or '二、上年结转政府信息公开申请数量'} / {col.label}",
                f"本年度“上年结转”{col.label}为 {now}，但{prev.meta.year}年度报告“结转下年度继续办理”为 {then}"
                f"（carried over ≠ last year's carried forward）",
                f"{cur.meta.year}年：{pt.row_text('carried_over')}\n{prev.meta.year}年：{pp.row_text('carried_forward')}",
                expected=then,
                actual=now,
                table="table3",
                row="carried_over",
                column=col.key,
                key=f"carry:{prev.digest}:{col.key}",
            )


@rule("STOCK_MISMATCH", "warning", "现行有效件数与上年现行有效 + 本年制发 − 本年废止不符", "现行有效 ≠ last year's in force + issued − repealed", scope="corpus")
def stock(reports: list[Report], ctx: Context) -> Iterator[Finding]:
    for prev, cur in consecutive(reports, ctx):
        # Only the 2021 format counts documents in force; 2019's 对外公开总数量 is another figure.
        t, p = cur.tables["table2"], prev.tables["table2"]
        if t.layout.format != "2021" or p.layout.format != "2021":
            continue
        for row in ("regulations", "normative_documents"):
            last, issued, repealed, now = (
                p.get(row, "in_force"),
                t.get(row, "issued"),
                t.get(row, "repealed"),
                t.get(row, "in_force"),
            )
            if None in (last, issued, repealed, now):
                continue
            want = last + issued - repealed
            if want == now:
                continue
            label = t.labels.get(row) or t.layout.row(row).label
            yield make(
                cur,
                "STOCK_MISMATCH",
                f"表二 {label} / 现行有效件数",
                f"{label}：上年现行有效 {last} + 本年制发 {issued} − 本年废止 {repealed} = {want}，"
                f"但本年现行有效为 {now}（in force ≠ last year's in force + issued − repealed）",
                f"{cur.meta.year}年：{t.row_text(row)}\n{prev.meta.year}年：{p.row_text(row)}",
                expected=want,
                actual=now,
                table="table2",
                row=row,
                column="in_force",
                key=f"stock:{prev.digest}:{row}",
            )


DIGITS = re.compile(r"[0-9０-９〇零一二三四五六七八九十百千万]+")
CLAUSE_BREAK = re.compile(r"[\s，。；：、,.;:！!？?“”\"'（）()《》【】\[\]—…·]+")
MIN_CLAUSE = 6  # shorter clauses (为进一步…) recur in every report
COPY_THRESHOLD = 0.6


def prose(report: Report) -> str:
    """The text an agency writes about its own year: sections 一 and 五 (the whole narrative if neither is found)."""
    parts = [report.section_texts.get(n, "") for n in ("一", "五")]
    return "\n".join(p for p in parts if p) or report.narrative


def _clauses(report: Report, ctx: Context) -> dict[str, int]:
    """The narrative's clauses, numbers masked (they change even in a copied report), once per report."""
    cache = ctx.cache.setdefault("clauses", {})
    key = id(report)
    if key not in cache:
        masked = DIGITS.sub("#", prose(report))
        cache[key] = {c: len(c) for c in CLAUSE_BREAK.split(masked) if len(c) >= MIN_CLAUSE}
    return cache[key]


@rule("COPY_OF_PREVIOUS", "warning", "正文与上一年度报告大量雷同", "the narrative is largely the same text as the agency's previous report", scope="corpus")
def copy_of_previous(reports: list[Report], ctx: Context) -> Iterator[Finding]:
    for prev, cur in consecutive(reports, ctx):
        now, then = _clauses(cur, ctx), _clauses(prev, ctx)
        size = sum(now.values())
        if size < 200 or not then:
            continue
        share = sum(n for c, n in now.items() if c in then) / size
        if share < COPY_THRESHOLD:
            continue
        same = max((c for c in now if c in then), key=len)
        yield make(
            cur,
            "COPY_OF_PREVIOUS",
            "一、总体情况；五、存在的主要问题及改进情况",
            f"正文与{prev.meta.year}年度报告有 {share:.0%} 相同（数字除外），疑似照搬上年内容"
            f"（{share:.0%} of the narrative repeats last year's report; 2021 format forbids 内容雷同）",
            f"两年相同的一句：{same.replace('#', '…')}",
            actual=round(share, 3),
            key=f"copy:{prev.digest}",
        )
