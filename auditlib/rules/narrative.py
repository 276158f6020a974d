"""Narrative rules: what the running text states, checked against the tables, itself and last year.

The claims come from :mod:`auditlib.claims`, read once per report and shared by
every rule here through ``ctx.cache``. Every rule errs on the side of silence:
when a figure could be read two ways, or a table cell it needs is blank, it says
nothing rather than accuse a report of an error it may not have.

Numbers on findings: ``expected`` is the reference figure (the table, the stated
total, the share or change the report's own counts give), ``actual`` what the
sentence states.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditlib.agencies import AgencyYears, group_by_agency
from auditlib.claims import (
    CARRIED_FORWARD,
    CARRIED_OVER,
    DENIED,
    GRANTED,
    GRANTED_OR_PARTIAL,
    HANDLED,
    KIND_EN,
    KIND_ZH,
    LITIGATION,
    LITIGATION_AFTER_REVIEW,
    LITIGATION_DIRECT,
    NORMATIVE_DOCUMENTS,
    OTHER_HANDLING,
    PARTIALLY_GRANTED,
    RECEIVED,
    REGULATIONS,
    REJECTED,
    REVIEW,
    SHARE,
    SUM,
    TABLE_KINDS,
    UNABLE,
    YOY,
    YOY_NEEDLES,
    Claim,
    claims_of,
    section_marks,
    where,
)
from auditlib.findings import Finding
from auditlib.layouts import T4_COLUMNS, outcome_rows
from auditlib.numbers import squash
from auditlib.rules import Context, agency_years, make, rule

if TYPE_CHECKING:
    from auditlib.report import Report
    from auditlib.tables import ParsedTable

Number = int | float


# ------------------------------------------------------------------ shared per audit
def _claims(report: Report, ctx: Context) -> list[Claim]:
    cache = ctx.cache.setdefault("narrative.claims", {})
    got = cache.get(id(report))
    if got is None or got[0] is not report:
        got = cache[id(report)] = (report, claims_of(report))
    return got[1]


def _where(report: Report, ctx: Context, offset: int) -> str:
    cache = ctx.cache.setdefault("narrative.marks", {})
    got = cache.get(id(report))
    if got is None or got[0] is not report:
        got = cache[id(report)] = (report, section_marks(report))
    return where(report, offset, got[1])


def _fmt(v: Number | None) -> str:
    if v is None:
        return "?"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


# ------------------------------------------------------------------ the tables' figures
@dataclass(frozen=True)
class Figure:
    """A figure of the tables that a narrative claim can be compared with."""

    value: Number
    exact: bool  # False: some cells are blank and value is the sum of the readable ones, a lower bound
    table: str
    rows: tuple[str, ...]
    column: str
    label: str  # 表三 一、本年新收政府信息公开申请数量 / 总计
    evidence: str  # the rows as printed
    alternatives: tuple[Number, ...] = ()  # other figures the same words may fairly mean

    def agrees(self, stated: Number) -> bool:
        if not self.exact:
            # Blank cells can only add to the sum: only a count below what is readable contradicts it.
            return stated >= self.value
        return stated == self.value or stated in self.alternatives


def _t3_rows(report: Report, outcome: str) -> tuple[str, ...]:
    return outcome_rows(report.tables["table3"].layout, outcome)


def _label(pt: ParsedTable, row: str) -> str:
    return squash(pt.labels.get(row) or pt.layout.row(row).label)


def _applicant_columns(pt: ParsedTable) -> tuple[str, ...]:
    return tuple(c.key for c in pt.layout.columns or () if c.key != "total")


def _row_total(pt: ParsedTable, row: str) -> tuple[Number, bool] | None:
    """A 表三 row's 总计; when that cell is blank, the sum of its filled applicant columns.

    A report that leaves the 总计 column empty still states its counts in the other six:
    the sum is exact when all six are filled, otherwise a lower bound.
    """
    v = pt.get(row, "total")
    if v is not None:
        return v, True
    return _sum_rows_cols(pt, row, _applicant_columns(pt))


def _sum_rows(pt: ParsedTable, rows: Iterable[str]) -> tuple[Number, bool] | None:
    """The rows' 总计 summed (blank 总计 cells through their columns), and whether it is exact."""
    vals = [_row_total(pt, r) for r in rows]
    known = [v for v in vals if v is not None]
    if not known:
        return None
    return sum(v for v, _ in known), len(known) == len(vals) and all(exact for _, exact in known)


def _exact_total(pt: ParsedTable, row: str) -> Number | None:
    got = _row_total(pt, row)
    return got[0] if got is not None and got[1] else None


def _t3(
    report: Report, rows: tuple[str, ...], label: str | None = None, alternatives: tuple[Number, ...] = ()
) -> Figure | None:
    pt = report.tables["table3"]
    if not pt.found or not rows:
        return None
    got = _sum_rows(pt, rows)
    if got is None:
        return None
    name = label or _label(pt, rows[0])
    shown = [r for r in rows if pt.get(r, "total") != 0] or list(rows[:1])
    blank = any(pt.get(r, "total") is None for r in rows)
    return Figure(
        value=got[0],
        exact=got[1],
        table="table3",
        rows=rows,
        column="total",
        # Say so when 总计 cells are blank and the figure adds up the applicant columns instead.
        label=f"表三 {name} / 总计" + ("（总计栏空白，按各列合计）" if blank else ""),
        evidence="\n".join(pt.row_text(r) for r in shown),
        alternatives=alternatives,
    )


def _t4_group(pt: ParsedTable, group: str, col: str) -> tuple[Number, bool] | None:
    """A 表四 cell; a blank 总计 falls back to its readable parts, as a lower bound."""
    v = pt.get(group, col)
    if v is not None:
        return v, True
    if col != "total":
        return None
    got = _sum_rows_cols(pt, group, ("upheld", "corrected", "other", "pending"))
    return (got[0], False) if got else None


def _sum_rows_cols(pt: ParsedTable, row: str, cols: Iterable[str]) -> tuple[Number, bool] | None:
    vals = [pt.get(row, c) for c in cols]
    known = [v for v in vals if v is not None]
    if not known:
        return None
    return sum(known), len(known) == len(vals)


_T4_GROUP_LABEL = {
    "review": "行政复议",
    "litigation_direct": "行政诉讼·未经复议直接起诉",
    "litigation_after_review": "行政诉讼·复议后起诉",
}
_T4_COL_LABEL = {c.key: c.label for c in T4_COLUMNS}


def _t4(report: Report, groups: tuple[str, ...], col: str = "total") -> Figure | None:
    pt = report.tables["table4"]
    if not pt.found:
        return None
    total: Number = 0
    exact = True
    for g in groups:
        got = _t4_group(pt, g, col)
        if got is None:
            return None
        total += got[0]
        exact = exact and got[1]
    name = "＋".join(_T4_GROUP_LABEL[g] for g in groups)
    return Figure(
        value=total,
        exact=exact,
        table="table4",
        rows=groups,
        column=col,
        label=f"表四 {name} / {_T4_COL_LABEL[col]}",
        evidence="\n".join(pt.row_text(g) for g in groups),
    )


def _t2(report: Report, row: str) -> Figure | None:
    pt = report.tables["table2"]
    if not pt.found:
        return None
    # 2019's table has 本年新制作 and 本年新公开: the text may mean either.
    cols = ("issued",) if pt.layout.format != "2019" else ("published", "made")
    vals = [(c, pt.get(row, c)) for c in cols]
    vals = [(c, v) for c, v in vals if v is not None]
    if not vals:
        return None
    col, value = vals[0]
    col_label = next(c.label for c in pt.layout.row(row).columns if c.key == col)
    return Figure(
        value=value,
        exact=True,
        table="table2",
        rows=(row,),
        column=col,
        label=f"表二 {_label(pt, row)} / {col_label}",
        evidence=pt.row_text(row),
        alternatives=tuple(v for _, v in vals[1:]),
    )


def table_figure(report: Report, kind: str) -> Figure | None:
    """The table figure a claim of ``kind`` speaks of, or None when the tables cannot say."""
    pt = report.tables["table3"]
    new, over, fwd = (_exact_total(pt, r) for r in ("new_received", "carried_over", "carried_forward"))
    if kind == RECEIVED:
        # 共受理 N 件 sometimes counts last year's carried-over applications in.
        return _t3(report, ("new_received",), alternatives=() if None in (new, over) else (new + over,))
    if kind == HANDLED:
        # 答复 N 件 is usually （七）总计, but some reports count only this year's new applications
        # (all of them, or those not carried forward).
        alts: tuple[Number, ...] = () if new is None else (new,)
        if new is not None and fwd is not None:
            alts += (new - fwd,)
            if over is not None:
                alts += (new + over - fwd,)
        fig = _t3(report, ("total_handled",), alternatives=alts)
        if fig is None or not fig.exact:
            # A blank （七）总计 row: the result rows （一）…（六） add up to it.
            rows = tuple(r.key for r in pt.layout.rows if r.outcome)
            parts = _t3(report, rows, "三、本年度办理结果（一）至（六）合计", alts)
            if parts is not None and (fig is None or parts.exact):
                return parts
        return fig
    if kind == CARRIED_OVER:
        return _t3(report, ("carried_over",))
    if kind == CARRIED_FORWARD:
        return _t3(report, ("carried_forward",))
    if kind == GRANTED:
        return _t3(report, ("granted",))
    if kind == PARTIALLY_GRANTED:
        return _t3(report, ("partially_granted",))
    if kind == GRANTED_OR_PARTIAL:
        return _t3(report, ("granted", "partially_granted"), "（一）予以公开＋（二）部分公开")
    if kind == DENIED:
        return _t3(report, _t3_rows(report, "不予公开"), "（三）不予公开（1–8项合计）")
    if kind == UNABLE:
        return _t3(report, _t3_rows(report, "无法提供"), "（四）无法提供（1–3项合计）")
    if kind == REJECTED:
        return _t3(report, _t3_rows(report, "不予处理"), "（五）不予处理（1–5项合计）")
    if kind == OTHER_HANDLING:
        return _t3(report, _t3_rows(report, "其他处理"), "（六）其他处理")
    if kind == REVIEW:
        return _t4(report, ("review",))
    if kind == LITIGATION:
        return _t4(report, ("litigation_direct", "litigation_after_review"))
    if kind == LITIGATION_DIRECT:
        return _t4(report, ("litigation_direct",))
    if kind == LITIGATION_AFTER_REVIEW:
        return _t4(report, ("litigation_after_review",))
    if kind == NORMATIVE_DOCUMENTS:
        return _t2(report, "normative_documents")
    if kind == REGULATIONS:
        return _t2(report, "regulations")
    return None


def _cell_kw(fig: Figure) -> dict[str, Any]:
    """Where to highlight: the one cell compared, or the table and the rows summed."""
    if len(fig.rows) == 1:
        return {"table": fig.table, "row": fig.rows[0], "column": fig.column}
    return {"table": fig.table, "column": fig.column, "extra": {"rows": list(fig.rows)}}


# ------------------------------------------------------------------ TEXT_TABLE_MISMATCH
# An error, not a warning: when it fires the report prints two different numbers
# for one quantity, which is the 内容不准确 the 2021 format forbids. The claims it
# uses are read narrowly (typed phrases, this year, this agency, no 约/余), and a
# kind is skipped whenever another sentence of the same kind agrees with the table,
# so a firing is the report's own contradiction and not a reading of ours.
@rule(
    "TEXT_TABLE_MISMATCH",
    "error",
    "正文所述数量与表格不一致",
    "a count stated in the narrative disagrees with the table",
)
def text_table_mismatch(report: Report, ctx: Context) -> Iterator[Finding]:
    claims = _claims(report, ctx)
    by_kind: dict[str, list[Claim]] = {}
    for c in claims:
        if c.kind in TABLE_KINDS and not c.approximate:
            by_kind.setdefault(c.kind, []).append(c)
    seen: set[str] = set()
    for kind, group in by_kind.items():
        fig = table_figure(report, kind)
        if fig is None or any(fig.agrees(c.value) for c in group):
            # One sentence agreeing means the others likely count something else (another scope).
            continue
        for c in group:
            if c.key in seen:
                continue
            seen.add(c.key)
            yield _mismatch(report, ctx, c, fig, KIND_ZH[kind], KIND_EN[kind], c.key)
    for c in claims:
        if c.kind == SUM and c.ref in (REVIEW, LITIGATION):
            yield from _breakdown(report, ctx, c)
    yield from _fee_notices(report)


# Section 六 saying no 收费通知 was ever sent. "未收取信息处理费" is no such statement (a notice
# the applicant did not pay leaves nothing collected), nor "逾期未按收费通知要求缴纳" (it says one was).
_NO_FEE_NOTICE = re.compile(
    r"(?:未|没有|无|不曾|从未|均未)[^。；;，,！!\n按依照据缴]{0,16}?(?:发出|出具|送达|发送|下发|开具|寄送|制发)?"
    r"[^。；;，,！!\n按依照据缴]{0,8}?收费通知"
)


def _fee_notices(report: Any) -> Iterator[Finding]:
    """表三 （六）2 counts applications dropped after a fee notice went unpaid: above 0, notices were sent."""
    pt = report.tables["table3"]
    six = report.sections.get("六")
    text = report.section_texts.get("六") or ""
    if not pt.found or six is None or "other_unpaid_fee" not in {r.key for r in pt.layout.rows}:
        return
    got = _row_total(pt, "other_unpaid_fee")
    if got is None or got[0] <= 0:
        return
    m = _NO_FEE_NOTICE.search(text)
    if m is None:
        return
    start = max(text.rfind("。", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
    stop = re.search(r"[。\n]", text[m.end() :])
    sentence = text[start : m.end() + stop.end() if stop else len(text)].strip()
    label = _label(pt, "other_unpaid_fee")
    yield make(
        report,
        "TEXT_TABLE_MISMATCH",
        f"{six.heading}；表三 {label} / 总计",
        f"第六部分称未发出收费通知，但表三“{label}”为{_fmt(got[0])}件：申请人逾期未缴费，说明已发出收费通知"
        f"（section 六 says no fee notice was issued; 表三 counts {_fmt(got[0])} application(s) dropped for an unpaid fee notice）",
        f"{sentence}\n{pt.row_text('other_unpaid_fee')}",
        expected=got[0],
        actual=0,
        key="fee_notice",
        table="table3",
        row="other_unpaid_fee",
        column="total",
    )


def _mismatch(report: Report, ctx: Context, c: Claim, fig: Figure, zh: str, en: str, key: str) -> Finding:
    unit = c.unit or "件"
    if fig.exact:
        table_zh, table_en = f"为{_fmt(fig.value)}{unit}", f"shows {_fmt(fig.value)}"
    else:
        table_zh = f"中可读的各项已合计{_fmt(fig.value)}{unit}（另有空白单元格）"
        table_en = f"already sums to {_fmt(fig.value)} with cells left blank"
    return make(
        report,
        "TEXT_TABLE_MISMATCH",
        f"{_where(report, ctx, c.span[0])}；{fig.label}",
        f"正文称{zh}{_fmt(c.value)}{unit}，而{fig.label}{table_zh}"
        f"（the text states {_fmt(c.value)} {en}; the table {table_en}）",
        f"{c.sentence}\n{fig.evidence}",
        expected=fig.value,
        actual=c.value,
        key=key,
        **_cell_kw(fig),
    )


# Breakdown of 行政复议/行政诉讼 after 其中: which 表四 column each part names.
_T4_PART_COLUMN = (
    (re.compile(r"维持"), "upheld"),
    (re.compile(r"纠正|纠错"), "corrected"),
    (re.compile(r"^其他|^其它"), "other"),
    (re.compile(r"未审结|尚未审结|审理中|未结|未办结"), "pending"),
)
_T4_PART_GROUP = (
    (re.compile(r"直接起诉|未经复议"), "litigation_direct"),
    (re.compile(r"复议后"), "litigation_after_review"),
)


def _breakdown(report: Report, ctx: Context, c: Claim) -> Iterator[Finding]:
    groups = ("review",) if c.ref == REVIEW else ("litigation_direct", "litigation_after_review")
    for part in c.parts:
        cols = [col for rx, col in _T4_PART_COLUMN if rx.search(part.label)]
        grps = [g for rx, g in _T4_PART_GROUP if rx.search(part.label)]
        if c.ref == LITIGATION and len(grps) == 1 and not cols:
            fig = _t4(report, (grps[0],))
        elif len(cols) == 1 and not grps:
            fig = _t4(report, groups, cols[0])
        else:
            continue
        if fig is None or fig.agrees(part.value):
            continue
        what = KIND_ZH[c.ref or REVIEW]
        yield _mismatch(
            report,
            ctx,
            Claim(kind=c.ref or REVIEW, value=part.value, sentence=c.sentence, span=part.span, unit=c.unit),
            fig,
            f"{what}中{part.label}",
            f"{KIND_EN[c.ref or REVIEW]}: {part.label}",
            f"{c.key}:{part.label}",
        )


# ------------------------------------------------------------------ NARRATIVE_SUM
@rule(
    "NARRATIVE_SUM",
    "warning",
    "正文“共…其中…”分项与总数不符",
    "a stated total and its parts (共 N，其中 a、b…) do not add up",
)
def narrative_sum(report: Report, ctx: Context) -> Iterator[Finding]:
    for c in _claims(report, ctx):
        if c.kind != SUM:
            continue
        values = [p.value for p in c.parts]
        total = sum(values)
        if math.isclose(total, c.value):
            continue
        # A list that reaches the total part-way has switched to another breakdown
        # (其中网上申请…、自然人申请…): the rest is not more of the same whole.
        running = 0.0
        if any(math.isclose(running := running + v, c.value) for v in values[:-1]):
            continue
        if total > c.value:
            why_zh, why_en = "分项之和大于总数", "the parts add up to more than the total"
        elif (why := _exhaustive(report.narrative, c)) is not None:
            why_zh, why_en = why
        else:
            continue  # an open list (其中 …) may leave items out
        parts = "＋".join(_fmt(v) for v in values)
        yield make(
            report,
            "NARRATIVE_SUM",
            _where(report, ctx, c.span[0]),
            f"正文称共{_fmt(c.value)}{c.unit}，其中各项为{parts}＝{_fmt(total)}，{why_zh}"
            f"（{why_en}: {_fmt(total)} vs {_fmt(c.value)}）",
            c.sentence,
            expected=c.value,
            actual=total,
            key=c.key,
        )


# A list names every category of one of these closed sets: nothing can be left out.
_CATEGORY_SETS = (
    ("申请人", (re.compile(r"自然人|公民"), re.compile(r"法人|组织|企业"))),
    (
        "办理结果",
        tuple(
            re.compile(w)
            for w in (r"^(?:予以|同意|全部)公开", r"部分公开", r"不予公开", r"无法提供", r"不予处理", r"其他处理")
        ),
    ),
    ("复议诉讼结果", tuple(re.compile(w) for w in (r"维持", r"纠正|纠错", r"^其他|^其它", r"未审结|审理中"))),
)
LONG_LIST = 6  # items listed one by one, no 等: a list this long is the breakdown, not examples
_LIST_END = re.compile(r"[。；;！!？?\n]")


def _exhaustive(narrative: str, c: Claim) -> tuple[str, str] | None:
    """Why the list after 共 N claims to be complete, or None when it may leave items out.

    Complete: introduced by 分别为, closed by 其他, naming every category of a closed set, or
    going category by category through LONG_LIST items or more. Never when 等 follows an item
    or the sentence goes on past the last item (the list was not read to its end).
    """
    head = narrative[c.span[0] : c.parts[0].span[0]]
    last = c.parts[-1].span[1]
    stop = _LIST_END.search(narrative, last)
    rest = narrative[last : stop.start() if stop else len(narrative)]
    if "等" in narrative[c.span[0] : last] or squash(rest).strip("，,、）)※"):
        return None
    if "分别" in head:
        return "“分别为”所列分项合计小于总数", "a list given with 分别为 falls short of the total"
    if c.closed:
        return "分项已列至“其他”，合计仍小于总数", "the list is closed by 其他 yet falls short of the total"
    for name, cats in _CATEGORY_SETS:
        if all(any(rx.search(p.label) for p in c.parts) for rx in cats):
            return f"分项已列全各类{name}，合计仍小于总数", f"every category of {name} is listed, yet they fall short"
    if len(c.parts) >= LONG_LIST:
        return (
            f"逐类列举了{len(c.parts)}项（未用“等”），合计仍小于总数",
            f"{len(c.parts)} categories listed one by one, no 等, yet they fall short",
        )
    return None


# ------------------------------------------------------------------ NARRATIVE_PERCENT
def _tolerance(decimals: int) -> float:
    # One unit of the last digit written: covers rounding and the truncation many reports use (2/3 → 66.6%).
    return 10.0 ** (-decimals) + 1e-9


@rule(
    "NARRATIVE_PERCENT",
    "warning",
    "正文所述占比与数量不符",
    "a stated share (X 件，占 Y%) does not match the count and its total",
)
def narrative_percent(report: Report, ctx: Context) -> Iterator[Finding]:
    app_bases: list[tuple[Number, str]] | None = None
    claims = _claims(report, ctx)
    for c in claims:
        if c.kind != SHARE or c.approximate or c.count is None:
            continue
        # Every total the sentence can mean: the list it belongs to, a total stated before it, and —
        # for applications — received, answered (all, or this year's), with or without last year's.
        bases: list[tuple[Number, str]] = [(b, "正文所述总数") for b in c.bases]
        if c.applications or _APPLICATION_WORDS.search(c.sentence):
            if app_bases is None:
                app_bases = _application_bases(report, claims)
            bases += app_bases
        tried: list[tuple[Number, str]] = []
        for b, what in bases:
            if b and b > 0 and b >= c.count and all(b != t for t, _ in tried):
                tried.append((b, what))
        if not tried:
            continue
        tol = _tolerance(c.decimals)
        if any(abs(c.count / b * 100 - c.value) <= tol for b, _ in tried):
            continue
        base = tried[0][0]
        share = round(c.count / base * 100, c.decimals)
        others = "、".join(f"{what}{_fmt(b)}" for b, what in tried)
        yield make(
            report,
            "NARRATIVE_PERCENT",
            _where(report, ctx, c.span[0]),
            f"正文称{_fmt(c.count)}{_count_unit(c)}占{_fmt(c.value)}%，但{_fmt(c.count)}÷{_fmt(base)}＝{_fmt(share)}%；"
            f"可能的基数（{others}）都不能得出{_fmt(c.value)}%"
            f"（{_fmt(c.count)} of {_fmt(base)} is {_fmt(share)}%, not {_fmt(c.value)}%; no total the sentence can mean gives it）",
            c.sentence,
            expected=share,
            actual=c.value,
            key=c.key,
        )


def _count_unit(c: Claim) -> str:
    m = re.match(r"\s*[\d,.]+\s*([^\d\s，,※]+?)\s*[，,（(]?\s*约?占", c.text)
    return m.group(1) if m else "件"


_APPLICATION_WORDS = re.compile(r"申请|答复|办结|受理|收到")


def _application_bases(report: Report, claims: list[Claim]) -> list[tuple[Number, str]]:
    """The application totals a share of applications can be of, with what each is."""
    out: list[tuple[Number, str]] = []
    pt = report.tables["table3"]
    if pt.found:
        new, over, fwd = (_exact_total(pt, r) for r in ("new_received", "carried_over", "carried_forward"))
        handled = table_figure(report, HANDLED)
        if new is not None:
            out.append((new, "表三本年新收"))
        if handled is not None and handled.exact:
            out.append((handled.value, "表三办理结果总计"))
        if new is not None and over is not None:
            out.append((new + over, "本年新收＋上年结转"))
        if new is not None and fwd is not None:
            out.append((new - fwd, "本年新收中已办结"))
            if over is not None:
                out.append((new + over - fwd, "本年已办结（含上年结转）"))
    # The report's own words for them, wherever it says them.
    out += [(c.value, "正文所述收到申请数") for c in claims if c.kind == RECEIVED and not c.approximate]
    out += [(c.value, "正文所述答复申请数") for c in claims if c.kind == HANDLED and not c.approximate]
    return out


# ------------------------------------------------------------------ YOY_IMPOSSIBLE
def _subject_count(report: Report, c: Claim) -> Number | None:
    if c.subject is not None:
        return c.subject.value
    if c.subject_kind:
        fig = table_figure(report, c.subject_kind)
        if fig is not None and fig.exact:
            return fig.value
    return None


def _compared_with_last_year(report: Report, c: Claim) -> bool:
    return c.ref_year is None or (report.meta.year is not None and c.ref_year == report.meta.year - 1)


def nearest_change(now: Number, change: Number, unit: str, decimals: int) -> tuple[bool, Number | None]:
    """Whether some whole previous count gives the stated change; and the nearest change one can give.

    ``change`` is signed (+ for 上升/增长, − for 下降/减少), in % or in 件.
    """
    if unit != "%":
        prev = now - change
        return prev >= 0, None
    if change == 0:
        return True, None
    tol = _tolerance(decimals)
    if change <= -100:
        # Only a fall to nothing is a fall of 100%; a fall of more is not a fall.
        return (now == 0 and change >= -100 - tol), (-100.0 if now == 0 else None)
    if now == 0:
        return (change < 0 and abs(change + 100) <= tol), -100.0
    r = now / (1 + change / 100)
    best: tuple[float, float] | None = None
    for prev in range(max(1, math.floor(r) - 1), math.ceil(r) + 2):
        pct = (now - prev) / prev * 100
        if abs(pct - change) <= tol:
            return True, None
        if best is None or abs(pct - change) < best[0]:
            best = (abs(pct - change), pct)
    return False, (round(best[1], decimals) if best else None)


def _change_text(c: Claim) -> str:
    if c.value == 0:
        return "持平"
    word = "上升" if c.value > 0 else "下降"
    return f"{word}{_fmt(abs(c.value))}{'%' if c.unit == '%' else c.unit}"


@rule(
    "YOY_IMPOSSIBLE",
    "warning",
    "所述同比变化无法由整数的上年数量得出",
    "a stated year-on-year change implies a previous count that is not a whole number",
)
def yoy_impossible(report: Report, ctx: Context) -> Iterator[Finding]:
    for c in _claims(report, ctx):
        if c.kind != YOY or c.approximate or not _compared_with_last_year(report, c):
            continue
        now = _subject_count(report, c)
        if now is None or (isinstance(now, float) and not now.is_integer()):
            continue
        ok, nearest = nearest_change(now, c.value, c.unit, c.decimals)
        if ok:
            continue
        what = KIND_ZH.get(c.subject_kind or "", "数量") if c.subject_kind else "数量"
        if c.unit == "%":
            implied = now / (1 + c.value / 100) if c.value > -100 else None
            implied_zh = (
                f"上年应为{_fmt(now)}÷(1{c.value:+g}%)＝{implied:.2f}，不是整数" if implied is not None else "不可能"
            )
            implied_en = f"last year would have been {implied:.2f}" if implied is not None else "impossible"
        else:
            implied_zh = f"上年应为{_fmt(now)}−{_fmt(c.value)}＝{_fmt(now - c.value)}，不可能为负"
            implied_en = f"last year would have been {_fmt(now - c.value)}"
        yield make(
            report,
            "YOY_IMPOSSIBLE",
            _where(report, ctx, c.span[0]),
            f"正文称{what}{_fmt(now)}件、同比{_change_text(c)}：{implied_zh}"
            f"（{_fmt(now)} with a change of {_fmt(c.value)}{'%' if c.unit == '%' else ''}: {implied_en}）",
            c.sentence,
            expected=nearest,
            actual=c.value,
            key=c.key,
        )


# ------------------------------------------------------------------ YOY_MISMATCH
def previous_report(report: Report, reports: list[Report], index: AgencyYears | None = None) -> Report | None:
    """The same agency's report of the year before, among ``reports``; None if there is none.

    Pass an ``index`` from :func:`auditlib.agencies.group_by_agency` when asking for many reports.
    """
    return (index or group_by_agency(reports)).previous(report)


@rule(
    "YOY_MISMATCH",
    "warning",
    "所述同比变化与上一年度报告不符",
    "a stated year-on-year change disagrees with the previous year's report",
    scope="corpus",
)
def yoy_mismatch(reports: list[Report], ctx: Context) -> Iterator[Finding]:
    for report in reports:
        # Most reports state no change at all: skip reading their claims (warm runs
        # serve the report rules from the cache, so this would be the main cost).
        text = report.narrative
        if not any(n in text for n in YOY_NEEDLES):
            continue
        changes = [c for c in _claims(report, ctx) if c.kind == YOY and not c.approximate]
        if not changes:
            continue
        # Built on the first report that states a change, once for the corpus.
        prev = agency_years(reports, ctx).previous(report)
        if prev is None:
            continue
        for c in changes:
            if not c.subject_kind or c.subject_kind not in TABLE_KINDS or not _compared_with_last_year(report, c):
                continue
            then = table_figure(prev, c.subject_kind)
            if then is None or not then.exact:
                continue
            nows: list[Number] = []
            if c.subject is not None:
                nows.append(c.subject.value)
            fig = table_figure(report, c.subject_kind)
            if fig is not None and fig.exact and fig.value not in nows:
                nows.append(fig.value)
            if not nows:
                continue
            if c.unit == "%":
                if then.value == 0:
                    continue  # a change from nothing has no percentage; YOY_IMPOSSIBLE speaks to it
                tol = _tolerance(c.decimals)
                changes_now = [(n - then.value) / then.value * 100 for n in nows]
                if any(abs(x - c.value) <= tol for x in changes_now):
                    continue
                expected: Number = round(changes_now[0], c.decimals)
                shown = f"{_fmt(expected)}%"
            else:
                changes_now = [n - then.value for n in nows]
                if any(x == c.value for x in changes_now):
                    continue
                expected = changes_now[0]
                shown = f"{_fmt(expected)}件"
            what = KIND_ZH[c.subject_kind]
            yield make(
                report,
                "YOY_MISMATCH",
                f"{_where(report, ctx, c.span[0])}；{prev.meta.year}年度报告 {then.label}",
                f"正文称{what}同比{_change_text(c)}，但{prev.meta.year}年度报告为{_fmt(then.value)}、本年为{_fmt(nows[0])}，"
                f"实际变化{shown}（stated change {_fmt(c.value)}{'%' if c.unit == '%' else ''}; "
                f"last year's report gives {_fmt(then.value)} → {_fmt(nows[0])}, a change of {shown}）",
                f"{c.sentence}\n{prev.meta.year}年：{then.evidence}",
                expected=expected,
                actual=c.value,
                key=f"{c.key}:{prev.digest or prev.source}",
                **(
                    {"table": fig.table, "row": fig.rows[0], "column": fig.column} if fig and len(fig.rows) == 1 else {}
                ),
            )
