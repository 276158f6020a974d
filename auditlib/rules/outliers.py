"""Across all reports audited: shares of requests handled one way that are far from the rest."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

from auditlib.findings import Finding
from auditlib.report import Report
from auditlib.rules import Context, make, rule

SHARES = {
    "不予公开": [
        "denied_state_secret",
        "denied_prohibited_by_law",
        "denied_security_stability",
        "denied_third_party",
        "denied_internal_affairs",
        "denied_process_info",
        "denied_enforcement_file",
        "denied_administrative_query",
    ],
    "无法提供": ["unable_not_held", "unable_needs_creation", "unable_unclear"],
    "不予处理": [
        "rejected_complaint",
        "rejected_duplicate",
        "rejected_publication",
        "rejected_excessive",
        "rejected_confirmation",
    ],
}
MIN_HANDLED = 20  # a share of a handful of requests is not a rate
MIN_CORPUS = 8
MIN_GAP = 0.15  # never call a share an outlier for less than 15 points


def _share(report: Report, rows: list[str]) -> tuple[float, int, int] | None:
    pt = report.tables["table3"]
    total = pt.get("total_handled", "total")
    if not pt.found or total is None or total < MIN_HANDLED:
        return None
    parts = [pt.get(r, "total") for r in rows]
    if any(p is None for p in parts):
        return None
    n = int(sum(parts))
    return n / total, n, int(total)


@rule("OUTLIER_RATE", "info", "某类办理结果占比明显偏离其他被审报告", "a share (不予公开, 无法提供, 不予处理) far from the other reports audited", scope="corpus")
def outlier_rate(reports: list[Report], ctx: Context) -> Iterator[Finding]:
    for name, rows in SHARES.items():
        shares = {id(r): s for r in reports if (s := _share(r, rows)) is not None}
        if len(shares) < MIN_CORPUS:
            continue
        values = [s[0] for s in shares.values()]
        median = statistics.median(values)
        mad = statistics.median(abs(v - median) for v in values) * 1.4826
        limit = max(3 * mad, MIN_GAP)
        for r in reports:
            s = shares.get(id(r))
            if s is None or abs(s[0] - median) <= limit:
                continue
            share, n, total = s
            side = "高于" if share > median else "低于"
            yield make(
                r,
                "OUTLIER_RATE",
                f"表三 （七）总计 / {name}",
                f"{name}占办理总数的 {share:.1%}（{n}/{total}），{side}所审 {len(values)} 份报告的中位数 {median:.1%}"
                f"（{name} share far from the corpus median）",
                r.tables["table3"].row_text("total_handled"),
                expected=round(median, 4),
                actual=round(share, 4),
                table="table3",
                row="total_handled",
                column="total",
                key=f"outlier:{name}",
                extra={"corpus_median": median, "corpus_n": len(values)},
            )
