"""Tables without ruling lines, rebuilt from where the words stand on a PDF page.

A Word table whose borders were removed (or only the horizontal rules kept)
prints as loose text: pdfplumber finds no grid, and each printed line mixes a
label, the value cells of its row and pieces of merged group labels. The values
of a row need not share a line either: cells are aligned top or centre, so a
row with a three-line label has its 总计 on the first line and the other values
on the second.

What holds is the column geometry. Value cells stand in columns (the x of every
number in a column agrees), and labels stand to the left of the first value
column. So: find the runs of lines that are tabular; take the value columns from
the numbers; cut each line's characters at the column boundaries; build rows
from lines of values (two lines with values in different columns and no new
numbered label between them are one row); hang the label-only lines on the row
they touch; emit each row as its label cells (left to right) then its values in
column order. A value is never moved to another column; when a row cannot be
assembled with certainty its values come out as they stand and the parser, which
checks the count of cells against the format, leaves what does not fit null.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from auditlib.numbers import is_value

# A gap this many character widths wide separates two cells on one line.
_CELL_GAP = 0.9
# A new numbered label (1. （一） 一、) starts a new row.
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[.、．](?!\d))")
_JUNK = re.compile(r"^[-—–/\\／×xX*＊]{1,3}$")


@dataclass
class _Seg:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class WordLine:
    """One printed line: its characters (pdfplumber dicts) and where it stands."""

    chars: list[dict[str, Any]]
    top: float
    bottom: float
    size: float
    segs: list[_Seg] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.segs = _segments(self.chars, self.size)


@dataclass
class WordTable:
    """A table found from word positions: which lines it took, and its rows."""

    lines: list[int]  # indices into the lines given
    rows: list[list[str | None]]
    top: float
    bottom: float
    columns: int  # value columns found


def _is_cell_value(text: str) -> bool:
    return is_value(text) or bool(_JUNK.match(text))


def _segments(chars: list[dict[str, Any]], size: float) -> list[_Seg]:
    segs: list[_Seg] = []
    cur: list[dict[str, Any]] = []
    for ch in sorted(chars, key=lambda c: c["x0"]):
        if ch["text"].isspace():
            continue
        if cur and ch["x0"] - cur[-1]["x1"] > _CELL_GAP * size:
            segs.append(_seg(cur))
            cur = []
        cur.append(ch)
    if cur:
        segs.append(_seg(cur))
    return segs


def _seg(chars: list[dict[str, Any]]) -> _Seg:
    return _Seg(
        "".join(c["text"] for c in chars),
        min(c["x0"] for c in chars),
        max(c["x1"] for c in chars),
        min(c["top"] for c in chars),
        max(c["bottom"] for c in chars),
    )


def find_word_tables(lines: list[WordLine], right_margin: float) -> list[WordTable]:
    """The borderless tables among a page's running-text lines (in page order)."""
    if not lines:
        return []
    pitch = _pitch(lines)
    tabular = [len(ln.segs) >= 2 for ln in lines]
    runs: list[list[int]] = []
    cur: list[int] = []
    pending: list[int] = []  # non-tabular lines that may sit inside a table

    def gap(i: int) -> float:
        return lines[i].top - lines[i - 1].bottom

    for i, ln in enumerate(lines):
        # Lines of one table stand close; a heading or paragraph keeps its spacing
        # (a heading straight under a table's last row must not join the table).
        close = gap(i) <= ln.size if i else False
        if tabular[i] and cur and (close or (not pending and gap(i) <= 2.5 * pitch)):
            cur.extend(pending)
            cur.append(i)
            pending = []
        elif cur and close and not tabular[i] and not _is_running_text(ln, right_margin) and len(pending) < 4:
            pending.append(i)
        else:
            if cur:
                runs.append(cur)
            cur, pending = ([i], []) if tabular[i] else ([], [])
    if cur:
        runs.append(cur)
    out = []
    for run in runs:
        table = _build(lines, run, pitch)
        if table is not None:
            out.append(table)
    return out


def _pitch(lines: list[WordLine]) -> float:
    steps = [b.top - a.top for a, b in pairwise(lines) if 0 < b.top - a.top < 4 * a.size]
    return statistics.median(steps) if steps else 1.5 * statistics.median(ln.size for ln in lines)


def _is_running_text(line: WordLine, right_margin: float) -> bool:
    """A line of narrative: one long run of text out to the right margin."""
    text = "".join(s.text for s in line.segs)
    return len(text) >= 20 and line.segs[-1].x1 >= right_margin - 2 * line.size


def _build(lines: list[WordLine], run: list[int], pitch: float) -> WordTable | None:
    values = [s for i in run for s in lines[i].segs if _is_cell_value(s.text)]
    value_lines = [i for i in run if any(_is_cell_value(s.text) for s in lines[i].segs)]
    # A table has numbers: two lines of them, or one line with many (表四's single row).
    if not value_lines or (len(value_lines) < 2 and len(values) < 3):
        return None
    size = statistics.median(ln.size for ln in lines)
    anchor, columns = _columns(values, size)
    label_edge = min(s.x0 for s in values) - 0.5 * size

    # Every line's cells: labels (left of the value columns) and values by column.
    cells: dict[int, tuple[list[_Seg], dict[int, str]]] = {}
    for i in run:
        ln = lines[i]
        if i not in value_lines:
            cells[i] = (ln.segs, {})
            continue
        labels: list[_Seg] = []
        cols: dict[int, list[str]] = {}
        for seg in ln.segs:
            if seg.x1 <= label_edge:
                labels.append(seg)
                continue
            if seg.x0 < label_edge:
                # A value printed right after a long label reads as one run of text:
                # the value column's edge cuts it.
                chars = [c for c in ln.chars if seg.x0 <= c["x0"] and c["x1"] <= seg.x1 + 0.01 and not c["text"].isspace()]
                left = [c for c in chars if (c["x0"] + c["x1"]) / 2 < label_edge]
                right = [c for c in chars if (c["x0"] + c["x1"]) / 2 >= label_edge]
                if left:
                    labels.append(_seg(left))
                if not right:
                    continue
                seg = _seg(right)
            cols.setdefault(_column_of(anchor(seg), columns), []).append(seg.text)
        cells[i] = (labels, {k: "".join(v) for k, v in cols.items()})

    # Rows: lines of values, joined when they fill different columns of one row.
    rows: list[dict[str, Any]] = []
    for i in run:
        labels, cols = cells[i]
        if not cols:
            continue
        ln = lines[i]
        last = rows[-1] if rows else None
        new_label = any(_NUMBERED.match(s.text) for s in labels)
        # Values with no label of their own, beside a row that lacks just those
        # columns, are that row's (top- and centre-aligned cells of one row).
        reach = (0.6 if labels else 1.5) * pitch
        if (
            last is not None
            and not (set(cols) & set(last["cols"]))
            and ln.top - last["bottom"] <= reach
            and not new_label
        ):
            last["cols"].update(cols)
            last["labels"].extend(labels)
            last["bottom"] = max(last["bottom"], ln.bottom)
            last["lines"].append(i)
        else:
            rows.append({"top": ln.top, "bottom": ln.bottom, "cols": dict(cols), "labels": list(labels), "lines": [i]})

    # Label-only lines: onto the row they touch, else a row of their own.
    loose: list[dict[str, Any]] = []
    for i in run:
        if i in value_lines:
            continue
        ln = lines[i]
        labels, _ = cells[i]
        in_label_area = len(labels) == 1 and labels[0].x1 <= label_edge + size
        target = _nearest(rows, ln, size) if in_label_area else None
        if target is None:
            loose.append({"top": ln.top, "bottom": ln.bottom, "cols": {}, "labels": list(labels), "lines": [i]})
        else:
            target["labels"].extend(labels)
    # Columns that most value rows fill: a row missing one of them left that cell blank.
    # (A value under a merged cell stands between columns: it is kept, never padded.)
    filled = Counter(k for row in rows for k in row["cols"])
    full = {k for k, n in filled.items() if n >= max(2, len(rows) / 2)}
    out_rows: list[tuple[float, list[str | None]]] = []
    for row in rows + loose:
        out_rows.append((row["top"], _emit(row, size, full if row["cols"] else set())))
    out_rows.sort(key=lambda r: r[0])
    first, last_line = lines[run[0]], lines[run[-1]]
    return WordTable(list(run), [r for _, r in out_rows], first.top, last_line.bottom, len(columns))


def _columns(values: list[_Seg], size: float) -> tuple[Any, list[float]]:
    """Value columns: how cells are aligned (left, centre or right) and each column's position.

    Numbers of different widths line up on one edge (or their centres); the
    alignment that gives the fewest columns is the one the table was set with.
    """
    best: tuple[Any, list[float]] | None = None
    for anchor in (_left, _centre, _right):
        xs = sorted(anchor(s) for s in values)
        groups: list[list[float]] = [[xs[0]]]
        for x in xs[1:]:
            if x - groups[-1][-1] <= 0.6 * size:
                groups[-1].append(x)
            else:
                groups.append([x])
        found = [statistics.median(g) for g in groups]
        if best is None or len(found) < len(best[1]):
            best = (anchor, found)
    assert best is not None
    return best


def _left(s: _Seg) -> float:
    return s.x0


def _centre(s: _Seg) -> float:
    return s.centre


def _right(s: _Seg) -> float:
    return s.x1


def _column_of(x: float, columns: list[float]) -> int:
    return min(range(len(columns)), key=lambda k: abs(columns[k] - x))


def _nearest(rows: list[dict[str, Any]], line: WordLine, size: float) -> dict[str, Any] | None:
    """The row whose span the line overlaps (a wrapped label beside its values), else None.

    A line between two rows is left alone: hanging it on the nearer one could
    give a row another row's label.
    """
    hits = [
        row for row in rows if min(row["bottom"], line.bottom) - max(row["top"], line.top) > 0.15 * size
    ]
    return hits[0] if len(hits) == 1 else None


def _emit(row: dict[str, Any], size: float, full: set[int]) -> list[str | None]:
    """Label cells left to right (pieces of one label joined top to bottom), then values by column."""
    groups: list[list[_Seg]] = []
    for seg in sorted(row["labels"], key=lambda s: s.x0):
        for g in groups:
            if abs(g[0].x0 - seg.x0) <= size:
                g.append(seg)
                break
        else:
            groups.append([seg])
    cells: list[str | None] = ["".join(s.text for s in sorted(g, key=lambda s: s.top)) for g in groups]
    cells.extend(row["cols"].get(k, "") for k in sorted(set(row["cols"]) | full))
    return cells
