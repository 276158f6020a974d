"""Next year's follow-up: problems an auditor confirmed last year, and problems the
agency itself wrote down last year, that are still there.

FOLLOWUP_OPEN needs the auditors' decisions. They are handed in through
``Context.decisions`` by whoever runs the audit (the review store is never read
from here: data flows from the store into the audit, not back).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from auditlib.agencies import agency_key, resolve
from auditlib.clock import beijing_text
from auditlib.findings import Finding
from auditlib.numbers import squash
from auditlib.report import Report
from auditlib.rules import Context, make, rule
from auditlib.rules.crossyear import consecutive


def _place(location: Any) -> str:
    return squash(str(location or ""))


@rule(
    "FOLLOWUP_OPEN",
    "error",
    "上一年度经审核确认的问题本年度仍然存在",
    "a finding an auditor confirmed on the agency's previous report appears again",
    scope="followup",
)
def followup_open(findings: list[Finding], reports: list[Report], ctx: Context) -> Iterator[Finding]:
    confirmed = [d for d in ctx.decisions if d.get("status") == "confirmed" and d.get("agency") and d.get("year")]
    if not confirmed or not findings:
        return
    by_source = {r.source: r for r in reports}
    # Last year's agency names and this year's are matched like the corpus's own names.
    canon = resolve([*(r.meta.agency for r in reports), *(d["agency"] for d in confirmed)])
    earlier: dict[tuple[str, int, str, str], dict[str, Any]] = {}
    for d in confirmed:
        k = (canon.get(d["agency"], agency_key(d["agency"])), int(d["year"]), str(d["rule"]), _place(d["location"]))
        # The latest decision on a place speaks for it.
        if k not in earlier or str(d.get("decided_at") or "") > str(earlier[k].get("decided_at") or ""):
            earlier[k] = d
    for f in findings:
        report = by_source.get(f.source)
        if report is None or f.rule == "FOLLOWUP_OPEN" or not f.agency or not f.year:
            continue
        d = earlier.get((canon.get(f.agency, agency_key(f.agency)), f.year - 1, f.rule, _place(f.location)))
        if d is None:
            continue
        note = str(d.get("note") or "").strip()
        when = beijing_text(d.get("decided_at"))
        decided = f"{when}由{d.get('who') or '审核人'}确认" + (f"，备注：“{note}”" if note else "（无备注）")
        yield make(
            report,
            "FOLLOWUP_OPEN",
            f.location,
            f"{d['year']}年度报告的同一问题（{f.rule}）已于{decided}；本年度报告仍然存在：{f.message}"
            f"（a finding confirmed on last year's report appears again）",
            f.evidence,
            expected=f.expected,
            actual=f.actual,
            table=f.table,
            row=f.row,
            column=f.column,
            key=f"followup:{f.rule}:{f.key or f.location}",
            extra={"previous_finding": d.get("finding_id"), "previous_note": note, "previous_decided_at": when},
        )


# ------------------------------------------------------------------ PROBLEM_REPEATED
_SENTENCE = re.compile(r"[。；;！!？?\n]+")
_ENUM = re.compile(r"^\s*(?:[（(]?[一二三四五六七八九十\d]{1,3}[）)、.．]|[一二三四]是)\s*")
MIN_SENTENCE = 15  # shorter sentences (存在的主要问题) are headings or formulas every report shares
# Words with which a report states a shortcoming (as opposed to what it will do about it).
_PROBLEM = re.compile(r"问题|不足|差距|有待|不够|不强|不高|不全|欠缺|薄弱|滞后|不到位|不平衡|不规范|不及时|需要进一步|仍需|还需")


def _problem_sentences(text: str) -> dict[str, str]:
    """Section 五's sentences that state a problem: normalised form → as printed."""
    out: dict[str, str] = {}
    for s in _SENTENCE.split(text):
        printed = _ENUM.sub("", s.strip())
        norm = squash(printed).strip("，,：:")
        if len(norm) >= MIN_SENTENCE and _PROBLEM.search(norm):
            out.setdefault(norm, printed)
    return out


@rule(
    "PROBLEM_REPEATED",
    "warning",
    "“存在的主要问题”与上一年度报告逐字相同",
    "section 五 states the same problems, in the same words, as the agency's previous report",
    scope="corpus",
)
def problem_repeated(reports: list[Report], ctx: Context) -> Iterator[Finding]:
    for prev, cur in consecutive(reports, ctx):
        now, then = cur.section_texts.get("五", ""), prev.section_texts.get("五", "")
        if not now or not then:
            continue
        mine, theirs = _problem_sentences(now), _problem_sentences(then)
        same = [printed for norm, printed in mine.items() if norm in theirs]
        if not same:
            continue
        heading = cur.sections["五"].heading if "五" in cur.sections else "五、存在的主要问题及改进情况"
        yield make(
            cur,
            "PROBLEM_REPEATED",
            heading,
            f"“存在的主要问题”中有 {len(same)} 句与{prev.meta.year}年度报告一字不差，"
            f"上年指出的问题是否已改进无从看出"
            f"（{len(same)} sentence(s) of section 五 repeat last year's problems word for word）",
            "\n".join(same),
            actual=len(same),
            key=f"problems:{prev.digest}",
        )
