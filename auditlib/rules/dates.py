"""Dates: missing, before the reporting year was over, or after the deadline for the agency's kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from auditlib.findings import Finding
from auditlib.report import Report
from auditlib.rules import Context, agency_years, make, rule
from auditlib.rules.deadlines import Deadlines


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


def _deadlines(ctx: Context) -> Deadlines:
    if "deadlines" not in ctx.cache:
        ctx.cache["deadlines"] = Deadlines.load()
    return ctx.cache["deadlines"]


# A corpus rule although it looks at one report at a time: the deadline depends on the
# user's deadline table and on the agency's full name as the corpus knows it (城中街道办 →
# 柳州市城中区城中街道办事处), neither of which is part of a report's cached findings.
@rule(
    "LATE_PUBLICATION",
    "warning",
    "晚于规定期限公布：部门次年1月31日、县级以上地方人民政府本级报告次年3月31日，地方另有规定的从其规定（条例第四十九条）",
    "signed or published after the deadline for the agency's kind (31 January; 31 March for a government's own report; local rules where configured)",
    scope="corpus",
)
def late_publication(reports: list[Report], ctx: Context) -> Iterator[Finding]:
    table = _deadlines(ctx)
    names = agency_years(reports, ctx).names
    for report in reports:
        yield from _late(report, table, names)


def _late(report: Report, table: Deadlines, names: dict[str, str]) -> Iterator[Finding]:
    year = report.meta.year
    if year is None:
        return
    end = dt.date(year, 12, 31)
    # An impossible date (before the year ended) says nothing about lateness.
    plausible = [(w, d, t) for w, d, t in _dates(report) if d > end]
    if not plausible:
        return
    # The publication date is what 第四十九条 is about; a signing date stands in for it.
    what, d, text = next((x for x in plausible if x[0] == "发布日期"), plausible[0])
    agency = report.meta.agency
    rule_ = table.for_agency(names.get(agency, agency) if agency else None)
    deadline = rule_.date(year)
    if d > deadline:
        days = (d - deadline).days
        yield make(
            report,
            "LATE_PUBLICATION",
            what,
            f"{what}为{d.year}年{d.month}月{d.day}日，晚于公布期限{deadline.year}年{deadline.month}月{deadline.day}日{days}天。"
            f"适用：{rule_.describe()}"
            f"（{what} {d.isoformat()} is {days} days after the {deadline.isoformat()} deadline for a {rule_.kind}）",
            text,
            key=what,
            extra={"deadline": deadline.isoformat(), "agency_kind": rule_.kind, "deadline_region": rule_.region},
        )
