"""The six sections of a report, found by their headings in real variants.

Headings come with or without their numeral (一、总体情况 / 总体情况), with the
2019 wording of section 五, and are repeated inside tables (三、本年度办理结果,
四、结转下年度继续办理): only a short paragraph that reads as the section's own
heading counts, and sections are looked for in their official order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditlib.blocks import Block, Paragraph
from auditlib.numbers import squash

SECTION_NUMERALS = ("一", "二", "三", "四", "五", "六")

SECTION_TITLES = {
    "一": "总体情况",
    "二": "主动公开政府信息情况",
    "三": "收到和处理政府信息公开申请情况",
    "四": "政府信息公开行政复议、行政诉讼情况",
    "五": "存在的主要问题及改进情况",
    "六": "其他需要报告的事项",
}

_NUM = r"(?:[（(]?[{n}][）)]?[、.．,，:：]?|[{d}][、.．]|第[{n}]部分[、.．,，:：]?)?"
# Markdown that html-to-text converters put around a heading: ## 一、总体情况, **一、总体情况**.
_MARKDOWN = re.compile(r"^#{1,6}|^(?:\*\*|__)|(?:\*\*|__)$")
_BODY = {
    "一": r"(?:政府信息公开工作)?(?:总体|基本|整体)情况",
    "二": r"主动公开政府信息(?:的)?情况",
    "三": r"收到和处理政府信息公开申请(?:的)?情况",
    "四": r"(?:政府信息公开)?行政复议[、和及与]?(?:行政)?诉讼(?:的)?情况",
    "五": r"(?:政府信息公开)?(?:工作)?存在的?(?:主要)?问题(?:及|和|与)改进(?:情况|措施)",
    "六": r"其他需要报告的事项",
}
_ARABIC = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6"}
HEADING = {
    n: re.compile("^" + _NUM.format(n=n, d=_ARABIC[n]) + "(?:" + body + r")[。：:]?$")
    for n, body in _BODY.items()
}


@dataclass(frozen=True)
class Section:
    numeral: str
    heading: str  # as printed
    start: int  # block index of the heading
    end: int  # block index where the next section starts (exclusive)


def find_sections(blocks: list[Block], begin: int = 0) -> dict[str, Section]:
    """Headings in order; a section that cannot be found is simply absent."""
    # Headings are short: only short paragraphs are candidates, each squashed once
    # (a section that is missing would otherwise make every later block be looked at again).
    candidates: list[tuple[int, str]] = []
    for i in range(begin, len(blocks)):
        b = blocks[i]
        if b.__class__ is Paragraph and b.text and len(b.text) <= 80:
            text = squash(b.text)
            if len(text) <= 40:
                if text[0] in "#*_":
                    text = _MARKDOWN.sub("", text)
                candidates.append((i, text))
    found: list[tuple[str, int, str]] = []
    k = 0
    for numeral in SECTION_NUMERALS:
        match = HEADING[numeral].match
        for n in range(k, len(candidates)):
            i, text = candidates[n]
            if match(text):
                found.append((numeral, i, blocks[i].text.strip()))
                k = n + 1
                break
    out: dict[str, Section] = {}
    for k, (numeral, start, heading) in enumerate(found):
        end = found[k + 1][1] if k + 1 < len(found) else len(blocks)
        out[numeral] = Section(numeral, heading, start, end)
    return out


# A heading standing inside a paragraph needs its numeral: 二、主动公开政府信息情况.
_INLINE = {
    n: re.compile(rf"(?:[（(]{n}[）)]|{n}[、.．])\s*(?:{body})[。：:]?")
    for n, body in _BODY.items()
}
_RUN_ON_MIN = 200  # a paragraph shorter than this holds no whole report
_YEAR = r"(?:\d{4}|[〇零○一二三四五六七八九]{4})"
_DATE = rf"{_YEAR}\s*年\s*[\d〇零○一二三四五六七八九十]{{1,3}}\s*月\s*[\d〇零○一二三四五六七八九十]{{1,3}}\s*日"
# A title at the start of a stretch (not the cover letter's 《…年度报告》 or …年度报告的函).
_TITLE_START = re.compile(rf"^[^。：:《》]{{0,40}}?{_YEAR}\s*年度?[^。：:《》]{{0,40}}?信息公开(?:工作)?年度?报告(?![的》」』])")
# Section 一 is often headed without its numeral, straight after the title.
_ONE_UNNUMBERED = re.compile(rf"^(?:{_BODY['一']})")
# A signature and its date after a sentence ends: 。柳州市人民政府办公室2022年1月26日
_SIGNED = re.compile(
    rf"(?:(?<=[。！；;!])|^)\s*(?P<sig>[^。！；;!，,：:\d\s]{{2,30}}?(?:人民政府|政府|办公室|办公厅|局|委员会|办事处|街道|镇|乡|厅|院|中心))?"
    rf"\s*(?P<date>{_DATE})"
)
_SENTENCE_END = re.compile(r"(?<=[。！？])")


def split_run_on(blocks: list[Block]) -> list[Block]:
    """Crawler text with the whole body on one line: split it at its section headings.

    Only a paragraph with at least three of the six headings, in order, is split;
    the title before the first heading and the signature and date at the end are
    split off too, so that the title, sections and signing date are found as in
    any report. Table cells run together in it stay as they are: no reading of
    them is safe (see :func:`auditlib.tables.unreadable_reason`).
    """
    out: list[Block] | None = None
    for k, b in enumerate(blocks):
        pieces = _split(b.text) if isinstance(b, Paragraph) and len(b.text) > _RUN_ON_MIN else None
        if pieces is None:
            if out is not None:
                out.append(b)
            continue
        if out is None:
            out = list(blocks[:k])
        out.extend(Paragraph(p, line=b.line) for p in pieces if p)
    return blocks if out is None else out


def _split(text: str) -> list[str] | None:
    if text.count("情况") < 3:
        return None
    cuts: list[tuple[int, int]] = []
    pos = 0
    for n in SECTION_NUMERALS:
        m = _INLINE[n].search(text, pos)
        if m:
            cuts.append((m.start(), m.end()))
            pos = m.end()
    if len(cuts) < 3:
        return None
    pieces = _lead(text[: cuts[0][0]])
    for k, (a, b) in enumerate(cuts):
        end = cuts[k + 1][0] if k + 1 < len(cuts) else len(text)
        pieces.append(text[a:b].strip())
        body = text[b:end]
        pieces += _signed(body) if k + 1 == len(cuts) else [body.strip()]
    return pieces


def _lead(text: str) -> list[str]:
    """What comes before the first heading: cover letter, title, section 一's unnumbered heading."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        for chunk in _signed(sentence):
            t = _TITLE_START.match(chunk)
            if not t:
                out.append(chunk)
                continue
            out.append(t.group(0).strip())
            rest = chunk[t.end() :]
            one = _ONE_UNNUMBERED.match(rest.strip())
            if one:
                rest = rest.strip()
                out += [one.group(0), rest[one.end() :]]
            else:
                out.append(rest)
    return [p.strip() for p in out if p.strip()]


def _signed(text: str) -> list[str]:
    """A signature and date after a sentence, on lines of their own: before, signature, date, after."""
    # The last one: a signature closes the letter or the report.
    m = next(reversed(list(_SIGNED.finditer(text))), None)
    if m is None:
        return [text.strip()]
    return [p.strip() for p in (text[: m.start()], m["sig"] or "", m["date"], text[m.end() :]) if p.strip()]
