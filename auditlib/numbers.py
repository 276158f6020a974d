"""Numbers as reports write them: cell values with units and signs, Chinese numerals, dates."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

# Everything a report uses as white space inside a cell: NBSP, ideographic
# space, zero-width characters, BOMs left behind by copy and paste.
_SPACE = "\u00a0\u3000\u2002\u2003\u2009\u200b\u200c\u200d\ufeff\t\r\n "
_SPACE_RX = re.compile(f"[{_SPACE}]+")

_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９．，－＋％（）：",
    "0123456789.,-+%():",
)


def squash(text: str) -> str:
    """Remove every kind of white space (labels and cells compare this way)."""
    return _SPACE_RX.sub("", text)


def is_blank(cell: str | None) -> bool:
    return cell is None or not _SPACE_RX.sub("", cell)


# A value cell: optional 增/减/sign, a number (thousands separators allowed),
# optional unit. Anything else in a value position is unreadable, not zero.
_VALUE_RX = re.compile(
    r"^(?P<sign>增加|减少|增|减|\+|-|−|—)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<unit>项|件|个|条|次|万元|元|%)?$"
)


@lru_cache(maxsize=65536)
def parse_value(cell: str | None, signed: bool = False) -> int | float | None:
    """The number in a table cell, or None when the cell is blank or not a number.

    ``减3项`` is -3 when ``signed``; a decimal stays a float (万元 amounts).
    """
    if cell is None:
        return None
    text = squash(cell).translate(_FULLWIDTH)
    m = _VALUE_RX.match(text)
    if not m:
        return None
    num = m.group("num").replace(",", "")
    value: int | float = float(num) if "." in num else int(num)
    sign = m.group("sign")
    if sign in ("减", "减少", "-", "−", "—"):
        if not signed and sign in ("减", "减少"):
            # 减 in a column that is not a change is not a number we can trust
            return None
        value = -value
    return value


def is_value(cell: str | None) -> bool:
    """True when the cell holds something that reads as a number."""
    if cell is None:
        return False
    return bool(_VALUE_RX.match(squash(cell).translate(_FULLWIDTH)))


# ------------------------------------------------------------ Chinese numerals
_CN_DIGIT = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "О": 0, "O": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
CN_NUM_CHARS = "〇零○一二两三四五六七八九十百千万亿"


def cn_to_int(text: str) -> int | None:
    """二〇二二 → 2022 (digit by digit), 十四 → 14, 一百零五 → 105, 3 → 3."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if all(ch in _CN_DIGIT for ch in text):
        # A year or a code written digit by digit: 二〇二二
        if len(text) > 1:
            return int("".join(str(_CN_DIGIT[ch]) for ch in text))
        return _CN_DIGIT[text]
    total = section = digit = 0
    for ch in text:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            section += (digit or 1) * _CN_UNIT[ch]
            digit = 0
        elif ch in _CN_BIG:
            total += (section + digit) * _CN_BIG[ch]
            section = digit = 0
        else:
            return None
    return total + section + digit


_NUM = r"(?:\d+|[〇零○一二三四五六七八九十]+)"
DATE_RX = re.compile(
    rf"(?P<y>\d{{4}}|[〇零○一二三四五六七八九]{{4}})\s*年\s*(?P<m>{_NUM})\s*月\s*(?P<d>{_NUM})\s*日"
)
ISO_DATE_RX = re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")


def to_date(y: str, m: str, d: str) -> dt.date | None:
    yi, mi, di = cn_to_int(y), cn_to_int(m), cn_to_int(d)
    if yi is None or mi is None or di is None:
        return None
    try:
        return dt.date(yi, mi, di)
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    """The first date in ``text``: 2022年1月26日, 二〇二二年一月十四日 or 2021-01-29."""
    m = DATE_RX.search(text)
    if m:
        return to_date(m["y"], m["m"], m["d"])
    m = ISO_DATE_RX.search(text)
    if m:
        return to_date(m["y"], m["m"], m["d"])
    return None


def parse_year(text: str) -> int | None:
    y = cn_to_int(text)
    if y is not None and 1990 <= y <= 2100:
        return y
    return None
