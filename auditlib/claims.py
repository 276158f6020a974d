"""What the narrative states, as data: counts, enumerations, shares and year-on-year changes.

Each :class:`Claim` is one statement of the running text (``report.narrative``):
its kind, its value, the sentence as printed and where it stands. Rules compare
claims with the tables, with each other and with the previous year's report;
this module only reads, it never judges.

Reading is deliberately narrow. A phrase becomes a claim only when its wording
leaves no doubt what was counted (收到…政府信息公开申请 N 件, not any 申请 N 件;
规范性文件, never 政策性文件), in the reporting year (a clause naming another
year, 上年 or 以来 is left alone) and for the reporting agency's own work. Rules
built on a mis-read count would accuse a report of an error it does not have.

The text is scanned in a normalised copy: white space removed (PDF extraction
leaves "3119 件"), full-width digits made ASCII and the insides of 《书名》 and
〔文号〕 blanked so that document titles and numbers are not read as counts. Spans
are mapped back to ``report.narrative``, and sentences are returned as printed.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from auditlib.blocks import Paragraph
from auditlib.numbers import cn_to_int

if TYPE_CHECKING:
    from auditlib.report import Report

# ------------------------------------------------------------------ kinds
RECEIVED = "received"  # 本年新收申请 (收到/受理/接到…申请 N 件)
HANDLED = "handled"  # 答复/办结…申请 N 件
CARRIED_OVER = "carried_over"  # 上年结转 N 件
CARRIED_FORWARD = "carried_forward"  # 结转下年度 / 顺延到下年度 N 件
GRANTED = "granted"  # 予以公开
PARTIALLY_GRANTED = "partially_granted"  # 部分公开
GRANTED_OR_PARTIAL = "granted_or_partial"  # 予以公开及部分公开
DENIED = "denied"  # 不予公开
UNABLE = "unable"  # 无法提供
REJECTED = "rejected"  # 不予处理
OTHER_HANDLING = "other_handling"  # 其他处理
REVIEW = "review"  # 行政复议
LITIGATION = "litigation"  # 行政诉讼 (both kinds)
LITIGATION_DIRECT = "litigation_direct"  # 未经复议直接起诉
LITIGATION_AFTER_REVIEW = "litigation_after_review"  # 复议后起诉
NORMATIVE_DOCUMENTS = "normative_documents"  # 制发/印发/公开…规范性文件 N 件
REGULATIONS = "regulations"  # 制发/公开…规章 N 件
COUNT = "count"  # any other "N 件/条/个": only as the subject of a 同比 statement
TOTAL = "total"  # 共/共计/合计/累计 … N 件: a base for shares
SUM = "sum"  # "N 件，其中 a …、b …"
SHARE = "share"  # "X 件，占 Y%"
YOY = "yoy"  # 同比上升/下降 X% or X 件, 与上年持平

# Kinds that are a single count the tables also hold.
TABLE_KINDS = (
    RECEIVED,
    HANDLED,
    CARRIED_OVER,
    CARRIED_FORWARD,
    GRANTED,
    PARTIALLY_GRANTED,
    GRANTED_OR_PARTIAL,
    DENIED,
    UNABLE,
    REJECTED,
    OTHER_HANDLING,
    REVIEW,
    LITIGATION,
    LITIGATION_DIRECT,
    LITIGATION_AFTER_REVIEW,
    NORMATIVE_DOCUMENTS,
    REGULATIONS,
)

KIND_ZH = {
    RECEIVED: "收到政府信息公开申请",
    HANDLED: "答复（办结）政府信息公开申请",
    CARRIED_OVER: "上年结转申请",
    CARRIED_FORWARD: "结转下年度申请",
    GRANTED: "予以公开",
    PARTIALLY_GRANTED: "部分公开",
    GRANTED_OR_PARTIAL: "予以公开及部分公开",
    DENIED: "不予公开",
    UNABLE: "无法提供",
    REJECTED: "不予处理",
    OTHER_HANDLING: "其他处理",
    REVIEW: "政府信息公开行政复议",
    LITIGATION: "政府信息公开行政诉讼",
    LITIGATION_DIRECT: "行政诉讼（未经复议直接起诉）",
    LITIGATION_AFTER_REVIEW: "行政诉讼（复议后起诉）",
    NORMATIVE_DOCUMENTS: "行政规范性文件",
    REGULATIONS: "规章",
    COUNT: "数量",
    TOTAL: "总数",
    SUM: "总数与分项",
    SHARE: "占比",
    YOY: "同比变化",
}

KIND_EN = {
    RECEIVED: "applications received",
    HANDLED: "applications answered",
    CARRIED_OVER: "applications carried over from last year",
    CARRIED_FORWARD: "applications carried forward to next year",
    GRANTED: "granted",
    PARTIALLY_GRANTED: "partially granted",
    GRANTED_OR_PARTIAL: "granted or partially granted",
    DENIED: "denied",
    UNABLE: "unable to provide",
    REJECTED: "not processed",
    OTHER_HANDLING: "otherwise handled",
    REVIEW: "administrative reviews",
    LITIGATION: "lawsuits",
    LITIGATION_DIRECT: "lawsuits filed directly",
    LITIGATION_AFTER_REVIEW: "lawsuits filed after review",
    NORMATIVE_DOCUMENTS: "normative documents issued",
    REGULATIONS: "regulations issued",
    COUNT: "count",
    TOTAL: "total",
    SUM: "total and parts",
    SHARE: "share",
    YOY: "year-on-year change",
}


class Part(NamedTuple):
    """One item of a "其中" enumeration."""

    label: str  # as printed, without its number
    value: int | float
    span: tuple[int, int]  # in report.narrative


@dataclass(frozen=True)
class Claim:
    """One statement of the narrative.

    ``value`` is the count for count kinds, the total for ``sum``, the percent
    for ``share`` and the signed change (+/−) for ``yoy``.
    """

    kind: str
    value: int | float
    sentence: str  # the sentence as printed (up to 。/！/？ or the end of the paragraph)
    span: tuple[int, int]  # the claim's own words in report.narrative
    text: str = ""  # the claim's own words as printed
    sentence_span: tuple[int, int] = (0, 0)
    unit: str = ""  # 件, 条 … ; "%" for percent shares and changes
    decimals: int = 0  # digits after the decimal point in a written percent
    approximate: bool = False  # 约/余/左右/基本持平: not a figure to check exactly
    # sum: the parts after 其中, and whether the list claims to be complete
    parts: tuple[Part, ...] = ()
    closed: bool = False
    # sum: the kind of the typed claim that states the total (行政复议 351 件，其中…)
    ref: str | None = None
    # share: the count X; the totals the text offers as its base, nearest first
    count: int | float | None = None
    bases: tuple[int | float, ...] = ()
    # share/yoy: the paragraph is about applications (依申请公开)
    applications: bool = False
    # yoy: what changed — the count claim it follows, or only the kind it names
    subject: Claim | None = None
    subject_kind: str | None = None
    ref_year: int | None = None  # yoy: the year compared with, when the text names it

    @property
    def key(self) -> str:
        """Stable within one report's text: kind, value and the sentence."""
        return f"{self.kind}:{self.value}:{_squash(self.sentence)[:120]}"


# ------------------------------------------------------------------ text
_WS = re.compile(r"[ \t\r\f\v\u00a0\u1680\u2000-\u200d\u202f\u205f\u3000\ufeff]+")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")
_HAS_FULLWIDTH = re.compile("[０-９．％]")
_NEWLINE = re.compile("\n")
# Titles and document numbers hold years and numbers that are not counts.
_MASK_TITLES = re.compile(
    r"《[^《》\n]{0,80}》|〔[^〔〕\n]{0,12}〕|﹝[^﹝﹞\n]{0,12}﹞|［[^［］\n]{0,12}］|\[[^\[\]\n]{0,12}\]|【[^【】\n]{0,12}】"
)
# Parenthesised asides: inside an enumeration they are sub-items, not items.
_MASK_PARENS = re.compile(r"[（(][^（()）\n]{0,60}[）)]")
_SENT_END = re.compile(r"[。！？!?\n]")
_CLAUSE_CHARS = frozenset("，,；;：:。！？!?\n")
_PERIOD_CHARS = frozenset("；;。！？!?\n")
# How far a sentence, a paragraph or a clause may reach from the words read. Real
# ones are far shorter; an endless one (a hostile or broken file) would otherwise
# make every claim in it scan, slice and keep the whole of it: quadratic in time
# and memory.
_SENTENCE_REACH = 1500
_PARAGRAPH_REACH = 6000
_CLAUSE_REACH = 200
# Matches of one pattern read per report: a real report has a few dozen; reading
# only the first so many keeps a flood of them (a crafted file) linear in the text.
_MAX_MATCHES = 500
# A count with more digits than this is no count (and int() refuses 4,301 digits).
_MAX_DIGITS = 15


def _squash(s: str) -> str:
    return _WS.sub("", s)


def _blank(m: re.Match[str]) -> str:
    s = m.group(0)
    return s[0] + "※" * (len(s) - 2) + s[-1]


def _blank_all(m: re.Match[str]) -> str:
    return "※" * len(m.group(0))


class _Text:
    """The narrative squashed for matching, with a map back to the printed text.

    Only the squashed text is made up front; the rest is needed once a claim is
    found, and most paragraphs of most reports hold none.
    """

    def __init__(self, narrative: str) -> None:
        self.orig = narrative
        plain = _WS.sub("", narrative)
        if _HAS_FULLWIDTH.search(plain):  # translate() on CJK text is slow; most reports need none
            plain = plain.translate(_FULLWIDTH)
        self.t = _MASK_TITLES.sub(_blank, plain)

    @cached_property
    def tp(self) -> str:
        return _MASK_PARENS.sub(_blank_all, self.t)

    @cached_property
    def _runs(self) -> tuple[list[int], list[int]]:
        at: list[int] = []  # squashed index of the first character after each removed run
        shift: list[int] = []  # characters removed up to and including that run
        removed = 0
        for m in _WS.finditer(self.orig):
            at.append(m.start() - removed)
            removed += m.end() - m.start()
            shift.append(removed)
        return at, shift

    @cached_property
    def _ends(self) -> list[int]:
        return [m.end() for m in _SENT_END.finditer(self.t)]

    @cached_property
    def _paras(self) -> list[int]:
        return [m.end() for m in _NEWLINE.finditer(self.t)]

    # positions -------------------------------------------------------
    def orig_pos(self, i: int) -> int:
        at, shift = self._runs
        k = bisect_right(at, i)
        return i + (shift[k - 1] if k else 0)

    def orig_span(self, start: int, end: int) -> tuple[int, int]:
        if end <= start:
            p = self.orig_pos(start)
            return p, p
        return self.orig_pos(start), self.orig_pos(end - 1) + 1

    def printed(self, start: int, end: int) -> str:
        a, b = self.orig_span(start, end)
        return self.orig[a:b].strip()

    def sentence(self, pos: int) -> tuple[int, int]:
        k = bisect_right(self._ends, pos)
        start = self._ends[k - 1] if k else 0
        end = self._ends[k] if k < len(self._ends) else len(self.t)
        return max(start, pos - _SENTENCE_REACH), min(end, pos + _SENTENCE_REACH)

    def paragraph(self, pos: int) -> tuple[int, int]:
        k = bisect_right(self._paras, pos)
        start = self._paras[k - 1] if k else 0
        end = self._paras[k] - 1 if k < len(self._paras) else len(self.t)
        return max(start, pos - _PARAGRAPH_REACH), min(end, pos + _PARAGRAPH_REACH)

    def _stops(self, stops: frozenset[str]) -> list[int]:
        """Where the characters of ``stops`` stand, found in one pass and kept."""
        found = self._stop_cache.get(stops)
        if found is None:
            rx = re.compile("[" + re.escape("".join(sorted(stops))) + "]")
            found = self._stop_cache[stops] = [m.start() for m in rx.finditer(self.t)]
        return found

    @cached_property
    def _stop_cache(self) -> dict[frozenset[str] | str, list[int]]:
        return {}

    def has(self, word: str, start: int, end: int) -> bool:
        """Whether ``word`` stands wholly within ``t[start:end]``, without slicing the text."""
        at = self._stop_cache.get(word)
        if at is None:
            at = self._stop_cache[word] = [m.start() for m in re.finditer(re.escape(word), self.t)]
        k = bisect_left(at, start)
        return k < len(at) and at[k] + len(word) <= end

    def clause_start(self, pos: int, stops: frozenset[str] = _CLAUSE_CHARS) -> int:
        lo = max(self.sentence(pos)[0], pos - _CLAUSE_REACH)
        at = self._stops(stops)
        k = bisect_left(at, pos)
        return max(lo, at[k - 1] + 1) if k else lo

    def clause_end(self, pos: int, stops: frozenset[str] = _CLAUSE_CHARS, reach: int = _CLAUSE_REACH) -> int:
        at = self._stops(stops)
        k = bisect_left(at, pos)
        end = at[k] if k < len(at) else len(self.t)
        return min(end, pos + reach)


# ------------------------------------------------------------------ numbers
_CN = "零〇两一二三四五六七八九十百千万"
NUM = (
    r"(?:(?<![\d.,])\d+(?:,\d{3}(?!\d))*(?:\.\d+)?万?"
    rf"|(?<![{_CN}])[零〇两一二三四五六七八九十][{_CN}]*)"
)


def to_number(s: str) -> int | float | None:
    """3119, 3,119, 1.2万, 十二, 两 → a number; None when it does not read as one."""
    s = s.replace(",", "")
    if not s:
        return None
    if s[0].isdigit():
        if len(s) > _MAX_DIGITS + 2:
            return None
        scale = 1
        if s.endswith("万"):
            s, scale = s[:-1], 10_000
        try:
            v = float(s) * scale if "." in s else int(s) * scale
        except ValueError:
            return None
        return int(v) if isinstance(v, float) and v.is_integer() and scale > 1 else v
    return cn_to_int(s)


def _decimals(s: str) -> int:
    return len(s.split(".", 1)[1]) if "." in s else 0


# ------------------------------------------------------------------ patterns
_U_APP = r"(?P<u>件|个|条|份|宗)"
_U_CASE = r"(?P<u>件|起|宗|个|例)"
_U_DOC = r"(?P<u>件|个|份|篇|部|项)"
_U_CNT = r"(?P<u>件|条|个|项|篇|份|起|宗)"
_FILL = r"[^。；;，,\d]"
_FILL_Y = r"(?:[^。；;，,\d]|\d{4}年度?)"  # may name the reporting year: 公开区政府2021年行政规范性文件7个
_OBJ = r"(?P<obj>政府信息公开申请|信息公开申请|公开申请|依申请公开(?:申请)?|申请)(?![人书表])"
_NEG = r"(?:没有|未发生|未出现|未收到|未有|未产生|不存在|未发现|未被|未曾|未接到|无(?![法论需须]))"

RX_RECEIVED = re.compile(
    rf"(?P<verb>收到|受理|接到|接收|新收)(?P<f1>{_FILL_Y}{{0,24}}?){_OBJ}(?P<f2>{_FILL}{{0,12}}?)"
    rf"(?:共计|共|合计|总计)?(?:为|达)?(?P<n>{NUM}){_U_APP}"
)
RX_RECEIVED_NONE = re.compile(rf"(?:未|没有|暂未|无)(?:收到|受理|接到|接收)(?P<f1>{_FILL}{{0,12}}?){_OBJ}")
RX_HANDLED = re.compile(
    rf"(?P<verb>答复|办结|办理完毕|处理完毕|回复)(?P<f1>{_FILL_Y}{{0,16}}?){_OBJ}(?P<f2>{_FILL}{{0,10}}?)"
    rf"(?:共计|共|合计|总计)?(?:为|达)?(?P<n>{NUM}){_U_APP}"
)
# "…受理申请 3119 件，答复 3050 件": 答复 with no object, right after a received count.
RX_HANDLED_AFTER = re.compile(
    rf"(?<=[，,])(?:并|已|共|累计|全部|依法|均已)?(?:答复|办结)(?:了|完成)?(?P<n>{NUM})(?P<u>件)"
)
RX_CARRIED_OVER = re.compile(
    rf"(?:上一?年度?|去年)(?:结转|转结|遗留)(?P<f1>{_FILL}{{0,10}}?)(?P<n>{NUM})(?P<u>件|个|条)"
)
RX_CARRIED_FORWARD = re.compile(
    rf"(?:结转|顺延|转入|延续)(?:至|到|入)?下一?年度?(?:继续办理|办理|答复)?(?P<f1>{_FILL}{{0,10}}?)(?P<n>{NUM})(?P<u>件|个|条)"
)
RX_CARRIED_FORWARD_AFTER = re.compile(
    rf"(?P<n>{NUM})(?P<u>件|个|条)(?P<f1>{_FILL}{{0,8}}?)(?:结转|顺延|转入|延续)(?:至|到|入)?下一?年度?"
)
RX_REVIEW = re.compile(rf"行政复议(?:类|的)?(?:案件|申请|案)?(?:共计|共|合计|总计)?(?:为|达)?(?P<n>{NUM}){_U_CASE}")
RX_LITIGATION = re.compile(rf"行政诉讼(?:类|的)?(?:案件|案)?(?:共计|共|合计|总计)?(?:为|达)?(?P<n>{NUM}){_U_CASE}")
RX_REVIEW_NONE = re.compile(rf"{_NEG}(?P<f1>{_FILL}{{0,16}}?)行政复议")
RX_LITIGATION_NONE = re.compile(rf"{_NEG}(?P<f1>{_FILL}{{0,20}}?)(?:行政诉讼|(?<=复议[、和及与或])诉讼)")
# After 行政复议/诉讼, these words make it a statement about outcomes, not about the count.
_CASE_OUTCOME = re.compile(r"^(?:案件)?(?:被)?(?:纠错|纠正|撤销|败诉|确认违法|被纠|决定|应诉|结果)")
RX_RESULT = re.compile(
    r"(?P<label>予以公开(?:及|和|与|、)部分公开|予以公开|同意公开|全部公开|部分公开|不予公开|无法提供|不予处理|其他处理)"
    rf"(?:的)?(?:政府信息|信息|申请|类)?(?:共计|共|合计)?(?:为|的)?(?P<n>{NUM})(?P<u>件|条|个)"
)
_RECEIVE_VERBS = ("收到", "受理", "接到", "接收", "新收")
_HANDLE_VERBS = ("答复", "办结", "办理完毕", "处理完毕", "回复")
_RESULT_NEEDLES = ("予以公开", "同意公开", "全部公开", "部分公开", "不予公开", "无法提供", "不予处理", "其他处理")
_RESULT_KIND = {
    "予以公开": GRANTED,
    "同意公开": GRANTED,
    "全部公开": GRANTED,
    "部分公开": PARTIALLY_GRANTED,
    "不予公开": DENIED,
    "无法提供": UNABLE,
    "不予处理": REJECTED,
    "其他处理": OTHER_HANDLING,
}
# A result count given for one reason (因属于国家秘密不予公开 1 件) is a table sub-row, not the group.
_REASONS = re.compile(
    r"属于|因|涉及|危及|保护|国家秘密|内部事务|过程性|执法案卷|行政查询|第三方|不掌握|另行制作|不明确|信访|重复|出版物|反复|确认|逾期|缴纳|收费|主动"
)
_VERB_DOC = r"(?P<verb>制发|印发|出台|发布|公开|制定|新增|新制定|新出台)"
RX_NORMATIVE = re.compile(
    rf"{_VERB_DOC}(?P<f1>{_FILL_Y}{{0,16}}?)(?:行政)?规范性文件(?:共计|共|合计)?(?:为)?(?P<n>{NUM}){_U_DOC}"
)
RX_REGULATIONS = re.compile(
    rf"{_VERB_DOC}(?P<f1>{_FILL_Y}{{0,16}}?)(?:政府)?规章(?:共计|共|合计)?(?:为)?(?P<n>{NUM}){_U_DOC}"
)
# Counts of documents that are not the year's new ones, or not the agency's own.
_DOC_EXCLUDE = re.compile(
    r"清理|废止|废除|修订|修改|备案|审查|审核|合法性|宣传|解读|征求|现行|有效|失效|各|部门|全市|全县|全省|全区|乡镇|街道|累计|法律|法规|规范性"
)
# Words that make an 申请 something other than a 政府信息公开 application.
_APP_EXCLUDE = re.compile(
    r"复议|诉讼|投诉|咨询|许可|审批|举报|信访|建议|提案|留言|热线|来电|办件|事项|予以|不予|部分|无法|其中|结转|中$|率"
)
_APP_CONTEXT = re.compile(r"信息公开|依申请|公开申请")
_CASE_CONTEXT = re.compile(r"信息公开|依申请|公开申请|政府信息")
# A clause about another period, or about a stock rather than the year's flow.
_OTHER_PERIOD = re.compile(r"上一?年|去年|前年|往年|以来|至今|历年|截至|截止|同期|累计至")
_YEAR = re.compile(r"(?<!\d)(\d{4})年")
# 截至2021年12月31日 / 截至年底 closes the reporting year: not another period.
_YEAR_END = re.compile(r"截[至止](?:(?P<y>\d{4})年)?(?:12月31日|年底|年末)")
# Counts for a wider area than the reporting agency (全市各部门共受理…).
_AREA = re.compile(r"全市|全县|全区|全省|全旗|各部门|各单位|各级|各县|各乡镇|各街道|全系统|各地")

# "N 件，其中 a…" and "N 件，分别为 a…" (分别为 says the list is complete).
_ENUM_WORDS = ("其中", "分别为", "分别是")
RX_ENUM_HEAD = re.compile(rf"(?P<n>{NUM}){_U_CNT}※*[，,：:]?(?:其中[，,：:]?(?:分别为|分别是)?|分别为|分别是)[，,：:]?")
RX_PART = re.compile(rf"^(?P<label>[^\d%※]{{1,30}}?)(?:共计|共|为|达|有)?(?P<n>{NUM}){_U_CNT}$")
_PART_STOP = re.compile(
    r"办结|答复|办理|结转|受理|收到|接到|同比|较上|比上|占|合计|总计|累计|^共|均|已|另有|此外|以上|上年|去年|其中|分别|约|余$|左右"
)
_PART_OTHER = re.compile(r"^(?:其他|其余|其它|剩余)")
_APPROX_BEFORE = frozenset("约近超逾")
_SEGMENT = re.compile(r"[^，,、]+")
_SHARE_ONLY = re.compile(r"^(?:约)?占[^\d]{0,14}\d+(?:\.\d+)?%$")

RX_TOTAL = re.compile(rf"(?:共计|共|合计|总计|累计)(?P<f1>{_FILL}{{0,20}}?)(?P<n>{NUM}){_U_CNT}")
RX_SHARE = re.compile(
    rf"(?P<n>{NUM}){_U_CNT}※*[，,]?(?P<approx>约)?占(?P<of>[^，,。；;\d%]{{0,14}}?)(?:的)?(?:比例|比重)?(?:为|达|约)?"
    r"(?P<p>\d+(?:\.\d+)?)%"
)
RX_COUNT = re.compile(rf"(?P<n>{NUM}){_U_CNT}")
_CMP = (
    r"(?P<cmp>同比|较上一?年度?|比上一?年度?|较去年|比去年|与上一?年度?相比|与去年相比"
    r"|较(?P<y1>\d{4})年度?|比(?P<y2>\d{4})年度?|与(?P<y3>\d{4})年度?相比)"
)
RX_YOY = re.compile(
    rf"{_CMP}(?:同期)?[，,]?(?P<multi>分别)?(?P<dir>上升|增长|增加|提高|提升|上涨|增多|下降|减少|降低|下滑|回落)(?:了)?(?P<approx>约)?"
    rf"(?P<amt>\d+(?:\.\d+)?|[零〇两一二三四五六七八九十][{_CN}]*)(?P<u>%|个百分点|件|条|个|项|倍|次)"
)
RX_FLAT = re.compile(
    r"(?P<cmp>同比|与上一?年度?|与去年|较上一?年度?|和上一?年度?|与(?P<y1>\d{4})年度?)(?:相比)?(?:同期)?(?:数量)?(?P<approx>基本|大致|大体)?持平"
)
YOY_NEEDLES = ("同比", "较上", "比上", "较去", "比去", "与上", "与去", "较2", "比2", "与2")
_NEEDLES_RX = re.compile(
    "|".join(
        re.escape(w)
        for w in sorted(
            {
                *_RECEIVE_VERBS,
                *_HANDLE_VERBS,
                *_RESULT_NEEDLES,
                *YOY_NEEDLES,
                "和上",
                "上年",
                "上一年",
                "去年",
                "结转",
                "顺延",
                "转入",
                "延续",
                "下年",
                "下一年",
                "行政复议",
                "行政诉讼",
                "复议",
                "诉讼",
                "规范性文件",
                "规章",
                *_ENUM_WORDS,
                "占",
            },
            key=lambda w: (-len(w), w),
        )
    )
)
_DOWN = frozenset(("下降", "减少", "降低", "下滑", "回落"))
_RATE = re.compile(r"率|比例|比重|占比|平均|时长|满意|质量|效率|水平|时效|速度|质效|金额|费用")
_QUANTITY = re.compile(r"数|量")
# What a 同比 clause names as its subject, checked in this order.
_SUBJECT_WORDS = (
    ("复议", REVIEW),
    ("诉讼", LITIGATION),
    ("规范性文件", NORMATIVE_DOCUMENTS),
    ("办结", HANDLED),
    ("答复", HANDLED),
    ("申请", RECEIVED),
)


# ------------------------------------------------------------------ extraction
Positions = dict[str, list[int]]


def _positions(text: str) -> Positions:
    """Where each key word stands: one pass of one pattern over the text.

    Restarting one character after each hit keeps overlapping words (较上年 holds
    较上 and 上年; 行政复议 holds 复议).
    """
    at: Positions = {}
    search = _NEEDLES_RX.search
    pos = 0
    while (m := search(text, pos)) is not None:
        at.setdefault(m.group(), []).append(m.start())
        pos = m.start() + 1
    return at


def _near(
    rx: re.Pattern[str], text: str, at: Positions, needles: Iterable[str], before: int, after: int
) -> list[re.Match[str]]:
    """Matches of ``rx`` near the words it must contain, in order and not overlapping.

    A pattern that opens with a number or a common word would be tried at every
    character of the report; finding its key word with ``str.find`` first and
    matching only around it keeps extraction linear and cheap. Windows are not
    slices: look-behinds still see the text before a window.
    """
    n = len(text)
    found: dict[int, re.Match[str]] = {}
    for needle in needles:
        for i in at.get(needle, ()):
            for m in rx.finditer(text, max(0, i - before), min(n, i + len(needle) + after)):
                old = found.get(m.start())
                if old is None or m.end() > old.end():
                    found[m.start()] = m
    return _in_order(found)


def _starting(
    rx: re.Pattern[str], text: str, at: Positions, needles: Iterable[str], back: tuple[int, ...] = (0,)
) -> list[re.Match[str]]:
    """Matches of ``rx`` that begin at one of ``needles`` (or ``back`` characters before it).

    One anchored attempt per occurrence of a word found by ``str.find``: far
    cheaper than letting a pattern with a lazy filler try every character.
    """
    found: dict[int, re.Match[str]] = {}
    for needle in needles:
        for i in at.get(needle, ()):
            for b in back:
                if i - b >= 0:
                    m = rx.match(text, i - b)
                    if m is not None:
                        old = found.get(m.start())
                        if old is None or m.end() > old.end():
                            found[m.start()] = m
    return _in_order(found)


def _in_order(found: dict[int, re.Match[str]]) -> list[re.Match[str]]:
    out: list[re.Match[str]] = []
    last = -1
    for start in sorted(found):
        if start >= last:
            out.append(found[start])
            last = found[start].end()
            if len(out) == _MAX_MATCHES:
                break
    return out


class _Reader:
    def __init__(self, narrative: str, year: int | None, agency: str | None) -> None:
        self.x = _Text(narrative)
        self.at = _positions(self.x.t)
        self.year = year
        self.wide_agency = bool(agency and agency.endswith("人民政府"))
        self.claims: list[Claim] = []
        self.by_num_end: dict[int, Claim] = {}  # squashed end of a count's unit → its typed claim
        self.pos: dict[int, int] = {}  # id(claim) → where it starts in the squashed text

    # helpers ---------------------------------------------------------
    def make(self, kind: str, value: int | float, start: int, end: int, **kw: Any) -> Claim:
        x = self.x
        s0, s1 = x.sentence(start)
        a, b = x.orig_span(start, end)
        claim = Claim(
            kind=kind,
            value=value,
            sentence=x.printed(s0, s1),
            span=(a, b),
            text=x.orig[a:b],
            sentence_span=x.orig_span(s0, s1),
            **kw,
        )
        self.pos[id(claim)] = start
        return claim

    def add(self, claim: Claim, num_end: int | None = None) -> None:
        self.claims.append(claim)
        if num_end is not None:
            self.by_num_end.setdefault(num_end, claim)

    def other_period(self, pos: int) -> bool:
        """The clause leading to ``pos`` speaks of another year or a running total."""
        x = self.x
        prefix = x.t[x.clause_start(pos, _PERIOD_CHARS) : pos]
        if "截" in prefix:
            prefix = _YEAR_END.sub(lambda m: "" if not m["y"] or int(m["y"]) == self.year else m[0], prefix)
        if _OTHER_PERIOD.search(prefix):
            return True
        if self.year is not None:
            for y in _YEAR.findall(prefix):
                if int(y) not in (self.year, self.year + 1):
                    return True
        return False

    def wider_area(self, pos: int) -> bool:
        x = self.x
        return not self.wide_agency and bool(_AREA.search(x.t[x.clause_start(pos, _PERIOD_CHARS) : pos]))

    def sentence_text(self, pos: int) -> str:
        s0, s1 = self.x.sentence(pos)
        return self.x.t[s0:s1]

    def paragraph_text(self, pos: int) -> str:
        p0, p1 = self.x.paragraph(pos)
        return self.x.t[p0:p1]

    def count_match(self, kind: str, m: re.Match[str], **kw: Any) -> Claim | None:
        value = to_number(m["n"])
        if value is None:
            return None
        claim = self.make(kind, value, m.start(), m.end(), unit=m["u"], **kw)
        self.add(claim, m.end("u"))
        return claim

    # readers ---------------------------------------------------------
    def read(self) -> list[Claim]:
        self.applications()
        self.carried()
        self.cases()
        self.results()
        self.documents()
        self.enumerations()
        self.shares()
        self.changes()
        self.claims.sort(key=lambda c: (c.span[0], c.span[1], c.kind))
        return self.claims

    def _app_ok(self, m: re.Match[str]) -> bool:
        if _APP_EXCLUDE.search(m["f1"]) or _APP_EXCLUDE.search(m.groupdict().get("f2") or ""):
            return False
        if m["obj"] == "申请" and not _APP_CONTEXT.search(self.sentence_text(m.start())):
            return False
        return not (self.other_period(m.start()) or self.wider_area(m.start()))

    def applications(self) -> None:
        t = self.x.t
        received: list[Claim] = []
        for m in _starting(RX_RECEIVED, t, self.at, _RECEIVE_VERBS):
            before = t[max(0, m.start() - 2) : m.start()]
            if before.endswith(("未", "无", "没有")) or not self._app_ok(m):
                continue
            claim = self.count_match(RECEIVED, m)
            if claim is not None:
                received.append(claim)
        for m in _starting(RX_RECEIVED_NONE, t, self.at, _RECEIVE_VERBS, (1, 2)):
            rest = t[m.end() : self.x.clause_end(m.end())]
            if re.search(r"\d", rest) or _APP_EXCLUDE.search(m["f1"]):
                continue
            if m["obj"] == "申请" and not _APP_CONTEXT.search(self.sentence_text(m.start())):
                continue
            if self.other_period(m.start()):
                continue
            self.add(self.make(RECEIVED, 0, m.start(), m.end()))
        for m in _starting(RX_HANDLED, t, self.at, _HANDLE_VERBS):
            if "率" in m["f1"] or not self._app_ok(m):
                continue
            self.count_match(HANDLED, m)
        for c in received:
            start = self._sq_start(c)
            for m in RX_HANDLED_AFTER.finditer(t, start, self.x.sentence(start)[1]):
                if m.end("u") not in self.by_num_end:
                    self.count_match(HANDLED, m)

    def _sq_start(self, c: Claim) -> int:
        return self.pos[id(c)]

    def carried(self) -> None:
        t = self.x.t
        for m in _starting(RX_CARRIED_OVER, t, self.at, ("上年", "上一年", "去年")):
            if not _APP_EXCLUDE.search(m["f1"].replace("结转", "")):
                self.count_match(CARRIED_OVER, m)
        forward = _starting(RX_CARRIED_FORWARD, t, self.at, ("结转", "顺延", "转入", "延续"))
        for m in forward + _near(RX_CARRIED_FORWARD_AFTER, t, self.at, ("下年", "下一年"), 30, 6):
            if m.end("u") in self.by_num_end:
                continue
            if not _APP_EXCLUDE.search(m["f1"].replace("结转", "")):
                self.count_match(CARRIED_FORWARD, m)

    def cases(self) -> None:
        t = self.x.t
        for m in _starting(RX_REVIEW, t, self.at, ("行政复议",)):
            if _CASE_CONTEXT.search(self.sentence_text(m.start())) and not self.other_period(m.start()):
                if not self.wider_area(m.start()):
                    self.count_match(REVIEW, m)
        for m in _starting(RX_LITIGATION, t, self.at, ("行政诉讼",)):
            if not _CASE_CONTEXT.search(self.sentence_text(m.start())) or self.other_period(m.start()):
                continue
            if self.wider_area(m.start()):
                continue
            prefix = t[self.x.clause_start(m.start()) : m.start()]
            kind = LITIGATION
            if "直接" in prefix:
                kind = LITIGATION_DIRECT
            elif re.search(r"复议后|经复议|经过复议", prefix):
                kind = LITIGATION_AFTER_REVIEW
            self.count_match(kind, m)
        for rx, kind, needle in ((RX_REVIEW_NONE, REVIEW, "复议"), (RX_LITIGATION_NONE, LITIGATION, "诉讼")):
            for m in _near(rx, t, self.at, (needle,), 30, 4):
                after = t[m.end() : self.x.clause_end(m.end())]
                if _CASE_OUTCOME.match(after) or re.search(r"\d", after) or re.search(r"但|除", m["f1"]):
                    continue
                if not _CASE_CONTEXT.search(self.sentence_text(m.start())) or self.other_period(m.start()):
                    continue
                self.add(self.make(kind, 0, m.start(), m.end()))

    def results(self) -> None:
        t = self.x.t
        for m in _starting(RX_RESULT, t, self.at, _RESULT_NEEDLES):
            if "申请" not in self.paragraph_text(m.start()):
                continue
            prefix = t[self.x.clause_start(m.start()) : m.start()]
            if _REASONS.search(prefix) or self.other_period(m.start()) or self.wider_area(m.start()):
                continue
            label = m["label"]
            kind = GRANTED_OR_PARTIAL if "部分公开" in label and label.startswith("予以公开") else _RESULT_KIND[label]
            self.count_match(kind, m)

    def documents(self) -> None:
        t = self.x.t
        for rx, kind, needle in (
            (RX_NORMATIVE, NORMATIVE_DOCUMENTS, "规范性文件"),
            (RX_REGULATIONS, REGULATIONS, "规章"),
        ):
            for m in _near(rx, t, self.at, (needle,), 120, 14):
                f1 = m["f1"]
                if _DOC_EXCLUDE.search(f1):
                    continue
                if kind == REGULATIONS and re.search(r"法律|法规|规范性", t[max(0, m.start() - 6) : m.end()]):
                    continue
                if self.other_period(m.start()) or self.wider_area(m.start()):
                    continue
                if self.year is not None and any(int(y) != self.year for y in _YEAR.findall(f1)):
                    continue
                self.count_match(kind, m)

    def enumerations(self) -> None:
        if not any(w in self.at for w in _ENUM_WORDS):
            return
        x = self.x
        tp = x.tp
        for m in _near(RX_ENUM_HEAD, tp, self.at, _ENUM_WORDS, 30, 3):
            total = to_number(m["n"])
            if total is None or tp[max(0, m.start() - 1) : m.start()] in _APPROX_BEFORE:
                continue
            # A list runs to the end of its sentence, which may be long (002 names 18 kinds of
            # information): the sentence's reach, not a clause's, still bounds the work.
            end = x.clause_end(m.end(), _PERIOD_CHARS, _SENTENCE_REACH)
            parts: list[Part] = []
            for seg in _SEGMENT.finditer(tp, m.end(), end):
                s0, s1 = seg.start(), seg.end()
                raw = seg.group(0).replace("※", "")
                if not raw:
                    continue
                if _SHARE_ONLY.match(raw):
                    continue
                pm = RX_PART.match(raw)
                if not pm or _PART_STOP.search(pm["label"]):
                    break
                value = to_number(pm["n"])
                if value is None:
                    break
                a, b = x.orig_span(s0, s1)
                label = pm["label"]
                parts.append(Part(label, value, (a, b)))
            if not parts:
                continue
            closed = len(parts) >= 2 and any(_PART_OTHER.match(p.label) for p in parts)
            ref = self.by_num_end.get(m.end("u"))
            # the claim reads from the total to the last part
            last = parts[-1].span[1]
            a = x.orig_span(m.start(), m.end())[0]
            s0, s1 = x.sentence(m.start())
            claim = Claim(
                kind=SUM,
                value=total,
                sentence=x.printed(s0, s1),
                span=(a, last),
                text=x.orig[a:last],
                sentence_span=x.orig_span(s0, s1),
                unit=m["u"],
                parts=tuple(parts),
                closed=closed,
                ref=ref.kind if ref else None,
            )
            self.pos[id(claim)] = m.start()
            self.claims.append(claim)

    def shares(self) -> None:
        if "占" not in self.at:
            return
        x = self.x
        tp = x.tp
        sums = [c for c in self.claims if c.kind == SUM]
        # Which 其中 lists cover each printed position: one lookup per share, not a scan of every list.
        in_sums: dict[int, list[int]] = {}
        for i, sm in enumerate(sums):
            for part in sm.parts:
                for pos in range(part.span[0], part.span[1]):
                    at = in_sums.setdefault(pos, [])
                    if not at or at[-1] != i:
                        at.append(i)
        apps = [(self._sq_start(c), c.value) for c in self.claims if c.kind in (RECEIVED, HANDLED)]
        for m in _near(RX_SHARE, tp, self.at, ("占",), 40, 32):
            count = to_number(m["n"])
            if count is None:
                continue
            p0 = x.paragraph(m.start())[0]
            a = x.orig_span(m.start(), m.end())[0]
            # the count is one of a 其中 list: the list's total
            bases: list[int | float] = [sums[i].value for i in in_sums.get(a, ())]
            # The total it is a share of stands before it in its paragraph; only the
            # last one counts, so the search need not go back further than a sentence.
            totals = [
                (t.start(), v)
                for t in RX_TOTAL.finditer(x.t, max(p0, m.start() - _SENTENCE_REACH), m.start())
                if (v := to_number(t["n"])) is not None and not self.other_period(t.start())
            ]
            for pos_list in (totals, apps):
                before = [v for pos, v in pos_list if p0 <= pos < m.start()]
                if before:
                    bases.append(before[-1])
            seen: list[int | float] = []
            for v in bases:
                if v not in seen:
                    seen.append(v)
            p1 = x.paragraph(m.start())[1]
            self.claims.append(
                self.make(
                    SHARE,
                    float(m["p"]),
                    m.start(),
                    m.end(),
                    unit="%",
                    decimals=_decimals(m["p"]),
                    approximate=bool(m["approx"]),
                    count=count,
                    bases=tuple(seen),
                    applications=x.has("申请", p0, p1) or "申请" in m["of"],
                )
            )

    def changes(self) -> None:
        if not any(w in self.at for w in YOY_NEEDLES) and "和上" not in self.at:
            return
        x = self.x
        tp = x.tp
        found: list[tuple[re.Match[str], int | float | None, str, int]] = []
        for m in _starting(RX_YOY, tp, self.at, YOY_NEEDLES):
            if m["multi"] or m["u"] in ("个百分点", "倍", "次"):
                continue
            amt = to_number(m["amt"])
            if amt is None:
                continue
            sign = -1 if m["dir"] in _DOWN else 1
            unit = "%" if m["u"] == "%" else "件"
            found.append((m, sign * amt, unit, _decimals(m["amt"])))
        for m in _starting(RX_FLAT, tp, self.at, (*YOY_NEEDLES, "和上")):
            found.append((m, 0, "%", 0))
        for m, value, unit, decimals in found:
            ref_year = next((int(m[g]) for g in ("y1", "y2", "y3") if m.groupdict().get(g)), None)
            subject, subject_kind = self._subject(m.start("cmp"))
            p0, p1 = x.paragraph(m.start())
            self.claims.append(
                self.make(
                    YOY,
                    value,
                    m.start(),
                    m.end(),
                    unit=unit,
                    decimals=decimals,
                    approximate=bool(m["approx"]),
                    applications=x.has("申请", p0, p1),
                    subject=subject,
                    subject_kind=subject_kind,
                    ref_year=ref_year,
                )
            )

    def _subject(self, cmp_pos: int) -> tuple[Claim | None, str | None]:
        """What a 同比 phrase at ``cmp_pos`` is about."""
        x = self.x
        c0 = x.clause_start(cmp_pos)
        clause = x.t[c0:cmp_pos]
        if _RATE.search(clause):
            return None, None  # 办结率/办理质量同比…: a rate or quality, not a count
        p0 = x.paragraph(cmp_pos)[0]
        for word, kind in _SUBJECT_WORDS:
            if word in clause:
                if not _QUANTITY.search(clause):
                    return None, None  # 受理申请同比…: which figure changed is not said
                kinds = (LITIGATION, LITIGATION_DIRECT, LITIGATION_AFTER_REVIEW) if kind == LITIGATION else (kind,)
                near = [c for c in self.claims if c.kind in kinds and p0 <= self._sq_start(c) < cmp_pos]
                return (near[-1] if near else None), kind
        # "… N 件，同比上升 X%" or "N 件同比上升 X%": the count right before
        counts = list(RX_COUNT.finditer(x.t, c0, cmp_pos))
        if counts and not re.search(r"\d", x.t[counts[-1].end() : cmp_pos]):
            m = counts[-1]
        else:
            if clause.strip("，,"):
                return None, None
            prev0 = x.clause_start(c0 - 1) if c0 > 0 and x.t[c0 - 1] in "，," else None
            if prev0 is None:
                return None, None
            counts = list(RX_COUNT.finditer(x.t, prev0, c0 - 1))
            if not counts or counts[-1].end() != c0 - 1:
                return None, None
            m = counts[-1]
        typed = self.by_num_end.get(m.end("u"))
        if typed is not None:
            return typed, typed.kind
        value = to_number(m["n"])
        if value is None:
            return None, None
        return self.make(COUNT, value, m.start(), m.end(), unit=m["u"]), None


def extract(narrative: str, year: int | None = None, agency: str | None = None) -> list[Claim]:
    """Every claim in ``narrative``, in reading order.

    ``year`` is the reporting year: a clause naming another year is not read as
    this year's figure. ``agency`` widens what counts as the agency's own when it
    is a whole government (全市/全区 figures are then its figures).
    """
    return _Reader(narrative, year, agency).read()


def claims_of(report: Report) -> list[Claim]:
    """The claims of a parsed :class:`~auditlib.report.Report`."""
    return extract(report.narrative, report.meta.year, report.meta.agency)


def of_kind(claims: Iterable[Claim], *kinds: str) -> list[Claim]:
    return [c for c in claims if c.kind in kinds]


# ------------------------------------------------------------------ where
_LEAD = re.compile(
    r"^\s*(?:[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|[一二三四五六七八九十]+是|\d+\s*[.、．])\s*[^。：:，,；;\n]{1,20}?[。：:]"
)


def section_marks(report: Report) -> list[tuple[int, str]]:
    """(offset in report.narrative, heading as printed) for each section found."""
    heads = {s.start: s.heading for s in report.sections.values()}
    marks: list[tuple[int, str]] = []
    off = 0
    for i, b in enumerate(report.document.blocks):
        if isinstance(b, Paragraph) and b.text:
            if i in heads:
                marks.append((off, heads[i]))
            off += len(b.text) + 1
    return marks


def where(report: Report, offset: int, marks: list[tuple[int, str]] | None = None) -> str:
    """The section (and the paragraph's own heading, if it has one) holding ``offset``."""
    if marks is None:
        marks = section_marks(report)
    section = "报告开头"
    for off, heading in marks:
        if off <= offset:
            section = heading
        else:
            break
    text = report.narrative
    p0 = text.rfind("\n", 0, offset) + 1
    p1 = text.find("\n", offset)
    para = text[p0 : p1 if p1 >= 0 else len(text)]
    lead = _LEAD.match(para)
    if lead and para.strip() != section.strip():
        return f"{section} {_WS.sub(' ', lead.group(0).strip()).rstrip('。：:')}"
    return section
