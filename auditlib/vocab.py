"""The words every output uses, defined once: severities, review statuses, rule labels.

The CLI, the Excel workbooks, the papermill sheets, the stepper and the dashboard
all read these tables, so a new severity, status or colour is one edit here.
Two palettes are kept on purpose: ``fill`` is the pale background a cell or badge
gets (Excel's own bad / neutral / note fills), ``colour`` the strong colour of a
bar in a chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Severity:
    id: str
    rank: int  # 0 = most serious; sorts findings and picks a cell's worst
    zh: str
    icon: str  # the CLI's marker
    fill: str  # "#RRGGBB" background for a cell or badge
    colour: str  # "#rrggbb" for a chart


@dataclass(frozen=True)
class Status:
    id: str
    zh: str
    fill: str
    colour: str


SEVERITY: dict[str, Severity] = {
    s.id: s
    for s in (
        Severity("error", 0, "错误", "✗", "#FFC7CE", "#d62728"),
        Severity("warning", 1, "警告", "⚠", "#FFEB9C", "#ff7f0e"),
        Severity("info", 2, "提示", "ℹ", "#DDEBF7", "#1f77b4"),
    )
}
SEVERITIES: tuple[str, ...] = tuple(SEVERITY)
# The severities that count against a report (a report with only info findings is clean).
SERIOUS: tuple[str, ...] = ("error", "warning")

STATUS: dict[str, Status] = {
    s.id: s
    for s in (
        Status("open", "待审核", "#FFFFFF", "#9e9e9e"),
        Status("confirmed", "已确认", "#C6EFCE", "#d62728"),
        Status("dismissed", "已驳回", "#E7E6E6", "#2ca02c"),
        Status("resolved", "已解决", "#DDEBF7", "#1f77b4"),
    )
}
REVIEW_STATUSES: tuple[str, ...] = tuple(STATUS)
# What a reviewer may record; "open" and "resolved" are set by the store itself.
DECISIONS: tuple[str, ...] = ("confirmed", "dismissed")

# A finding's fields as their column headings in every Chinese table (sheet, stepper, exports).
FIELD_ZH: dict[str, str] = {
    "agency": "机关",
    "region": "地区",
    "year": "年度",
    "severity": "严重程度",
    "rule": "规则",
    "location": "位置",
    "place": "原文位置",
    "message": "说明",
    "expected": "预期",
    "actual": "实际",
    "evidence": "原文证据",
    "review_status": "审核状态",
    "review_note": "审核备注",
    "reviewer": "审核人",
    "reviewed_at": "审核时间",
    "source": "来源文件",
    "id": "编号",
}

SEVERITY_ZH: dict[str, str] = {k: s.zh for k, s in SEVERITY.items()}
STATUS_ZH: dict[str, str] = {k: s.zh for k, s in STATUS.items()}
# Unknown severities sort after every known one.
UNKNOWN_RANK = len(SEVERITY)


def severity_rank(severity: str | None) -> int:
    s = SEVERITY.get(str(severity))
    return s.rank if s is not None else UNKNOWN_RANK


def worst(severities: Iterable[str]) -> str:
    """The most serious of some severities (they must not be empty)."""
    return min(severities, key=severity_rank)


def severity_zh(severity: Any) -> Any:
    """The Chinese label of a severity; anything unknown is shown as it is."""
    return SEVERITY_ZH.get(str(severity), severity)


def status_zh(status: Any) -> Any:
    """The Chinese label of a review status; anything unknown is shown as it is."""
    return STATUS_ZH.get(str(status), status)


def rule_label(rule_id: str) -> tuple[str, str]:
    """A rule's Chinese title and English gloss from the rule registry; unknown ids
    (a finding from an older run) label themselves."""
    from auditlib.rules import load_all

    r = load_all().get(rule_id)
    return (r.title_zh, r.title_en) if r is not None else (rule_id, rule_id)


def rule_labels() -> dict[str, tuple[str, str]]:
    """Every registered rule id → (Chinese title, English gloss)."""
    from auditlib.rules import load_all

    return {k: (r.title_zh, r.title_en) for k, r in load_all().items()}
