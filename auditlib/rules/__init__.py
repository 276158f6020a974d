"""The rule registry: every check is a small declared unit with an identifier and severity.

A rule is a function decorated with :func:`rule`. Report rules see one parsed
report; corpus rules see every report audited at once (cross-year and outlier
checks) and must stay linear in the number of reports.

    @rule("T4_TOTAL", "error", "表四各组总计应等于四项结果之和", "a 表四 group's total ≠ sum of its parts")
    def t4_total(report, ctx): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlib.findings import Finding

if TYPE_CHECKING:
    from auditlib.agencies import AgencyYears
    from auditlib.report import Report

ReportCheck = Callable[..., Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title_zh: str
    title_en: str
    # "report" | "corpus" | "followup" (sees the other rules' findings)
    # | "input" (made by the pipeline, not by a check)
    scope: str
    check: ReportCheck | None


@dataclass
class Context:
    """What a rule may need beyond its report: the whole corpus and its figures."""

    reports: list[Report] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    # Agency name as written → canonical name, when the run has resolved them already.
    agencies: dict[str, str] | None = None
    # Auditors' earlier decisions, passed in by the caller (rules never read the
    # review store themselves): one dict per decided finding with its agency, year,
    # rule, location, evidence, status, note, who and decided_at.
    decisions: list[dict[str, Any]] = field(default_factory=list)


RULES: dict[str, Rule] = {}


def rule(
    id: str, severity: str, title_zh: str, title_en: str, scope: str = "report"
) -> Callable[[ReportCheck], ReportCheck]:
    def register(fn: ReportCheck) -> ReportCheck:
        if id in RULES and RULES[id].check is not fn:
            raise ValueError(f"rule {id} registered twice")
        RULES[id] = Rule(id, severity, title_zh, title_en, scope, fn)
        return fn

    return register


def declare(id: str, severity: str, title_zh: str, title_en: str) -> None:
    """A rule whose findings the pipeline itself makes (a file that cannot be read): listed, never run."""
    if id in RULES and RULES[id].check is not None:
        raise ValueError(f"rule {id} registered twice")
    RULES[id] = Rule(id, severity, title_zh, title_en, "input", None)


def agency_years(reports: list[Report], ctx: Context) -> AgencyYears:
    """The corpus grouped by agency and year, once per audit (shared by the cross-year rules)."""
    from auditlib.agencies import group_by_agency

    if "agency_years" not in ctx.cache:
        ctx.cache["agency_years"] = group_by_agency(reports, ctx.agencies)
    return ctx.cache["agency_years"]


def load_all() -> dict[str, Rule]:
    """Import the rule modules (registration happens on import)."""
    from auditlib.rules import (  # noqa: F401
        crossyear,
        dates,
        followup,
        inputs,
        narrative,
        ocr,
        outliers,
        peers,
        structure,
        tables,
    )

    return RULES


def make(report: Report, rule_id: str, location: str, message: str, evidence: str, **kw: Any) -> Finding:
    """A finding of ``rule_id`` on ``report``, with the rule's severity unless overridden."""
    r = RULES[rule_id]
    severity = kw.pop("severity", r.severity)
    return Finding(
        source=report.source,
        agency=report.meta.agency,
        year=report.meta.year,
        rule=rule_id,
        severity=severity,
        location=location,
        message=message,
        evidence=evidence,
        digest=report.digest,
        **kw,
    )
