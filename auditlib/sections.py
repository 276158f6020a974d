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

_NUM = r"(?:[（(]?[{n}][）)]?[、.．,，:：]?|[{d}][、.．])?"
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
    found: list[tuple[str, int, str]] = []
    pos = begin
    for numeral in SECTION_NUMERALS:
        for i in range(pos, len(blocks)):
            b = blocks[i]
            # Headings are short; most paragraphs are not worth squashing.
            if not isinstance(b, Paragraph) or not b.text or len(b.text) > 80:
                continue
            text = squash(b.text)
            if len(text) > 40:
                continue
            if HEADING[numeral].match(text):
                found.append((numeral, i, b.text.strip()))
                pos = i + 1
                break
    out: dict[str, Section] = {}
    for k, (numeral, start, heading) in enumerate(found):
        end = found[k + 1][1] if k + 1 < len(found) else len(blocks)
        out[numeral] = Section(numeral, heading, start, end)
    return out
