"""Parse 表二, 表三 and 表四 out of a document's blocks, by their row labels.

Real reports break the official grid in every way (merged rows split, cells
broken over lines, extra trailing cells, a header repeated mid-table), so the
parser does not trust positions. It walks the table's cells in reading order,
finds each official row label in turn, and takes the value cells that follow
the label. Placing those values is where a wrong answer is worst: a value is
put in a column only when every reading of the row agrees on it. Otherwise the
cell stays ``None`` and a :class:`ShapeWarning` says what was seen.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from auditlib.blocks import Block, Paragraph
from auditlib.layouts import TABLE_NAMES, Layout, Row, layout
from auditlib.numbers import is_blank, is_value, parse_value, squash

Number = int | float


class Cell(NamedTuple):
    # A NamedTuple: a report has hundreds of cells and they are built on every parse.
    text: str
    row: int  # running row number inside the region (rows of a Table, or paragraphs)
    block: int  # index of the block it came from
    line: int | None


@dataclass(frozen=True)
class ShapeWarning:
    table: str  # "table2" | "table3" | "table4"
    row: str | None  # row key, None for the whole table
    message: str  # Chinese, for people
    seen: str  # the cells as printed

    def __str__(self) -> str:
        where = TABLE_NAMES[self.table] + (f" {self.row}" if self.row else "")
        return f"{where}: {self.message}（所见：{self.seen}）"


@dataclass
class ParsedTable:
    """One table of one report: values by (row, column) and how they were read."""

    layout: Layout
    values: dict[tuple[str, str], Number | None] = field(default_factory=dict)
    raw: dict[tuple[str, str], str | None] = field(default_factory=dict)  # cell text as printed
    labels: dict[str, str] = field(default_factory=dict)  # row label as printed
    lines: dict[str, int | None] = field(default_factory=dict)  # where each row stands
    found: bool = False
    warnings: list[ShapeWarning] = field(default_factory=list)
    # Cells that the report left blank or wrote unreadably (not those nulled for shape).
    missing: list[tuple[str, str]] = field(default_factory=list)
    uncertain: list[tuple[str, str]] = field(default_factory=list)

    @property
    def table(self) -> str:
        return self.layout.table

    def get(self, row: str, col: str) -> Number | None:
        return self.values.get((row, col))

    def row_text(self, row: str) -> str:
        """The row as printed: its label and its cells, for evidence."""
        label = self.labels.get(row) or self.layout.row(row).label
        cells = [self.raw.get((row, c.key)) for c in self.layout.row(row).columns]
        return label + "｜" + "｜".join("（空）" if is_blank(c) else squash(c or "") for c in cells)

    def to_dict(self) -> dict[str, dict[str, Number | None]]:
        return {r.key: {c.key: self.values.get((r.key, c.key)) for c in r.columns} for r in self.layout.rows}


# ------------------------------------------------------------ cell stream
_NUMBERING = re.compile(r"[（(]?[一二三四五六七八九十]+[）)、.．]|\d+[.、．]|[（(]\d+[）)]")
_JUNK = re.compile(r"^[-—–/\\／×xX*＊无空.·…]{1,3}$")
_PARENS = str.maketrans("（）", "()")


def cells_of(blocks: list[Block], start: int, end: int) -> list[Cell]:
    """The cells of blocks[start:end] in reading order; merge shadows dropped."""
    out: list[Cell] = []
    new = tuple.__new__  # C-level construction: a NamedTuple's own __new__ is Python code
    row_no = 0
    for bi in range(start, end):
        block = blocks[bi]
        if isinstance(block, Paragraph):
            row_no += 1
            out.append(new(Cell, (block.text, row_no, bi, block.line)))
            continue
        line = block.line
        for r in block.rows:
            row_no += 1
            out.extend(new(Cell, (c, row_no, bi, line)) for c in r if c is not None)
    return out


@lru_cache(maxsize=65536)
def kind(text: str) -> str:
    """blank | value | junk | text — what a cell holds, as far as placing values goes."""
    if is_blank(text):
        return "blank"
    if is_value(text):
        return "value"
    if _JUNK.match(squash(text)):
        return "junk"
    return "text"


@lru_cache(maxsize=65536)
def label_key(text: str) -> str | None:
    """The cell squashed for label matching, or None when it cannot be a row label.

    A label carries no digits beyond its numbering (1. / （一）); a sentence that
    says 本年新收申请31件 is narrative, not the row 一、本年新收….
    """
    s = squash(text).translate(_PARENS)
    if len(s) > 60:
        return None
    bare = _NUMBERING.sub("", s)
    if any(ch.isdigit() for ch in bare):
        return None
    return s


@lru_cache(maxsize=65536)
def _matching_rows(lay: Layout, key: str) -> tuple[int, ...]:
    """Indices of the layout's rows whose label pattern the cell matches (cells repeat a lot)."""
    stripped = _NUMBERING.sub("", key)
    return tuple(j for j, row in enumerate(lay.rows) if row.regex.search(key) or row.regex.search(stripped))


# ------------------------------------------------------------ placing values
def place(seg: list[str], n: int) -> tuple[list[str | None], str | None]:
    """Put the cells found after a label into ``n`` columns.

    Returns the cell text per column (None where no value can be placed with
    certainty) and, when the cells do not fit the format, a message saying so.
    Edge blanks are layout debris (trailing tabs, merged label columns) and are
    dropped when enough values remain; a value stands in a column only when every
    possible reading of the row puts that same value there.
    """
    kinds = [kind(c) for c in seg]
    filled = [i for i, k in enumerate(kinds) if k != "blank"]
    if not filled:
        return [None] * n, None
    if len(filled) >= n:
        seg = seg[filled[0] : filled[-1] + 1]
    if len(seg) == n:
        return list(seg), None
    if len(seg) < n:
        return [None] * n, f"应有{n}个单元格，只见到{len(seg)}个，无法确定对应的列"
    # Too many cells. Readings: windows whose outside is blank, else drop extras.
    windows = [
        seg[s : s + n]
        for s in range(len(seg) - n + 1)
        if all(kind(c) == "blank" for c in seg[:s] + seg[s + n :])
    ]
    if windows:
        readings = windows
        msg = None if len(windows) == 1 else f"应有{n}个单元格，见到{len(seg)}个（含空白），部分列无法确定"
    else:
        extra = len(seg) - n
        if extra > 3:
            return [None] * n, f"应有{n}个单元格，见到{len(seg)}个，无法确定对应的列"
        readings = [
            [c for i, c in enumerate(seg) if i not in drop] for drop in itertools.combinations(range(len(seg)), extra)
        ]
        msg = f"应有{n}个数值，见到{len(seg)}个；只保留各种对齐方式下都一致的值"
    out: list[str | None] = []
    for col in range(n):
        options = {squash(r[col]) if not is_blank(r[col]) else "" for r in readings}
        out.append(readings[0][col] if len(options) == 1 else None)
    if len(readings) > 1 and msg is None:
        msg = f"应有{n}个单元格，见到{len(seg)}个，部分列无法确定"
    return out, msg


# ------------------------------------------------------------ parsing
def _segment(cells: list[Cell], kinds: list[str], start: int, stop: int) -> list[str]:
    """Value-ish cells after a label: up to the next cell that is text."""
    seg: list[str] = []
    for i in range(start, stop):
        if kinds[i] == "text":
            break
        seg.append(cells[i].text)
    return seg


def _fill(pt: ParsedTable, row: Row, texts: list[str | None], certain: bool) -> None:
    values, raw, signed = pt.values, pt.raw, row.signed
    for col, text in zip(row.columns, texts, strict=True):
        cell = (row.key, col.key)
        raw[cell] = text
        if text is None:
            values[cell] = None
            (pt.missing if certain else pt.uncertain).append(cell)
            continue
        # Positional: the memoised parse_value is twice as fast without keywords.
        value = values[cell] = parse_value(text, col.key in signed)
        if value is None:
            pt.missing.append(cell)


def parse_labelled(lay: Layout, cells: list[Cell]) -> ParsedTable:
    """表二 and 表三: rows found by their labels, in the official order."""
    pt = ParsedTable(lay)
    hits: list[tuple[int, Row]] = []
    nxt = 0
    kinds = [kind(c.text) for c in cells]
    for i, cell in enumerate(cells):
        if kinds[i] != "text":
            continue
        key = label_key(cell.text)
        if key is None:
            continue
        for j in _matching_rows(lay, key):
            if j < nxt or (lay.rows[j].only_when_next and j != nxt):
                continue
            hits.append((i, lay.rows[j]))
            nxt = j + 1
            break
    pt.found = bool(hits)
    seen_rows = {r.key for _, r in hits}
    for n, (i, row) in enumerate(hits):
        stop = hits[n + 1][0] if n + 1 < len(hits) else len(cells)
        seg = _segment(cells, kinds, i + 1, stop)
        texts, msg = place(seg, len(row.columns))
        pt.labels[row.key] = squash(cells[i].text)
        pt.lines[row.key] = cells[i].line
        if msg:
            pt.warnings.append(ShapeWarning(lay.table, row.key, msg, "｜".join(squash(s) or "（空）" for s in seg)))
        _fill(pt, row, texts, certain=msg is None)
    if pt.found:
        for row in lay.rows:
            if row.key not in seen_rows:
                pt.warnings.append(ShapeWarning(lay.table, row.key, f"找不到“{row.label}”这一行", ""))
                for col in row.columns:
                    pt.values[(row.key, col.key)] = None
                    pt.raw[(row.key, col.key)] = None
    return pt


_T4_HEADER = re.compile(r"维持|纠正|结果|审结|总计|复议|诉讼|起诉|其他")


def parse_table4(cells: list[Cell]) -> ParsedTable:
    """表四: 15 numbers in one run after the two-level header."""
    lay = layout("table4", "2021")
    pt = ParsedTable(lay)
    last_header = None
    kinds = [kind(c.text) for c in cells]
    for i, cell in enumerate(cells):
        if kinds[i] == "text" and _T4_HEADER.search(squash(cell.text)):
            last_header = i
    if last_header is None:
        return pt
    seg = _segment(cells, kinds, last_header + 1, len(cells))
    if not any(kind(s) != "blank" for s in seg):
        return pt
    pt.found = True
    n = sum(len(r.columns) for r in lay.rows)
    texts, msg = place(seg, n)
    if msg:
        pt.warnings.append(ShapeWarning("table4", None, msg, "｜".join(squash(s) or "（空）" for s in seg)))
    line = cells[last_header + 1].line if last_header + 1 < len(cells) else None
    for k, row in enumerate(lay.rows):
        pt.labels[row.key] = row.label
        pt.lines[row.key] = line
        _fill(pt, row, texts[k * 5 : k * 5 + 5], certain=msg is None)
    return pt


def detect_format(t2_cells: list[Cell], t3_cells: list[Cell]) -> tuple[str | None, list[str]]:
    """2019 or 2021, read from the tables themselves (not the year)."""
    t2 = squash("".join(c.text for c in t2_cells))
    t3 = squash("".join(c.text for c in t3_cells))
    votes: list[str] = []
    if "本年制发" in t2 or "现行有效件数" in t2:
        votes.append("2021")
    if "本年新制作" in t2 or "上一年项目数量" in t2 or "对外公开总数量" in t2:
        votes.append("2019")
    if "逾期不补正" in t3 or "缴纳费用" in t3:
        votes.append("2021")
    elif "其他处理" in t3:
        votes.append("2019")
    notes = []
    if not votes:
        return None, notes
    if len(set(votes)) > 1:
        notes.append("表二与表三的格式版本不一致（表二与表三分别像2019版和2021版）")
    # 表三 decides: its rows are what the arithmetic rules depend on.
    return votes[-1], notes
