"""Where a finding stands in the original document: ``span`` into the report's text,
and for a PDF the ``page`` and ``bbox`` (pdfplumber points) of its cell or sentence.

Kept apart from the readers on purpose: a PDF is opened again here, only for
the reports that have findings, so the ingest code stays as it is. A place is
given only when it is certain (the cell's text is the value the parser read, the
sentence is found word for word); otherwise it stays ``None`` — a box around
the wrong cell is worse than none.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from auditlib.blocks import Paragraph, Table
from auditlib.numbers import is_blank, is_value, squash

Box = tuple[float, float, float, float]


_SPLIT = re.compile(r"[｜|\n]+|空白行[：:]|[、，；。]")


def evidence_fragments(evidence: str | None, min_len: int = 4) -> list[str]:
    """The pieces of an evidence string worth looking for in the text, longest first."""
    if not evidence:
        return []
    whole = evidence.strip()
    parts = [whole] + [p.strip() for p in _SPLIT.split(whole)]
    seen: dict[str, None] = {}
    for p in parts:
        if len(re.sub(r"\s", "", p)) >= min_len and p != "（空）":
            seen.setdefault(p, None)
    return sorted(seen, key=len, reverse=True)


@lru_cache(maxsize=4096)
def quote_pattern(fragment: str) -> re.Pattern[str]:
    # Text files break lines and pad with spaces anywhere; match across white space.
    # Memoised: the same evidence (a row as printed, a rule's quote) recurs across a
    # batch, and re's own cache of 512 patterns is far too small for it.
    chars = [re.escape(ch) for ch in fragment if not ch.isspace()]
    return re.compile(r"\s*".join(chars))


def report_text(report: Any) -> str:
    """The report's text as ``auditlib parse`` reads it: every paragraph, and every table
    row (cells joined by tabs), one a line. ``span`` offsets count in this string."""
    return "\n".join(report.document.text_lines())


def _line_starts(report: Any) -> tuple[list[int], list[int]]:
    """Offset of each text line and the block it comes from (for its page)."""
    starts, blocks = [], []
    pos = 0
    for i, block in enumerate(report.document.blocks):
        n = 1 if isinstance(block, Paragraph) else len(block.rows)
        lines = [block.text] if isinstance(block, Paragraph) else ["\t".join(c for c in r if c) for r in block.rows]
        for k in range(n):
            starts.append(pos)
            blocks.append(i)
            pos += len(lines[k]) + 1
    return starts, blocks


def find_span(text: str, evidence: str | None) -> tuple[int, int] | None:
    """The first stretch of ``text`` that the evidence quotes (longest quoted piece first)."""
    for frag in evidence_fragments(evidence):
        m = quote_pattern(frag).search(text)
        if m and m.end() > m.start():
            return m.start(), m.end()
    return None


@dataclass
class _Pdf:
    """One PDF opened for locating, its pages' tables computed once."""

    pdf: Any
    tables: dict[int, list[Any]] = field(default_factory=dict)
    words: dict[int, list[list[dict[str, Any]]]] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # places found once per report (表四's row)

    def page(self, number: int) -> Any:
        return self.pdf.pages[number - 1].dedupe_chars()

    def page_tables(self, number: int) -> list[Any]:
        if number not in self.tables:
            page = self.page(number)
            self.tables[number] = [(t, t.extract()) for t in page.find_tables()]
        return self.tables[number]

    def page_word_lines(self, number: int) -> list[list[dict[str, Any]]]:
        """The page's words in lines (:func:`_word_lines`), for tables without ruling lines."""
        if number not in self.words:
            self.words[number] = _word_lines(self.page(number))
        return self.words[number]


def _open_pdf(report: Any) -> _Pdf | None:
    import pdfplumber

    try:
        data = Path(report.source).read_bytes()
    except OSError:
        return None
    # The file must still be the one that was parsed, or no place in it can be trusted.
    if report.digest and hashlib.sha256(data).hexdigest() != report.digest:
        return None
    try:
        return _Pdf(pdfplumber.open(io.BytesIO(data)))
    except Exception:
        return None


def _union(boxes: Iterable[Box]) -> Box | None:
    """The box around all, rounded outwards to 0.01 pt (rounding inwards would cut a glyph)."""
    boxes = list(boxes)
    if not boxes:
        return None
    return (
        math.floor(min(b[0] for b in boxes) * 100) / 100,
        math.floor(min(b[1] for b in boxes) * 100) / 100,
        math.ceil(max(b[2] for b in boxes) * 100) / 100,
        math.ceil(max(b[3] for b in boxes) * 100) / 100,
    )


def _same_cell(printed: str | None, raw: str | None) -> bool:
    if is_blank(printed) and is_blank(raw):
        return True
    return squash(printed or "") == squash(raw or "")


def _row_cells(report: Any, pdf: _Pdf, table: str, row: str, first_page: int, last_page: int) -> list[Any] | None:
    """[page, box of each value cell] of a parsed row, when the PDF shows it for certain."""
    finder = _ROW_FINDERS.get(table, _labelled_row)
    return finder(report, pdf, table, row, first_page, last_page)


def _labelled_row(report: Any, pdf: _Pdf, table: str, row: str, first_page: int, last_page: int) -> list[Any] | None:
    """表二/表三: one PDF table row whose label matches and whose value cells hold exactly what was read."""
    pt = report.tables[table]
    spec = pt.layout.row(row)
    want = [pt.raw.get((row, c.key)) for c in spec.columns]
    if all(is_blank(w) for w in want):
        return None  # an empty row matches any empty row: no certainty
    hits = []
    for number in range(first_page, last_page + 1):
        for t, grid in pdf.page_tables(number):
            for tr, texts in zip(t.rows, grid, strict=False):
                cells = [(box, txt) for box, txt in zip(tr.cells, texts, strict=False) if box is not None]
                if len(cells) <= len(want):
                    continue
                values = cells[-len(want):]
                labels = "".join(squash(txt or "") for _, txt in cells[: -len(want)])
                if not spec.regex.search(labels):
                    continue
                if all(_same_cell(txt, w) for (_, txt), w in zip(values, want, strict=True)):
                    hits.append((number, [box for box, _ in values]))
    if not hits and _read_from_words(report, first_page, last_page):
        hits = _word_row(pdf, spec.regex, want, first_page, last_page)
    if len(hits) != 1:  # none, or two rows alike: not certain which
        return None
    page, boxes = hits[0]
    return [page, *boxes]


def _read_from_words(report: Any, first_page: int, last_page: int) -> bool:
    """Whether a table on these pages was rebuilt from word positions (a PDF table without ruling lines)."""
    return any(
        isinstance(b, Table) and "words" in b.how and any(first_page <= p <= last_page for p in (b.pages or (b.line or 0,)))
        for b in report.document.blocks
    )


def _word_row(pdf: _Pdf, label: re.Pattern[str], want: list[str | None], first_page: int, last_page: int) -> list[tuple[int, list[Box]]]:
    """Lines of words whose last words are exactly ``want`` and whose words before them match the row's ``label``.

    For tables without ruling lines, where pdfplumber finds no cells: each number's
    own word is its box. Only where that is certain: every value printed (a blank
    cell leaves no word, and the numbers could then belong to other columns) and not
    all of them zero (rows of zeros look alike, whatever their labels).
    """
    if any(is_blank(w) for w in want) or all(squash(w or "") == "0" for w in want):
        return []
    wanted = [squash(w or "") for w in want]
    hits = []
    for number in range(first_page, last_page + 1):
        for line in pdf.page_word_lines(number):
            if len(line) <= len(wanted):
                continue
            lead, values = line[: -len(wanted)], line[-len(wanted):]
            if [squash(w["text"]) for w in values] != wanted or is_value(lead[-1]["text"]):
                continue
            if label.search("".join(squash(w["text"]) for w in lead)):
                hits.append((number, [(w["x0"], w["top"], w["x1"], w["bottom"]) for w in values]))
    return hits


def _table4_row(report: Any, pdf: _Pdf, table: str, row: str, first_page: int, last_page: int) -> list[Any] | None:
    """表四: its rows are groups of one printed row of 15 numbers with no label (复议 | 直接起诉 |
    复议后起诉, five columns each); the group is its slice of the whole row's boxes."""
    pt = report.tables[table]
    if (table, "whole") not in pdf.memo:
        want = [pt.raw.get((r.key, c.key)) for r in pt.layout.rows for c in r.columns]
        pdf.memo[(table, "whole")] = _unlabelled_row(pdf, want, first_page, last_page)
    whole = pdf.memo[(table, "whole")]
    if whole is None:
        return None
    start = 0
    for r in pt.layout.rows:
        if r.key == row:
            return [whole[0], *whole[1 + start : 1 + start + len(r.columns)]]
        start += len(r.columns)
    return None


def _unlabelled_row(pdf: _Pdf, want: list[str | None], first_page: int, last_page: int) -> list[Any] | None:
    """[page, box per value] of the one printed row that holds exactly ``want``, in order.

    A ruled table gives the cells' boxes (pdfplumber's table finder); where the
    rules are missing (no vertical lines) the words of one text line stand in,
    each number's own box. Two matching rows, or none, give no place.
    """
    if all(is_blank(w) for w in want):
        return None
    hits: list[tuple[int, list[Box]]] = []
    for number in range(first_page, last_page + 1):
        for t, grid in pdf.page_tables(number):
            for tr, texts in zip(t.rows, grid, strict=False):
                cells = [(box, txt) for box, txt in zip(tr.cells, texts, strict=False) if box is not None]
                if len(cells) < len(want):
                    continue
                lead, values = cells[: -len(want)], cells[-len(want):]
                # Cells before the numbers may only be empty or words, never another number.
                if any(is_value(txt or "") for _, txt in lead):
                    continue
                if all(_same_cell(txt, w) for (_, txt), w in zip(values, want, strict=True)):
                    hits.append((number, [box for box, _ in values]))
    if not hits and not any(is_blank(w) for w in want):
        # No ruled row holds them: one line of words that are the numbers, nothing else.
        wanted = [squash(w or "") for w in want]
        for number in range(first_page, last_page + 1):
            for line in pdf.page_word_lines(number):
                if [squash(w["text"]) for w in line] == wanted:
                    hits.append((number, [(w["x0"], w["top"], w["x1"], w["bottom"]) for w in line]))
    if len(hits) != 1:
        return None
    page, boxes = hits[0]
    return [page, *boxes]


def _word_lines(page: Any, tolerance: float = 3.0) -> list[list[dict[str, Any]]]:
    """The page's words grouped into lines (tops within ``tolerance`` points), left to right."""
    lines: list[list[dict[str, Any]]] = []
    for w in sorted(page.extract_words(), key=lambda w: (w["top"], w["x0"])):
        if lines and abs(w["top"] - lines[-1][0]["top"]) <= tolerance:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w["x0"]) for line in lines]


# Tables whose rows are not found by their label; the others use _labelled_row.
_ROW_FINDERS = {"table4": _table4_row}


def _table_pages(report: Any, table: str) -> tuple[int, int] | None:
    """First and last page the table's block(s) can stand on."""
    pt = report.tables[table]
    blocks = report.document.blocks
    pages = [b.line for b in blocks if isinstance(b, Table) and b.line]
    if not pt.found or not pages:
        return None
    last = max(b.line or 0 for b in blocks) or max(pages)
    return min(pages), last


def _sentence_box(pdf: _Pdf, page: int, sentence: str) -> tuple[int, Box] | None:
    """The sentence's box on its page (or the next, when it starts at a page's foot)."""
    chars = [ch for ch in sentence if not ch.isspace()]
    if len(chars) < 4:
        return None
    rx = quote_pattern(sentence).pattern
    for number in (page, page + 1):
        if number < 1 or number > len(pdf.pdf.pages):
            continue
        found = pdf.page(number).search(rx, regex=True, case=True, return_chars=False)
        if len(found) == 1:
            m = found[0]
            box = _union([(m["x0"], m["top"], m["x1"], m["bottom"])])
            return (number, box) if box else None
    return None


def locate(findings: list[Any], reports: Iterable[Any]) -> None:
    """Set ``page``, ``bbox`` and ``span`` on each finding whose place can be found for certain."""
    by_source = {r.source: r for r in reports if hasattr(r, "document")}
    per_report: dict[str, list[Any]] = {}
    for f in findings:
        if f.source in by_source:
            per_report.setdefault(f.source, []).append(f)
    for source, fs in per_report.items():
        report = by_source[source]
        text = report_text(report)
        blocks = report.document.blocks
        is_pdf = report.document.kind == "pdf"
        # Lines to pages: only a PDF has pages to place a sentence on.
        starts, owners = _line_starts(report) if is_pdf else ([], [])
        pdf = _open_pdf(report) if is_pdf else None
        try:
            for f in fs:
                f.span = None
                f.page = f.bbox = None
                # The sentence is the better place when the evidence quotes one; the row else.
                first = (f.evidence or "").split("\n")[0]
                span = find_span(text, first) or find_span(text, f.evidence)
                if span is not None:
                    f.span = list(span)
                if "page" in f.extra:
                    # The rule saw the place itself (a scanned cell read by OCR): its word stands.
                    f.page, f.bbox = f.extra["page"], f.extra.get("bbox")
                    continue
                if pdf is None:
                    continue
                rows = list(dict.fromkeys(r for r, _ in f.cells() if r))
                if f.table in report.tables and rows:
                    pages = _table_pages(report, f.table)
                    got = [_row_cells(report, pdf, f.table, r, *pages) for r in rows] if pages else []
                    # Every row found, all on one page (a box cannot straddle two pages).
                    if got and all(got) and len({g[0] for g in got}) == 1:
                        want_cols = {c for _, c in f.cells()}
                        boxes = []
                        for r, g in zip(rows, got, strict=True):
                            cols = [c.key for c in report.tables[f.table].layout.row(r).columns]
                            boxes += [b for k, b in zip(cols, g[1:], strict=True) if None in want_cols or k in want_cols]
                        f.page, f.bbox = got[0][0], _union(boxes)
                        continue
                if span is not None and not f.table:
                    line = max(i for i, s in enumerate(starts) if s <= span[0])
                    page = blocks[owners[line]].line
                    hit = _sentence_box(pdf, page or 1, text[span[0] : span[1]]) if page else None
                    if hit is not None:
                        f.page, f.bbox = hit[0], list(hit[1])
        finally:
            if pdf is not None:
                pdf.pdf.close()
        for f in fs:
            if f.bbox is not None:
                f.bbox = [float(v) for v in f.bbox]

