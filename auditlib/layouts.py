"""Registry of the official table layouts (表二, 表三, 表四; 2019 and 2021 formats).

A layout says which rows a table has, in which order, what each row is called in
the official format, how its label is recognised in a real report, and which
columns (value cells) follow the label. The parser in :mod:`auditlib.tables` is
generic; everything format-specific lives here, as data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # as printed in the official format
    unit: str = ""  # "万元" for amounts: a value printed in 元 is converted


# Registry singletons: identity equality keeps hashing cheap for the parser's caches.
@dataclass(frozen=True, eq=False)
class Row:
    key: str
    label: str  # the official wording, used for display and locations
    pattern: str  # regex searched in the normalised label cell
    columns: tuple[Column, ...]
    group: str = ""  # printed group label, e.g. "（三）不予公开"
    # A pattern that is also a common word elsewhere in the table (a column
    # header called 其他 or 总计) only counts when this row is the next expected.
    only_when_next: bool = False
    signed: tuple[str, ...] = ()  # columns whose values carry 增/减
    # 表三: which of the six outcomes (OUTCOMES) the row's requests ended in; "" for the others.
    outcome: str = ""

    @property
    def regex(self) -> re.Pattern[str]:
        return _compile(self.pattern)

    @cached_property
    def cell_keys(self) -> tuple[tuple[tuple[str, str], bool], ...]:
        """Each column's (row, column) key and whether it carries 增/减: the parser fills
        thousands of rows, and builds neither again."""
        return tuple(((self.key, c.key), c.key in self.signed) for c in self.columns)


@dataclass(frozen=True, eq=False)
class Layout:
    table: str  # "table2" | "table3" | "table4"
    format: str  # "2019" | "2021"
    title: str
    rows: tuple[Row, ...]
    # Columns shared by every row (表三); None when rows differ (表二).
    columns: tuple[Column, ...] | None = None

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    def cells(self) -> list[tuple[Row, Column]]:
        return [(r, c) for r in self.rows for c in r.columns]


_COMPILED: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    rx = _COMPILED.get(pattern)
    if rx is None:
        rx = _COMPILED[pattern] = re.compile(pattern)
    return rx


# ---------------------------------------------------------------- 表三
T3_COLUMNS = (
    Column("natural_person", "自然人"),
    Column("commercial", "商业企业"),
    Column("research", "科研机构"),
    Column("social_org", "社会公益组织"),
    Column("legal_service", "法律服务机构"),
    Column("other_org", "其他"),
    Column("total", "总计"),
)

_G1 = "（一）予以公开"
_G3 = "（三）不予公开"
_G4 = "（四）无法提供"
_G5 = "（五）不予处理"
_G6 = "（六）其他处理"
_RESULTS = "三、本年度办理结果"


# 表三's six outcomes, in the format's order: the charts and the narrative's claims group by these.
OUTCOMES = ("予以公开", "部分公开", "不予公开", "无法提供", "不予处理", "其他处理")
_OUTCOME_OF_GROUP = {_G3: "不予公开", _G4: "无法提供", _G5: "不予处理", _G6: "其他处理"}


def _t3(
    key: str, label: str, pattern: str, group: str = "", only_when_next: bool = False, outcome: str = ""
) -> Row:
    outcome = outcome or _OUTCOME_OF_GROUP.get(group, "")
    return Row(key, label, pattern, T3_COLUMNS, group=group, only_when_next=only_when_next, outcome=outcome)


_T3_HEAD = (
    _t3("new_received", "一、本年新收政府信息公开申请数量", r"本年新收"),
    _t3("carried_over", "二、上年结转政府信息公开申请数量", r"上年结转"),
    _t3("granted", "（一）予以公开", r"予以公开", _RESULTS, outcome="予以公开"),
    _t3("partially_granted", "（二）部分公开", r"部分公开", _RESULTS, outcome="部分公开"),
    _t3("denied_state_secret", "1.属于国家秘密", r"国家秘密", _G3),
    _t3("denied_prohibited_by_law", "2.其他法律行政法规禁止公开", r"禁止公开", _G3),
    _t3("denied_security_stability", "3.危及“三安全一稳定”", r"三安全一稳定", _G3),
    _t3("denied_third_party", "4.保护第三方合法权益", r"第三方合法权益", _G3),
    _t3("denied_internal_affairs", "5.属于三类内部事务信息", r"内部事务", _G3),
    _t3("denied_process_info", "6.属于四类过程性信息", r"过程性信息", _G3),
    _t3("denied_enforcement_file", "7.属于行政执法案卷", r"执法案卷", _G3),
    _t3("denied_administrative_query", "8.属于行政查询事项", r"行政查询", _G3),
    _t3("unable_not_held", "1.本机关不掌握相关政府信息", r"不掌握", _G4),
    _t3("unable_needs_creation", "2.没有现成信息需要另行制作", r"现成信息|另行制作", _G4),
    _t3("unable_unclear", "3.补正后申请内容仍不明确", r"仍不明确", _G4),
    _t3("rejected_complaint", "1.信访举报投诉类申请", r"信访|举报投诉", _G5),
    _t3("rejected_duplicate", "2.重复申请", r"重复申请", _G5),
    _t3("rejected_publication", "3.要求提供公开出版物", r"出版物", _G5),
    _t3("rejected_excessive", "4.无正当理由大量反复申请", r"大量反复", _G5),
    _t3("rejected_confirmation", "5.要求行政机关确认或重新出具已获取信息", r"重新出具|确认或", _G5),
)
_T3_TAIL = (
    _t3("total_handled", "（七）总计", r"^[（(]?七[）)、.]?总计$|^总计$", only_when_next=True),
    _t3("carried_forward", "四、结转下年度继续办理", r"结转下年度"),
)

TABLE3_2021 = Layout(
    "table3",
    "2021",
    "表三 收到和处理政府信息公开申请情况",
    (
        *_T3_HEAD,
        _t3("other_overdue_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", r"逾期不补正", _G6),
        _t3("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", r"缴纳费用|收费通知", _G6),
        _t3("other_other", "3.其他", r"^[3３][.、．]?其他$|^其他$", _G6, only_when_next=True),
        *_T3_TAIL,
    ),
    T3_COLUMNS,
)

TABLE3_2019 = Layout(
    "table3",
    "2019",
    "表三 收到和处理政府信息公开申请情况",
    (*_T3_HEAD, _t3("other", "（六）其他处理", r"其他处理", outcome="其他处理"), *_T3_TAIL),
    T3_COLUMNS,
)

# 表三 row key → its outcome, for both formats (a key means the same row in each).
T3_OUTCOME: dict[str, str] = {r.key: r.outcome for t in (TABLE3_2021, TABLE3_2019) for r in t.rows if r.outcome}


def outcome_rows(layout: Layout, outcome: str) -> tuple[str, ...]:
    """The keys of ``layout``'s rows that end in ``outcome`` (one of :data:`OUTCOMES`)."""
    return tuple(r.key for r in layout.rows if r.outcome == outcome)


# Rows of 表三 whose sum is （七）总计.
T3_RESULT_ROWS_2021 = [r.key for r in TABLE3_2021.rows[2:-2]]
T3_RESULT_ROWS_2019 = [r.key for r in TABLE3_2019.rows[2:-2]]

# ---------------------------------------------------------------- 表四
T4_COLUMNS = (
    Column("upheld", "结果维持"),
    Column("corrected", "结果纠正"),
    Column("other", "其他结果"),
    Column("pending", "尚未审结"),
    Column("total", "总计"),
)

# 表四 has no row labels: its 15 numbers stand in one row under a two-level
# header. The parser reads them as one run of 15 values in this order.
TABLE4 = Layout(
    "table4",
    "2021",
    "表四 政府信息公开行政复议、行政诉讼情况",
    (
        Row("review", "行政复议", r"行政复议", T4_COLUMNS),
        Row("litigation_direct", "行政诉讼·未经复议直接起诉", r"未经复议", T4_COLUMNS),
        Row("litigation_after_review", "行政诉讼·复议后起诉", r"复议后起诉", T4_COLUMNS),
    ),
    T4_COLUMNS,
)

# ---------------------------------------------------------------- 表二
_ISSUED = (Column("issued", "本年制发件数"), Column("repealed", "本年废止件数"), Column("in_force", "现行有效件数"))
_DECISIONS = (Column("decisions", "本年处理决定数量"),)

TABLE2_2021 = Layout(
    "table2",
    "2021",
    "表二 主动公开政府信息情况",
    (
        Row("regulations", "规章", r"^规章$", _ISSUED, group="第二十条第（一）项"),
        Row("normative_documents", "行政规范性文件", r"规范性文件$", _ISSUED, group="第二十条第（一）项"),
        Row("licensing", "行政许可", r"^行政许可$", _DECISIONS, group="第二十条第（五）项"),
        Row("punishment", "行政处罚", r"^行政处罚$", _DECISIONS, group="第二十条第（六）项"),
        Row("coercion", "行政强制", r"^行政强制$", _DECISIONS, group="第二十条第（六）项"),
        Row("fees", "行政事业性收费", r"^行政事业性收费$", (Column("amount", "本年收费金额（单位：万元）", "万元"),), group="第二十条第（八）项"),
    ),
)

_MADE = (Column("made", "本年新制作数量"), Column("published", "本年新公开数量"), Column("total_published", "对外公开总数量"))
_ITEMS = (Column("previous_items", "上一年项目数量"), Column("change", "本年增/减"), Column("decisions", "处理决定数量"))

TABLE2_2019 = Layout(
    "table2",
    "2019",
    "表二 主动公开政府信息情况",
    (
        Row("regulations", "规章", r"^规章$", _MADE, group="第二十条第（一）项"),
        Row("normative_documents", "规范性文件", r"规范性文件$", _MADE, group="第二十条第（一）项"),
        Row("licensing", "行政许可", r"^行政许可$", _ITEMS, group="第二十条第（五）项", signed=("change",)),
        Row("other_services", "其他对外管理服务事项", r"其他对外管理服务", _ITEMS, group="第二十条第（五）项", signed=("change",)),
        Row("punishment", "行政处罚", r"^行政处罚$", _ITEMS, group="第二十条第（六）项", signed=("change",)),
        Row("coercion", "行政强制", r"^行政强制$", _ITEMS, group="第二十条第（六）项", signed=("change",)),
        Row(
            "fees",
            "行政事业性收费",
            r"^行政事业性收费$",
            (Column("previous_items", "上一年项目数量"), Column("change", "本年增/减")),
            group="第二十条第（八）项",
            signed=("change",),
        ),
        Row(
            "procurement",
            "政府集中采购",
            r"集中采购",
            (Column("projects", "采购项目数量"), Column("amount", "采购总金额", "万元")),
            group="第二十条第（九）项",
        ),
    ),
)

LAYOUTS: dict[tuple[str, str], Layout] = {
    ("table2", "2021"): TABLE2_2021,
    ("table2", "2019"): TABLE2_2019,
    ("table3", "2021"): TABLE3_2021,
    ("table3", "2019"): TABLE3_2019,
    ("table4", "2021"): TABLE4,
    ("table4", "2019"): TABLE4,
}

TABLE_NAMES = {"table2": "表二", "table3": "表三", "table4": "表四"}


def layout(table: str, fmt: str) -> Layout:
    return LAYOUTS[(table, fmt)]
