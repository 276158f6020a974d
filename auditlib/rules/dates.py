"""Dates: missing, before the reporting year was over, or after the 31 January deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from auditlib.findings import Finding
from auditlib.report import Report
from auditlib.rules import Context, make, rule


def _dates(report: Report) -> list[tuple[str, dt.date, str]]:
    m = report.meta
    out = []
    if m.signed_on:
        out.append(("落款日期", m.signed_on, m.signed_text or ""))
    if m.published_on:
        out.append(("发布日期", m.published_on, m.published_text or ""))
    return out


@rule("DATE_MISSING", "warning", "报告没有落款日期或发布日期", "no signing or publication date can be found")
def date_missing(report: Report, ctx: Context) -> Iterator[Finding]:
    if not _dates(report):
        yield make(
            report,
            "DATE_MISSING",
            "落款",
            "报告末尾没有落款日期，也没有印出的发布日期，无法判断是否按时公布（no date on the report）",
            (report.narrative.strip().splitlines() or [""])[-1][:200],
            key="date",
        )


@rule("DATE_IMPLAUSIBLE", "error", "落款或发布日期早于报告年度结束", "a signing or publication date falls before the reporting year is over")
def date_implausible(report: Report, ctx: Context) -> Iterator[Finding]:
    year = report.meta.year
    if year is None:
        return
    end = dt.date(year, 12, 31)
    for what, d, text in _dates(report):
        if d <= end:
            yield make(
                report,
                "DATE_IMPLAUSIBLE",
                what,
                f"{what}为{d.year}年{d.month}月{d.day}日，早于{year}年度结束，不可能（疑为笔误）"
                f"（{what} {d.isoformat()} is before the {year} reporting year was over）",
                text,
                key=what,
            )


@rule("LATE_PUBLICATION", "warning", "晚于次年1月31日公布（条例第四十九条）", "signed or published after 31 January of the next year")
def late_publication(report: Report, ctx: Context) -> Iterator[Finding]:
    year = report.meta.year
    if year is None:
        return
    deadline = dt.date(year + 1, 1, 31)
    end = dt.date(year, 12, 31)
    # An impossible date (before the year ended) says nothing about lateness.
    plausible = [(w, d, t) for w, d, t in _dates(report) if d > end]
    if not plausible:
        return
    # The publication date is what 第四十九条 is about; a signing date stands in for it.
    what, d, text = next((x for x in plausible if x[0] == "发布日期"), plausible[0])
    if d > deadline:
        days = (d - deadline).days
        yield make(
            report,
            "LATE_PUBLICATION",
            what,
            f"{what}为{d.year}年{d.month}月{d.day}日，晚于{year + 1}年1月31日的期限{days}天"
            f"（条例第四十九条；{what} {d.isoformat()} is {days} days after the 31 January deadline）",
            text,
            key=what,
        )
