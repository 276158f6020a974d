"""Flattened text reports: decode whatever encoding they came in, rebuild the tables.

Text extracted from a web page or a Word file keeps a table only as a trace:
one cell per tab-led line with a blank line between rows, or tab-separated rows,
or (from web pages) one cell per line with a blank line between cells, or rows
whose columns are set off by spaces or pipes (pdftotext, Markdown; see
:func:`spaced_row`). This module turns those traces back into
:class:`~auditlib.blocks.Table` blocks so that the parser sees the same shape as
from .docx or .html.
"""

from __future__ import annotations

import codecs
import operator
import re

import charset_normalizer

from auditlib.blocks import Block, Document, IngestError, Paragraph, Table
from auditlib.limits import MAX_CHARS, limit_error
from auditlib.numbers import is_value, squash

# UTF-32 LE before UTF-16 LE: its BOM begins with UTF-16 LE's.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Characters that take a full em in Chinese typesetting (CJK, kana, full-width forms,
# Chinese quotes and dashes), as a regex character class body. A space or line break
# next to one is an artefact of extraction or of wrapping, not something the author typed.
WIDE_CHARS = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3200-\u33ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\u2018\u2019\u201c\u201d\u2026\u2014\u00b7"
)


def bom_encoding(data: bytes) -> str | None:
    """The encoding the data's byte-order mark names, or None without one."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    return None


def decode(data: bytes) -> tuple[str, str]:
    """Decode report bytes; return (text, encoding). Never guesses UTF-8 and crashes."""
    enc = bom_encoding(data)
    if enc:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            raise IngestError(
                "UNKNOWN_ENCODING", f"文件以 {enc} 标记开头，但内容无法按此编码读取 (BOM says {enc}, content does not decode)"
            ) from None
    if not data.strip():
        raise IngestError("EMPTY", "文件为空 (empty file)")
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass  # looked like UTF-16 but is not (odd length, lone surrogates): binary below
    if b"\x00" in data[:65536]:
        raise IngestError("BINARY", "文件是二进制数据，不是文本报告 (binary file, not a text report)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312; strict decoding of real
        # Chinese text in it almost never fails, and random bytes usually do.
        # Tried before detection, which on a short text happily guesses Johab or Big5.
        text = data.decode("gb18030")
        if _looks_like_text(text) and reads_as_chinese(text):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    if best is not None:
        text = data.decode(best.encoding, errors="replace")
        if _looks_like_text(text):
            return text, best.encoding
    raise IngestError("UNKNOWN_ENCODING", "无法识别文件的字符编码 (cannot determine the text encoding)")


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    half = len(sample) / 2
    # ASCII-heavy UTF-16 shows NULs in every other byte; CJK-only UTF-16 does
    # not, so also accept a strict decode that yields mostly CJK.
    if odd_nul > 0.3 * half and even_nul < 0.05 * half:
        return "utf-16-le"
    if even_nul > 0.3 * half and odd_nul < 0.05 * half:
        return "utf-16-be"
    if len(data) % 2 == 0 and b"\x00" in sample:
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data[:4096].decode(enc)
            except UnicodeDecodeError:
                continue
            cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
            if cjk > 0.3 * len(text):
                return enc
    return None


def reads_as_chinese(text: str) -> bool:
    """Nearly every non-ASCII character is a CJK ideograph, CJK punctuation or a full-width form."""
    wide = [ch for ch in text[:50000] if ord(ch) > 0x7F]
    cjk = sum("\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef" for ch in wide)
    return cjk >= 0.9 * len(wide)


def _looks_like_text(text: str) -> bool:
    if not text:
        return False
    sample = text[:20000]
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n\f") or ch == "\ufffd")
    return bad < 0.01 * len(sample)


# ------------------------------------------------------------ table traces
HEADING_START = re.compile(r"^[一二三四五六七八九十]+[、.．]")

def _double_spaced(lines: list[str]) -> bool:
    """True when the extractor put a blank line after every line (web-page text).

    In such a file a run of k blank lines holds k-1 empty cells.
    """
    blank = [not ln or ln.isspace() for ln in lines]
    gaps = len(lines) - sum(blank) - 1  # between one filled line and the next
    if gaps < 19:
        return False
    # Filled lines with another filled line straight after: the gaps that are not wide.
    narrow = len(lines) - 1 - sum(map(operator.or_, blank, blank[1:]))
    return gaps - narrow >= 0.9 * gaps


def read_text(data: bytes, source: str) -> Document:
    text, encoding = decode(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    if len(squash(text)) > MAX_CHARS:
        # More text than any report holds: refused now rather than after its tables are rebuilt.
        raise limit_error("TEXT_LIMIT", MAX_CHARS)
    lines = text.split("\n")
    if _SPACED_NUMBERS.search(text):  # a layout of spaces: one pass more, only then
        lines = order_split_rows(lines)
    blocks = blocks_from_lines(lines)
    # Text, or a table, anywhere (text usually comes first: looked for first).
    if not any(b.text if b.__class__ is Paragraph else True for b in blocks):
        raise IngestError("EMPTY", "文件中没有文字 (no text in file)")
    return Document(source=source, blocks=blocks, kind="text", encoding=encoding)


_SPACES = " \u3000\u00a0"


def blocks_from_lines(lines: list[str]) -> list[Block]:
    # One pass, a line at a time: the reader's hottest loop (every text report's every
    # line), so the common cases (blank line, running text) are tested first and the
    # ends of rows and tables are written out in place rather than called.
    blocks: list[Block] = []
    double = _double_spaced(lines)
    rows: list[list[str | None]] = []  # the table being rebuilt
    row: list[str | None] = []  # its current row (cell-per-line layout)
    table_line = 0
    last_kind = ""  # "cell", "row", "blank" (after a table line), "text"
    blank_run = 0

    for no, line in enumerate(lines, 1):
        if "\t" not in line:
            if not line or not line.strip(_SPACES):
                blank_run += 1
                if last_kind == "cell":
                    if row:
                        rows.append(row)
                        row = []
                    last_kind = "blank"
                elif last_kind == "row":
                    last_kind = "blank"
                continue
            # A row laid out with spaces or pipes? Cheap tests first: most lines are one word.
            cells = (
                spaced_row(line)
                if (line[-1] in _ROW_ENDS or line[-1] in _SPACES)
                and (" " in line or "\u3000" in line or "|" in line or "｜" in line or "\u00a0" in line
                     or "\u2002" in line or "\u2003" in line)
                else None
            )
            if cells is None:
                if (last_kind == "cell" and _is_fragment(line)) or (
                    last_kind == "blank" and not row and rows and _continues(rows, line)
                ):
                    # A cell broken over two lines: the tail has no leading tab.
                    target = row if row else rows[-1]
                    target[-1] = (target[-1] or "") + line
                    last_kind = "cell"
                else:
                    if row or rows:  # the table before this text ends
                        if row:
                            rows.append(row)
                            row = []
                        blocks.append(Table(rows, table_line))
                        rows = []
                    if double and blank_run >= 2 and blocks and isinstance(blocks[-1], Paragraph):
                        # Web-page text: the extra blank line is an empty cell.
                        blocks.extend(Paragraph("", no - 1) for _ in range(blank_run - 1))
                    blocks.append(Paragraph(line.strip(" \u3000\u00a0\t"), no))
                    last_kind = "text"
                blank_run = 0
                continue
            if not cells:  # a Markdown table's rule under its header: nothing to keep
                continue
        elif line[0] == "\t" and line.count("\t") == 1:  # one cell on its own line
            if not rows and not row:
                table_line = no
            row.append(line[1:])
            last_kind = "cell"
            blank_run = 0
            continue
        else:
            cells = line.split("\t")
        # A row: tab-separated, or laid out with spaces or pipes.
        if not rows and not row:
            table_line = no
        if row:
            rows.append(row)
            row = []
        rows.append(cells)
        last_kind = "row"
        blank_run = 0
    if row:
        rows.append(row)
    if rows:
        blocks.append(Table(rows, table_line))
    return blocks


_ROW_ENDS = frozenset("0123456789０１２３４５６７８９|｜")
_WIDE_GAP = re.compile(r"[ \u00a0\u2002]{2,}|[\u3000\u2003]+")
# A table row is a label and at most 15 numbers: a line longer than this is not one.
_MAX_ROW_CHARS = 600
_TOKEN = re.compile(r"\S+")
_ANY_SPACE = re.compile(r"[ \u00a0\u2002\u2003\u3000]")
_MD_RULE = re.compile(r"^:?-{3,}:?$")
_LAST_WIDE = re.compile(r"(?:[ \u00a0\u2002]{2,}|[\u3000\u2003])\S+$")
# One value after one space: only after a short label of words alone (行政许可 120).
_SHORT_LABEL = re.compile(r"^[^\s\d０-９]{2,12} \S+$")


def spaced_row(line: str) -> list[str] | None:
    """A table row that the extractor laid out with spaces or pipes instead of tabs, as cells.

    Markdown (``| 规章 | 0 | 0 | 3 |``, what html-to-text converters write) is a row
    whatever it holds; its rule line (``|---|---|``) is ``[]``. Otherwise a line is a row
    only when it ends in numbers: two or more, each set off by white space, or one set
    off by a wide gap (two spaces, an ideographic space) or following a short label of
    words alone; what comes before them must read as a label (short, no sentence in
    it). Running text that ends in figures (``联系电话：0772 2819123``) is not a row: a
    count is never printed with a leading 0. ``None`` when the line is not a row.
    """
    s = line.strip(_SPACES)
    if len(s) > _MAX_ROW_CHARS or (not _ANY_SPACE.search(s) and s[:1] not in ("|", "｜")):
        return None  # one word (a cell on its own line, the commonest line), or far too long for a row
    if len(s) > 2 and s[0] in "|｜" and s[-1] in "|｜":
        cells = [c.strip(_SPACES) for c in re.split(r"[|｜]", s[1:-1])]
        if all(_MD_RULE.match(c) for c in cells):
            return []
        return cells if len(cells) >= 2 else None
    tokens = s.split()
    n = len(tokens)
    k = 0
    while k < n and is_value(tokens[-1 - k]):
        k += 1
    if k == 0:
        return None
    numbers = tokens[n - k :]
    if any(len(t) > 1 and t[0] in "0０" and t[1:2].isdigit() for t in numbers):
        return None
    if k == n:  # numbers alone (表四's row, or a row whose label stands on another line)
        return numbers
    if k == 1 and not _LAST_WIDE.search(s) and not _SHORT_LABEL.match(s):
        return None
    end = len(s)
    for tok in reversed(numbers):  # where the numbers begin: only white space between them
        end = s.rfind(tok, 0, end)
    lead = s[:end].strip(_SPACES)
    if len(lead) > 60 or any(p in lead for p in "。；;！？"):
        return None
    return [*(c for c in _WIDE_GAP.split(lead) if c), *numbers]


_SPACED_NUMBERS = re.compile(r"[\d０-９][ \u00a0\u2002]{2,}[\d０-９]|[\d０-９][\u3000\u2003][\d０-９]")
_NUMBER_AT = re.compile(r"(?<!\S)[-+−]?[\d０-９][\d０-９,，.．]*(?!\S)")


def _numbers_at(line: str) -> tuple[bool, list[tuple[int, str]]] | None:
    """(whether text stands before them, [(column, number)]) for a line that ends in numbers set
    off by spaces; None for any other line."""
    s = line.rstrip()
    if not s or len(s) > _MAX_ROW_CHARS or s[-1] not in _ROW_ENDS or "|" in s or "｜" in s:
        return None
    tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(s)]
    # Only the trailing run of numbers: text before them is the row's label.
    k = 0
    while k < len(tokens) and _NUMBER_AT.fullmatch(tokens[-1 - k][1]):
        k += 1
    if k == 0:
        return None
    return k < len(tokens), tokens[len(tokens) - k :]


def order_split_rows(lines: list[str]) -> list[str]:
    """Lines laid out with spaces (pdftotext -layout) where one table row's numbers stand on two
    lines, out of column order, joined into one line in column order.

    A row whose label wraps over lines has its numbers printed beside whichever line is
    level with them: （二）部分公开（区分处理的…  17 / 5  3  0  0  9  0 puts the total first.
    Read in line order that shifts every value one column. When a line of numbers with no
    label starts left of where the numbers of the number line above it end (blank lines
    between allowed, nothing else), the two are one row: their numbers are ordered by the
    column they stand in, behind the label of the first. The line above must hold a label
    or a single number (a total printed level with the label's first line).
    """
    out: list[str] | None = None
    # (index in out, the label as printed or None, the row's numbers with their columns)
    prev: tuple[int, str | None, list[tuple[int, str]]] | None = None
    for i, line in enumerate(lines):
        if "\t" in line or not line or line.isspace():
            if out is not None:
                out.append(line)
            if line and not line.isspace():
                prev = None
            continue
        got = _numbers_at(line)
        if (
            got is not None
            and prev is not None
            and not got[0]
            and got[1][0][0] < prev[2][-1][0]
            and (prev[1] or len(prev[2]) == 1)  # after a label, or a number standing alone
            and len(prev[2]) + len(got[1]) <= 16  # a row has at most 15 numbers
        ):
            j, label, numbers = prev
            if out is None:
                out = list(lines[:i])
            merged = sorted(numbers + got[1])
            out[j] = (label + "  " if label else "") + "  ".join(tok for _, tok in merged)
            prev = (j, label, merged)
            continue
        if out is not None:
            out.append(line)
        if got is None:
            prev = None
        else:
            # The label is kept as printed: the line is rewritten once its numbers are joined.
            label = line[: got[1][0][0]].rstrip() if got[0] else None
            prev = (len(out) - 1 if out is not None else i, label, got[1])
    return lines if out is None else out


def _is_fragment(line: str) -> bool:
    """The tail of a cell that the extractor broke onto its own line: short, no heading numeral."""
    frag = line.strip(" \u3000\u00a0")
    return len(frag) <= 12 and not HEADING_START.match(frag)


def _continues(rows: list[list[str | None]], line: str) -> bool:
    """After a blank line, a short tab-less fragment can still finish a header cell (商业／企业)."""
    prev = rows[-1][-1] if rows[-1] else None
    frag = line.strip()
    # A number is never continued: 31 then 年 is a row's total then a label printed downwards.
    return bool(prev) and not is_value(prev) and len(frag) <= 4 and not any(ch.isdigit() for ch in frag) and "、" not in frag
