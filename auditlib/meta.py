"""Who reported, for which year, and when: title, agency, year, signing and publication dates."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from auditlib.blocks import Block, Paragraph
from auditlib.numbers import DATE_RX, ISO_DATE_RX, parse_year, squash, to_date

_YEAR = r"(?P<year>\d{4}|[〇零○一二三四五六七八九]{4})"
TITLE_RX = re.compile(rf"^(?P<agency>.*?){_YEAR}年度?(?:政府)?信息公开(?:工作)?年度?报告$")
# Less usual wordings: …关于2021年政府信息公开工作的年度报告, …政府信息公开工作2021年度报告,
# …2021年度政府信息公开工作报告.
TITLE_OTHER_RX = re.compile(
    rf"^(?P<agency>.*?)(?:关于{_YEAR}年度?(?:政府)?信息公开(?:工作)?(?:情况)?的?(?:年度)?报告"
    rf"|(?:政府)?信息公开(?:工作)?(?P<year2>\d{{4}}|[〇零○一二三四五六七八九]{{4}})年度?报告"
    rf"|(?P<year3>\d{{4}}|[〇零○一二三四五六七八九]{{4}})年度?(?:政府)?信息公开工作(?:情况)?报告)$"
)
# What a page wraps a title in: 《…》, （全文）, 关于…的公告.
_TITLE_WRAP = re.compile(r"^(?:关于)?[《〈“\"]?(?P<inner>.+?)[》〉”\"]?(?:[（(]全文[）)]|全文)?(?:的(?:公告|通知|公示))?$")
# The year before the agency: 2019年上海市人民政府办公厅政府信息公开工作年度报告.
TITLE_YEAR_FIRST_RX = re.compile(rf"^{_YEAR}年度?(?P<agency>.+)信息公开(?:工作)?年度?报告$")
# Crawler dumps put the page's fields first: 标题:… / 发布时间:… / 原文链接:…
CRAWLER_FIELD_RX = re.compile(r"^(?:标题|文章标题|题目|title)\s*[:：]\s*", re.IGNORECASE)
URL_LINE_RX = re.compile(r"^(?:原文链接|原文地址|原文网址|链接|网址|来源链接|页面地址|url)\s*[:：]\s*(?P<url>https?://\S+)", re.IGNORECASE)
DATE_LINE_RX = re.compile(rf"^{DATE_RX.pattern}$")
ISO_LINE_RX = re.compile(rf"^{ISO_DATE_RX.pattern}$")
# A date line may be labelled (日期：…) or follow the agency on one line (…局  2022年1月20日).
_DATE_LABEL = re.compile(r"^(?:落款|成文)?(?:日期|时间)[:：]")
_DATE_AFTER_NAME = re.compile(rf"^(?P<who>[^\d:：]{{2,30}}?)(?:{DATE_RX.pattern})$")
PUBLISHED_RX = re.compile(r"(?:发布|公开|成文)(?:日期|时间)[:：]?\s*")

AGENCY_SUFFIX = re.compile(
    r"(?:人民政府|政府|办公室|办公厅|局|委员会|委|办事处|街道办|街道|镇|乡|厅|院|中心|所|站|署|部|会|队|办)$"
)
# Words that name a kind of office, not which one: a title made only of these
# ("政府办公室") does not say who reported.
_GENERIC = re.compile(r"人民政府|政府|办公室|办公厅|办事处|街道办|街道|本|我|省|市|区|县|镇|乡|局|委")
_PLACE = r"(?:[\u4e00-\u9fff]{2,6}?(?:自治区|自治州|自治县|省|市|区|县|旗|盟|州))+"


@dataclass
class Meta:
    agency: str | None
    year: int | None
    title: str | None
    title_agency: str | None  # the agency as the title names it (None: it does not)
    agency_source: str  # title | signature | body | none
    signed_on: dt.date | None
    signed_text: str | None
    published_on: dt.date | None
    published_text: str | None
    title_index: int | None
    url: str | None = None  # the page the report was taken from, where a crawler dump names it


def is_generic(name: str | None) -> bool:
    if not name:
        return True
    return len(_GENERIC.sub("", name)) < 2


def is_abbreviation(short: str, full: str) -> bool:
    """城中街道办 abbreviates 柳州市城中区城中街道办事处: its characters in order."""
    it = iter(full)
    return all(ch in it for ch in short)


_MARKDOWN = re.compile(r"^(?:#{1,6}\s*)?(?:\*\*|__)?(?P<inner>.*?)(?:\*\*|__)?$")


def _strip_field(text: str) -> str:
    """标题:XXX → XXX (a crawler's field name before the title); # XXX, **XXX** → XXX (Markdown)."""
    m = CRAWLER_FIELD_RX.match(text)
    text = text[m.end() :] if m else text
    if text[:1] in ("#", "*", "_"):
        text = _MARKDOWN.match(text)["inner"]
    return text


def _match_title(text: str) -> tuple[str, int | None] | None:
    """(agency part, year) when ``text`` (squashed) is a report title."""
    text = _strip_field(text)
    found = _match_bare_title(text)
    if found is None:
        w = _TITLE_WRAP.match(text)
        if w and w["inner"] != text:
            found = _match_bare_title(w["inner"])
    return found


def _match_bare_title(text: str) -> tuple[str, int | None] | None:
    m = TITLE_RX.match(text)
    if m and m["agency"]:
        return m["agency"], parse_year(m["year"])
    y = TITLE_YEAR_FIRST_RX.match(text)
    if y:
        agency = y["agency"]
        # 上海市人民政府办公厅政府信息公开: the 政府 belongs to 政府信息公开
        if agency.endswith("政府") and AGENCY_SUFFIX.search(agency[:-2]) and not agency.endswith("人民政府"):
            agency = agency[:-2]
        if not is_generic(agency):
            return agency, parse_year(y["year"])
    if m:
        return m["agency"], parse_year(m["year"])
    o = TITLE_OTHER_RX.match(text)
    if o:  # an empty or generic agency part: a title that does not say who (TITLE_AGENCY_MISSING)
        agency = o["agency"] + ("政府" if o["agency"].endswith("人民") else "")
        return agency, parse_year(o["year"] or o["year2"] or o["year3"])
    return None


def find_title(blocks: list[Block], limit: int = 60) -> tuple[int, str, str, int | None] | None:
    """(block index, title as printed, agency part, year) of the report's title.

    A title broken over two lines inside its words is read joined (柳州市人民政府办公室2021年政府信息 /
    公开工作年度报告).
    """
    prev: tuple[int, str] | None = None  # the paragraph before, while it could start a wrapped title
    for i, b in enumerate(blocks[:limit]):
        if not isinstance(b, Paragraph) or not b.text:
            continue
        raw = b.text
        # Every title ends in 报告 and is short: most paragraphs need no regex at all.
        if "报告" in raw and len(raw) <= 100:
            text = squash(raw)
            found = _match_title(text)
            if found:
                # (An agency alone on the line above is joined by extract_meta.)
                return i, _strip_field(raw.strip()), found[0], found[1]
            if prev is not None and len(text) <= 40 and not CRAWLER_FIELD_RX.match(text):
                # Broken inside the words: 柳州市人民政府办公室2021年政府信息 / 公开工作年度报告
                joined = _match_title(_strip_field(squash(prev[1])) + text)
                if joined and joined[0]:
                    return prev[0], _strip_field(prev[1].strip()) + raw.strip(), joined[0], joined[1]
        short = len(raw) <= 60 and len(squash(raw)) <= 40
        prev = (i, raw) if short and not DATE_RX.search(raw) and "报告" not in raw else None
    return None


def find_url(blocks: list[Block], limit: int = 12) -> str | None:
    """The 原文链接 a crawler dump names in its first lines."""
    for b in blocks[:limit]:
        if isinstance(b, Paragraph) and "http" in b.text:
            m = URL_LINE_RX.match(b.text.strip())
            if m:
                return m["url"]
    return None


def _date_lines(blocks: list[Block], start: int, end: int) -> list[tuple[int, dt.date, str, str | None]]:
    """Lines that are a date and nothing more (2022年1月20日, 2022-01-20, 日期：…), or an agency's
    name and a date (…局  2022年1月20日): (index, date, line, the name on the line or None)."""
    out = []
    for i in range(max(start, 0), min(end, len(blocks))):
        b = blocks[i]
        if isinstance(b, Paragraph) and b.text and len(text := squash(b.text)) <= 60:
            text = _DATE_LABEL.sub("", text)
            who = None
            m = DATE_LINE_RX.match(text) or ISO_LINE_RX.match(text)
            if m is None:
                m = _DATE_AFTER_NAME.match(text)
                if m is None or not AGENCY_SUFFIX.search(m["who"]):
                    continue
                who = m["who"]
            d = to_date(m["y"], m["m"], m["d"])
            if d:
                out.append((i, d, b.text.strip(), who))
    return out


def _signature_before(blocks: list[Block], index: int) -> str | None:
    """The agency name signed just above a date line."""
    for j in range(index - 1, max(index - 4, -1), -1):
        b = blocks[j]
        if isinstance(b, Paragraph) and b.text:
            text = squash(b.text)
            if len(text) <= 30 and AGENCY_SUFFIX.search(text) and "：" not in text:
                return text
            return None
    return None


def extract_meta(blocks: list[Block], section_six: int | None, body_text: str) -> Meta:
    title = find_title(blocks)
    t_index, t_text, t_agency, year = (title if title else (None, None, None, None))
    if title and not t_agency and t_index:
        # Title broken over two lines: 柳州市人民政府办公室 / 2021年政府信息公开工作年度报告
        for j in range(t_index - 1, max(t_index - 3, -1), -1):
            b = blocks[j]
            if isinstance(b, Paragraph) and b.text:
                prev = squash(b.text)
                if len(prev) <= 30 and AGENCY_SUFFIX.search(prev):
                    t_agency = prev
                    t_text = b.text.strip() + t_text
                break

    # Dates standing alone on a line: under the report, or on its cover letter.
    signed = None
    after = _date_lines(blocks, section_six if section_six is not None else len(blocks), len(blocks))
    before = _date_lines(blocks, 0, t_index) if t_index else []
    chosen = after[0] if after else (before[-1] if before else None)
    if chosen is None and section_six is None:
        tail = _date_lines(blocks, max(len(blocks) - 15, 0), len(blocks))
        chosen = tail[-1] if tail else None
    signature = None
    if chosen:
        signed = chosen
        signature = chosen[3] or _signature_before(blocks, chosen[0])

    published = None
    for b in blocks:
        if isinstance(b, Paragraph) and b.text:
            m = PUBLISHED_RX.search(b.text)
            if m:
                rest = b.text[m.end() :]
                dm = ISO_DATE_RX.match(rest.strip()) or DATE_RX.match(squash(rest))
                if dm:
                    d = to_date(dm["y"], dm["m"], dm["d"])
                    if d:
                        published = (d, b.text.strip())
                        break

    title_names = None if is_generic(t_agency) else t_agency
    agency, source = title_names, "title" if title_names else "none"
    if title_names and signature and signature != title_names and is_abbreviation(title_names, signature):
        agency, source = signature, "signature"
    if agency is None and signature and not is_generic(signature):
        agency, source = signature, "signature"
    if agency is None:
        agency = _agency_from_body(body_text, t_agency)
        source = "body" if agency else "none"

    if year is None:
        m = re.search(r"统计期限.{0,6}?(\d{4})\s*年\s*1\s*月\s*1\s*日", body_text)
        if m:
            year = int(m.group(1))

    return Meta(
        agency=agency,
        year=year,
        title=t_text,
        title_agency=title_names,
        agency_source=source,
        signed_on=signed[1] if signed else None,
        signed_text=signed[2] if signed else None,
        published_on=published[0] if published else None,
        published_text=published[1] if published else None,
        title_index=t_index,
        url=find_url(blocks),
    )


def _agency_from_body(text: str, generic: str | None) -> str | None:
    """A title that says only 政府办公室: find the full name in the report's own words."""
    tail = generic or "人民政府办公室"
    tail = tail.replace("人民政府", "政府").replace("政府", "(?:人民)?政府")
    tail = re.sub(r"^[省市区县镇乡]", "", tail)
    rx = re.compile(f"(?<![\u4e00-\u9fff]){_PLACE}{tail}|(?<=[《“\"（(])" + f"{_PLACE}{tail}")
    names = Counter(m.group(0) for m in rx.finditer(text))
    if not names:
        return None
    return names.most_common(1)[0][0]
