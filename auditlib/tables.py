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

import bisect
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
    label: str | None = None  # the row's official label, for people (row is its key)

    def __str__(self) -> str:
        name = self.label or self.row
        where = TABLE_NAMES[self.table] + (f" {name}" if name else "")
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
    # The table is there but could not be read cell by cell: why, in Chinese
    # (cells run together in crawler text, or the table is only an image).
    # Its cells are all null and no rule reads them.
    unreadable: str | None = None
    # What the reader did that a reviewer should know but that is no fault of
    # the table: a misprinted label placed by its position, 元 converted to 万元.
    notes: list[ShapeWarning] = field(default_factory=list)
    format_seen: str = ""  # the wording that showed the table's format, as printed
    # Row index → what stands where a missing row should be (an unrecognisable label).
    unplaced: dict[int, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.layout.table

    def get(self, row: str, col: str) -> Number | None:
        return self.values.get((row, col))

    def unread(self, cells: list[tuple[str, str]]) -> bool:
        """Whether any of the cells is null because the reader could not place it (not because
        the report left it blank): sums over such cells say nothing about the report."""
        if not self.uncertain:
            return False
        unsure = set(self.uncertain)
        return any(c in unsure for c in cells)

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
            out += [new(Cell, (c, row_no, bi, line)) for c in r if c is not None]
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
def place(seg: list[str], n: int, kinds: list[str] | None = None) -> tuple[list[str | None], str | None]:
    """Put the cells found after a label into ``n`` columns.

    Returns the cell text per column (None where no value can be placed with
    certainty) and, when the cells do not fit the format, a message saying so.
    Edge blanks are layout debris (trailing tabs, merged label columns) and are
    dropped when enough values remain; a value stands in a column only when every
    possible reading of the row puts that same value there.
    """
    if kinds is None:
        kinds = [kind(c) for c in seg]
    if len(seg) == n and "blank" not in kinds:
        return list(seg), None  # the common case: one cell per column, each filled
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
    try:
        stop = kinds.index("text", start, stop)
    except ValueError:
        pass
    return [c.text for c in cells[start:stop]]


_YUAN_HEADER = re.compile(r"单位[:：]?元|[（(]元[）)]")


def _fill(pt: ParsedTable, row: Row, texts: list[str | None], certain: bool) -> None:
    values, raw = pt.values, pt.raw
    for (cell, signed), text in zip(row.cell_keys, texts, strict=True):
        raw[cell] = text
        if text is None:
            values[cell] = None
            (pt.missing if certain else pt.uncertain).append(cell)
            continue
        # Positional: the memoised parse_value is twice as fast without keywords.
        value = values[cell] = parse_value(text, signed)
        if value is None:
            pt.missing.append(cell)


@lru_cache(maxsize=16)
def _amount_cells(lay: Layout) -> tuple[tuple[Row, str], ...]:
    return tuple((row, col.key) for row in lay.rows for col in row.columns if col.unit == "万元")


def _amounts_to_wan(pt: ParsedTable, cells: list[Cell], at: dict[str, tuple[int, int]]) -> None:
    """Amounts printed in 元 (251000元, or under a header 单位：元) become the contract's 万元.

    ``at`` gives, per row found, the cells from the previous row's label to its own: the
    amount's column header stands there.
    """
    for row, col in _amount_cells(pt.layout):
        text, value = pt.raw.get((row.key, col)), pt.values.get((row.key, col))
        if text is None or value is None or row.key not in at:
            continue
        a, b = at[row.key]
        yuan = any("元" in c.text and "万元" not in c.text and _YUAN_HEADER.search(squash(c.text)) for c in cells[a:b])
        _to_wan(pt, row, col, text, value, yuan)


def _to_wan(pt: ParsedTable, row: Row, col: str, text: str, value: Number, yuan: bool) -> None:
    unit = squash(text)
    if unit.endswith("万元") or not (unit.endswith("元") or yuan):
        return
    wan = pt.values[(row.key, col)] = round(value / 10000, 6)
    why = "单元格写明“元”" if unit.endswith("元") else "表头注明单位为元"
    pt.notes.append(
        ShapeWarning(
            pt.table, row.key, f"金额以元填报（{why}），已换算为{wan:g}万元 (amount in 元 converted to 万元)", squash(text), row.label
        )
    )


def _label_hits(lay: Layout, cells: list[Cell], kinds: list[str]) -> list[tuple[int, int]]:
    """(cell index, row index) of each official row label, taken in the official order."""
    hits: list[tuple[int, int]] = []
    nxt = 0
    for i, cell in enumerate(cells):
        if kinds[i] != "text":
            continue
        key = label_key(cell.text)
        if key is None:
            continue
        for j in _matching_rows(lay, key):
            if j < nxt or (lay.rows[j].only_when_next and j != nxt):
                continue
            hits.append((i, j))
            nxt = j + 1
            break
    return hits


_KIND_CODE = {"text": "t", "value": "v", "blank": "b", "junk": "j"}
_LABEL_LIKE = re.compile(r"t(?=[bj]*v)")


def _resembles(printed: str, official: str) -> bool:
    """The printed label shares most of the official label's characters (a misprint, not another row)."""
    a = _NUMBERING.sub("", printed.translate(_PARENS))
    b = _NUMBERING.sub("", official.translate(_PARENS))
    if not a or not b:
        return False
    pool = list(a)
    common = 0
    for ch in b:
        if ch in pool:
            pool.remove(ch)
            common += 1
    return common >= 0.5 * min(len(a), len(b)) and common >= 2


def _anchor_gaps(
    pt: ParsedTable, cells: list[Cell], kinds: list[str], hits: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], dict[int, str]]:
    """Rows whose label is misprinted, placed by the official order and their neighbours.

    Between two rows that were found, k rows of the format are missing: when
    exactly k unrecognised labels with values stand there, in order, each
    resembling the official wording, they are those rows. Otherwise every
    unrecognised label is reported and its values are not used.
    Returns the hits with the anchored rows added, and a note per anchored cell index.
    """
    lay = pt.layout
    rows = lay.rows
    # Text cells with a number after them (before the next text): the only cells that can be
    # a row's label. One regex over the kinds, one letter a cell: in a table read cleanly
    # they are exactly the labels found, and nothing more is done.
    codes = "".join(map(_KIND_CODE.__getitem__, kinds))
    hit_cells = {i for i, _ in hits}
    labels = [
        m.start()
        for m in _LABEL_LIKE.finditer(codes)
        if m.start() not in hit_cells and label_key(cells[m.start()].text) is not None
    ]
    if not labels:
        return hits, {}
    bounds = [(-1, -1), *hits, (len(cells), len(rows))]
    added: list[tuple[int, int]] = []
    notes: dict[int, str] = {}
    moved: dict[int, int] = {}  # a row's label cell → the cell of its label's next line
    unplaced = pt.unplaced
    for (ia, ja), (ib, jb) in itertools.pairwise(bounds):
        edge = ja == -1 or jb == len(rows)
        cands = labels[bisect.bisect_right(labels, ia) : bisect.bisect_left(labels, ib)]
        missing = list(range(ja + 1, jb))
        if not cands or (edge and not missing):
            continue  # before the first row or after the last, none missing: headers, notes, narrative
        if len(cands) == len(missing):
            pairs = list(zip(cands, missing, strict=True))
            ok = True
            for i, j in pairs:
                key = label_key(cells[i].text) or ""
                own = j in _matching_rows(lay, key)
                other = [m for m in _matching_rows(lay, key) if m != j]
                if other or not (own or _resembles(key, rows[j].label)):
                    ok = False
                    break
            if ok:
                for i, j in pairs:
                    added.append((i, j))
                    if j not in _matching_rows(lay, label_key(cells[i].text) or ""):
                        notes[i] = (
                            f"行标签印作“{squash(cells[i].text)}”，按规定格式的行序及上下行认定为“{rows[j].label}”"
                            "（misprinted label placed by the official row order）"
                        )
                continue
        if missing:
            # Said with the missing rows (one warning each), not once more on its own.
            printed = "、".join(f"“{squash(cells[i].text)}”" for i in cands)
            for j in missing:
                unplaced[j] = f"；此处印有无法确定归属的行{printed}，其数值未采用（unrecognised row label; values not used）"
            continue
        if cands and ja >= 0 and _label_goes_on(cells, kinds, ia, cands[0], rows[ja].label):
            # The row's label was printed over lines, its numbers beside the second: they are its.
            i = cands.pop(0)
            moved[ia] = i
            notes[i] = (
                f"行标签分行印作“{squash(cells[ia].text)}”“{squash(cells[i].text)}”，数值印在后一行，"
                f"认定为“{rows[ja].label}”（a label printed over two lines, its numbers beside the second）"
            )
        for i in cands:
            pt.warnings.append(
                ShapeWarning(
                    pt.table,
                    None,
                    f"多出无法识别的一行“{squash(cells[i].text)}”，其数值未采用（unrecognised extra row; values not used）",
                    squash(cells[i].text),
                )
            )
    return sorted([(moved.get(i, i), j) for i, j in hits] + added), notes


_WIDE_GAP = re.compile(r"\s{2,}|\u3000+")
_LABEL_NOISE = re.compile(r"[\s、，,.．：:;；（）()“”\"'‘’]")


def _label_goes_on(cells: list[Cell], kinds: list[str], first: int, second: int, official: str) -> bool:
    """Whether cell ``second`` is the next line of the label in cell ``first`` (no number
    between them; a fragment of a group label may be), the two together a stretch of the
    official label: 2.申请人逾期未按收费通知要 / 求缴纳费用、行政机关不再处理, as text
    extracted from a PDF breaks a long label."""
    if "value" in kinds[first + 1 : second]:
        return False
    # Of a line of text holding a group label too ((六)其他处理  1.申请人…), its last part.
    a = _WIDE_GAP.split(cells[first].text.strip())[-1]
    a = _LABEL_NOISE.sub("", _NUMBERING.sub("", a.translate(_PARENS)))
    b = _LABEL_NOISE.sub("", cells[second].text.translate(_PARENS))
    whole = _LABEL_NOISE.sub("", _NUMBERING.sub("", official.translate(_PARENS)))
    return len(a) >= 4 and len(b) >= 4 and (a + b) in whole


def parse_labelled(lay: Layout, cells: list[Cell]) -> ParsedTable:
    """表二 and 表三: rows found by their labels, in the official order."""
    kinds = [kind(c.text) for c in cells]
    hits = _label_hits(lay, cells, kinds)
    pt = ParsedTable(lay)
    if _read_rows(pt, cells, kinds, hits, {}):
        # Rows missing, or a label with numbers that is no row's: anchor what the order allows.
        pt = ParsedTable(lay)
        anchored, notes = _anchor_gaps(pt, cells, kinds, hits)
        _read_rows(pt, cells, kinds, anchored, notes)
    return pt


def _read_rows(pt: ParsedTable, cells: list[Cell], kinds: list[str], hits: list[tuple[int, int]], notes: dict[int, str]) -> bool:
    """Fill ``pt`` from the labels found; True when the table is irregular (a row missing, or
    numbers after an unrecognised label between two rows) and misprints should be looked for."""
    lay = pt.layout
    pt.found = bool(hits)
    irregular = bool(hits) and len(hits) != len(lay.rows)
    seen_rows = set()
    at: dict[str, tuple[int, int]] = {}  # row → (previous label's cell, its own label's cell)
    taken = 0  # where the previous row's own cells end
    for n, (i, j) in enumerate(hits):
        row = lay.rows[j]
        seen_rows.add(row.key)
        at[row.key] = (hits[n - 1][0] if n else 0, i)
        stop = hits[n + 1][0] if n + 1 < len(hits) else len(cells)
        seg = _segment(cells, kinds, i + 1, stop)
        end = i + 1 + len(seg)
        if not irregular and end < stop and n + 1 < len(hits) and "value" in kinds[end:stop]:
            irregular = True
        texts, msg = place(seg, len(row.columns), kinds[i + 1 : end])
        if msg is None and all(t is None or is_blank(t) for t in texts) and (
            "value" in kinds[end:stop] or "value" in kinds[taken:i]
        ):
            # Nothing after the label, numbers no row took beside it (after some text, or
            # before the label): they may well be this row's (a label the extractor broke,
            # numbers printed level with its other line). Not "blank in the report".
            texts = [None] * len(row.columns)
            msg = "该行标签后没有数值，其前后印有无法确定归属的数值，无法确定是否属于该行"
        taken = end
        pt.labels[row.key] = squash(cells[i].text)
        pt.lines[row.key] = cells[i].line
        if i in notes:
            pt.notes.append(ShapeWarning(lay.table, row.key, notes[i], squash(cells[i].text), row.label))
        if msg:
            seen = "｜".join(squash(s) or "（空）" for s in seg)
            pt.warnings.append(ShapeWarning(lay.table, row.key, msg, seen, row.label))
        _fill(pt, row, texts, certain=msg is None)
    if pt.found:
        _amounts_to_wan(pt, cells, at)
        for j, row in enumerate(lay.rows):
            if row.key not in seen_rows:
                msg = f"找不到“{row.label}”这一行" + pt.unplaced.get(j, "")
                pt.warnings.append(ShapeWarning(lay.table, row.key, msg, "", row.label))
                for col in row.columns:
                    pt.values[(row.key, col.key)] = None
                    pt.raw[(row.key, col.key)] = None
                    pt.uncertain.append((row.key, col.key))
    return irregular


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


# Wording only one format's table has: (format, words) per table, most telling first.
_FORMAT_WORDS = {
    "table2": (("2021", ("本年制发件数", "本年制发", "现行有效件数", "本年废止")),
               ("2019", ("本年新制作数量", "本年新制作", "上一年项目数量", "对外公开总数量", "其他对外管理服务"))),
    "table3": (("2021", ("逾期不补正", "缴纳费用", "收费通知")), ("2019", ("其他处理",))),
}  # fmt: skip


def table_format(table: str, cells: list[Cell]) -> tuple[str | None, str]:
    """2019 or 2021, judged from one table's own wording; and the word that shows it.

    表三 of both formats has the group （六）其他处理: only when none of 2021's
    three rows under it is there does it mark 2019's single row. A table with
    both formats' wording (or neither) is not judged.
    """
    words = _FORMAT_WORDS.get(table)
    if not words:
        return None, ""
    joined = squash("".join([c.text for c in cells]))
    votes: list[tuple[str, str]] = []
    for fmt, markers in words:
        word = next((w for w in markers if w in joined), None)
        if word is not None:
            votes.append((fmt, word))
            if table == "table3":
                break  # 2021's rows decide; 其他处理 alone means 2019
    if len(votes) != 1:
        return None, ""
    return votes[0]


# Words a table's header and labels print that running text hardly ever has all of.
_SIGNATURE = {
    "table2": ("信息内容", "行政许可", "行政处罚"),
    "table3": ("本年新收", "上年结转", "予以公开", "结转下年度"),
    "table4": ("结果维持", "结果纠正", "尚未审结"),
}


def quote(cells: list[Cell], word: str) -> str:
    """The cell that holds ``word``, as printed, where it is short enough to quote; else the word
    (which an extractor may have broken across cells)."""
    return next((squash(c.text) for c in cells if word in c.text and len(c.text) <= 80), word)


# A whole report on one line is some thousands of characters; far more is not one to cut up.
_MAX_RUN_ON = 200_000


def spread_run_on(table: str, cells: list[Cell]) -> list[Cell] | None:
    """The cells again with the table's run-on line cut at its spaces; None when there is none.

    A crawler's get_text(" ") puts the whole body on one line with one space between
    cells (规章 0 0 3 行政规范性文件 5 1 20 …). Cut at its spaces, the line is the cell
    stream a table gives, and is parsed as one; labels never hold a space in the format,
    and blank cells, which leave no trace, make a row too short to place (null, warned).
    Only for a table not found otherwise: the caller keeps what it reads only if found.
    """
    words = _SIGNATURE[table]
    out: list[Cell] | None = None
    for k, c in enumerate(cells):
        if 60 < len(c.text) <= _MAX_RUN_ON and len(tokens := c.text.split()) >= 10 and all(w in squash(c.text) for w in words):
            if out is None:
                out = list(cells[:k])
            out += [Cell(t, c.row, c.block, c.line) for t in tokens]
        elif out is not None:
            out.append(c)
    return out


def unreadable_reason(table: str, cells: list[Cell], images: list[str]) -> str | None:
    """Why a table that is there could not be read cell by cell; None when it is simply absent.

    Crawler text that put the whole body on one line runs the cells together
    (规章000行政规范性文件1825…): no reading of such digits is safe. A web page may
    give the table only as a picture.
    """
    words = _SIGNATURE[table]
    for c in cells:
        if len(c.text) > 60 and all(w in c.text for w in words):
            return (
                "表格存在，但单元格连在一起、没有分隔，无法逐格读取，各单元格置空"
                "（table present, but its cells run together and cannot be separated; cells left empty）"
            )
    if images:
        return (
            f"表格以图片形式发布（{images[0]}），无法读取其中的数值，各单元格置空；需要OCR识别"
            "（table given only as an image; cells left empty, OCR needed）"
        )
    return None
