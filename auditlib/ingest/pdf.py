"""PDF reports: text lines joined into paragraphs, ruled tables as grids, in page order.

A published report is usually a Word file printed to PDF. What survives is a
text layer (characters with positions) and the table rules. From that we
rebuild what the Word file had: paragraphs (lines joined at the right places),
tables (pdfplumber's grid, merged cells as ``None``), and tables that a page
break cut in two joined back into one.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count, pairwise
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from auditlib.blocks import Block, Document, IngestError, Paragraph, Table
from auditlib.ingest.pdfgrid import WordLine, find_word_tables
from auditlib.ingest.text import WIDE_CHARS
from auditlib.limits import (
    MAX_OCR_PAGES,
    MAX_PAGES,
    MAX_SCAN_AREA,
    OCR_PAGE_SECONDS,
    allow,
    limit_error,
    out_of_memory,
    uncapped,
)

# A space next to a wide character is an artefact of extraction (Word's auto-spacing
# between CJK and digits, pdfplumber's gap detection), never something the author typed.
_SPACE_NEAR_WIDE = re.compile(rf"[ \t\u00a0\u3000]+(?=[{WIDE_CHARS}])|(?<=[{WIDE_CHARS}])[ \t\u00a0\u3000]+")
_SPACES = re.compile(r"[ \t\u00a0]+")

# A line that starts a numbered heading or list item starts a paragraph even
# without an indent: 一、 （一） (1) 1、 1. 第一章 …
_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}\s*[、.．]"
    r"|[（(]\s*[一二三四五六七八九十\d]{1,3}\s*[）)]"
    r"|\d{1,2}\s*[、.．](?!\d)"
    r"|第[一二三四五六七八九十百]+[章节部分])"
)

# Page numbers as Word and WPS print them: "- 1 -", "— 2 —", "3", "第 4 页 共 6 页", "5/6".
_PAGE_NUMBER = re.compile(
    r"^(?:[-－—–‐]*\s*\d{1,4}\s*[-－—–‐]*"
    r"|第\s*\d{1,4}\s*页\s*[,，]?\s*(?:共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*[,，]?\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*/\s*\d{1,4}"
    r"|[Pp]age\s*\d{1,4}(?:\s*of\s*\d{1,4})?)$"
)
_NUMERIC = re.compile(r"^[-+]?[\d,，.．%％]+$")

# Header and footer zones, as a share of the page height.
_TOP_ZONE = 0.10
_BOTTOM_ZONE = 0.88


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    page: int
    page_width: float
    region: int  # -1: running text; else the framed box (a one-column "table") it sits in


@dataclass
class _TableItem:
    rows: list[list[str | None]]
    top: float
    bottom: float
    page: int
    found_by: str = "rules"  # "rules": pdfplumber's grid; "words": word positions (no ruling lines); "ocr": a scan


@dataclass
class _Page:
    number: int
    width: float
    height: float
    lines: list[_Line] = field(default_factory=list)
    tables: list[_TableItem] = field(default_factory=list)
    pictures: list[tuple[float, float, float, float]] = field(default_factory=list)  # images on a text page
    garbled: bool = False  # a text layer that cannot be decoded: read by OCR like a scan


def read_pdf(data: bytes, source: str) -> Document:
    """Read a PDF report into paragraphs and tables. Raises :class:`IngestError`."""
    warnings: list[str] = []
    pages = _extract_pages(data, warnings)
    _read_scanned(data, pages, warnings)
    _read_pictures(data, pages, warnings)
    if not any(p.lines or p.tables for p in pages):
        raise IngestError(
            "PDF_NO_TEXT",
            "PDF 是扫描件，没有文字层，文字识别（OCR）也未能读出任何文字 (scanned PDF: no text layer, and OCR found no text)",
        )
    _drop_headers_and_footers(pages)
    blocks = _assemble(pages)
    return Document(source=source, blocks=blocks, kind="pdf", encoding=None, warnings=warnings)


# ------------------------------------------------------------------ extraction


def _extract_pages(data: bytes, warnings: list[str]) -> list[_Page]:
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        raise _open_error(exc.args[0] if exc.args else exc) from exc
    except Exception as exc:  # pdfminer raises many kinds on garbage input
        out_of_memory(exc)
        raise _open_error(exc) from exc

    pages: list[_Page] = []
    region_ids = count()
    failed: list[int] = []
    with pdf:
        try:
            page_list = list(pdf.pages)
        except Exception as exc:
            out_of_memory(exc)
            raise _open_error(exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc) from exc
        if not page_list:
            raise IngestError("PDF_CORRUPT", "PDF 文件没有页面，可能已损坏 (PDF has no pages; corrupt file?)")
        if len(page_list) > MAX_PAGES:
            raise limit_error("PAGE_LIMIT", MAX_PAGES)
        for page in page_list:
            try:
                extracted = _extract_page(page, region_ids)
            except Exception as exc:
                out_of_memory(exc)
                # One broken page should not hide the others; the parser will
                # report what is missing, and the warning says why.
                failed.append(page.page_number)
                warnings.append(f"第{page.page_number}页无法读取：{exc} (page {page.page_number} unreadable)")
                continue
            finally:
                page.close()
            pages.append(extracted)
    if failed and len(failed) == len(page_list):
        raise IngestError("PDF_CORRUPT", "PDF 文件已损坏，任何一页都无法读取 (corrupt PDF: no page could be read)")
    return pages


def _read_scanned(data: bytes, pages: list[_Page], warnings: list[str]) -> None:
    """Pages without a text layer (scans) read by OCR, in place; text pages are left as they are."""
    scanned = [p for p in pages if not p.lines and not p.tables]
    if not scanned:
        return
    listed = "、".join(str(p.number) for p in scanned)
    garbled = "、".join(str(p.number) for p in scanned if p.garbled)
    from auditlib.ingest import ocr

    if garbled:
        warnings.append(
            f"第{garbled}页的文字层无法解码（字体缺少编码映射，提取出的是乱码），按扫描页处理 "
            f"(pages {garbled}: text layer cannot be decoded, fonts without a Unicode map; read as scans)"
        )
    if not ocr.available():
        if len(scanned) < len(pages) or garbled:
            warnings.append(f"第{listed}页没有可用的文字层（可能是扫描页），其内容未读取 (pages without a usable text layer: {listed})")
        return
    if len(scanned) > MAX_OCR_PAGES:
        raise limit_error("OCR_LIMIT", MAX_OCR_PAGES)
    # A page rendered for OCR costs memory by its size: held to A2 (1191 × 1684 pt), that is
    # at most ~40 MB of pixels a page, so the OCR runtime (which reserves far more address
    # space than it touches) may run outside the worker's address-space cap.
    if any(p.width * p.height > MAX_SCAN_AREA for p in scanned):
        raise limit_error("PAGE_SIZE_LIMIT", "A2")
    allow(OCR_PAGE_SECONDS * len(scanned))
    by_number = {p.number: p for p in scanned}
    dropped = uncapped(lambda: _ocr_pages(ocr, data, by_number))
    note = f"；{dropped}行文字识别置信度过低，未采用" if dropped else ""
    warnings.append(
        f"第{listed}页{'没有可用的文字层' if garbled else '没有文字层（扫描页）'}，已用文字识别（OCR）读取；表格数值须经勾稽关系验证方予采用{note} "
        f"(pages {listed} read by OCR; table numbers kept only where the table's arithmetic confirms them)"
    )


def _ocr_pages(ocr: Any, data: bytes, by_number: dict[int, _Page]) -> int:
    """Read the scanned pages by OCR into their lines and tables; how many lines were dropped."""
    dropped = 0
    for number, image in ocr.render_pages(data, list(by_number)):
        read = ocr.read_page(image, number)
        dropped += read.dropped_lines
        _add_read(by_number[number], read)
    return dropped


def _add_read(page: _Page, read: Any) -> None:
    """What OCR read on (part of) a page, as the page's lines and tables."""
    for ln in read.lines:
        text = _clean(ln.text)
        if text:
            size = ln.bottom - ln.top
            page.lines.append(_Line(text, ln.x0, ln.x1, ln.top, ln.bottom, size, page.number, page.width, -1))
    page.tables.extend(_TableItem(t.rows, t.top, t.bottom, page.number, found_by="ocr") for t in read.tables)


def _read_pictures(data: bytes, pages: list[_Page], warnings: list[str]) -> None:
    """Pictures on text pages that hold a ruled table (a table pasted in as an image), read by OCR in place."""
    from auditlib.ingest import ocr
    from auditlib.ingest.pictures import PictureReader

    reader = PictureReader()
    for page in pages:
        for k, box in enumerate(page.pictures, start=1):
            name = f"第{page.number}页图片{k}"
            if not ocr.available():
                reader.unread.append(name)
                continue
            rgb = ocr.render_region(data, page.number, box)
            read = reader.page(rgb, name, box[2] - box[0], page=page.number, origin=(box[0], box[1]))
            if read is not None:
                _add_read(page, read)
    warnings.extend(reader.warnings())


def _open_error(exc: BaseException) -> IngestError:
    if isinstance(exc, (PDFPasswordIncorrect, PDFEncryptionError)):
        return IngestError(
            "PDF_ENCRYPTED",
            "PDF 文件已加密，无法打开，请提供未加密的版本 (encrypted PDF that cannot be opened without a password)",
        )
    return IngestError("PDF_CORRUPT", f"PDF 文件已损坏或不是 PDF：{exc} (corrupt or not a PDF)")


def _extract_page(page: Any, region_ids: Iterator[int]) -> _Page:
    out = _Page(page.page_number, float(page.width), float(page.height))
    # Fake bold (each glyph drawn twice, slightly offset) would double every character.
    deduped = page.dedupe_chars()
    if not deduped.chars:
        return out
    if _garbled(deduped.chars):
        out.garbled = True
        return out

    real: list[tuple[tuple[float, float, float, float], list[list[str | None]]]] = []
    frames: list[tuple[tuple[float, float, float, float], int]] = []
    for table in deduped.find_tables():
        rows = [[_cell_text(c) for c in row] for row in table.extract()]
        if _is_frame(rows):
            frames.append((table.bbox, next(region_ids)))
        else:
            real.append((table.bbox, rows))

    def outside_real_tables(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        return not any(_centre_in(obj, bbox) for bbox, _ in real)

    loose: list[tuple[_Line, list[dict[str, Any]]]] = []
    for raw in deduped.filter(outside_real_tables).extract_text_lines(layout=False, strip=True, return_chars=True):
        text = _clean(raw["text"])
        if not text:
            continue
        chars = raw.get("chars") or []
        size = statistics.median(c["size"] for c in chars) if chars else 0.0
        region = -1
        for bbox, rid in frames:
            if _centre_in(raw, bbox):
                region = rid
                break
        line = _Line(text, raw["x0"], raw["x1"], raw["top"], raw["bottom"], float(size), out.number, out.width, region)
        out.lines.append(line)
        if chars:
            loose.append((line, chars))
    for bbox, rows in real:
        out.tables.append(_TableItem(rows, bbox[1], bbox[3], out.number))
    _take_word_tables(out, loose)
    out.pictures = _pictures(page, deduped.chars)
    return out


# Share of a page's characters that cannot be decoded beyond which its text layer is not read.
_GARBLED_SHARE = 0.3


def _garbled(chars: list[dict[str, Any]]) -> bool:
    """Whether the page's text layer is mostly characters that cannot be decoded.

    A font embedded without its Unicode map (common in PDFs from some office suites and
    printers) gives pdfminer glyph numbers, ``(cid:123)``, or private-use code points in
    place of the characters: the page looks fine and its text is nothing. Read as text
    it is "not a report"; such a page is read by OCR, like a scan.
    """
    bad = total = 0
    for c in chars:
        text = c["text"]
        if text.isspace():
            continue
        total += 1
        if text.startswith("(cid:") or text == "\ufffd" or "\ue000" <= text[0] <= "\uf8ff":
            bad += 1
    return total >= 20 and bad >= _GARBLED_SHARE * total


# A picture narrower than this share of the page, or lower than this (points), holds no table of the format.
_PICTURE_MIN_WIDTH = 0.3
_PICTURE_MIN_HEIGHT = 60.0
# A picture under more characters than this is a scan behind its own OCR text layer: the text is read.
_PICTURE_MAX_CHARS = 10


def _pictures(page: Any, chars: list[dict[str, Any]]) -> list[tuple[float, float, float, float]]:
    out: list[tuple[float, float, float, float]] = []
    for im in page.images:
        box = (
            max(0.0, float(im["x0"])),
            max(0.0, float(im["top"])),
            min(float(page.width), float(im["x1"])),
            min(float(page.height), float(im["bottom"])),
        )
        if box[2] - box[0] < _PICTURE_MIN_WIDTH * float(page.width) or box[3] - box[1] < _PICTURE_MIN_HEIGHT:
            continue
        if sum(1 for c in chars if _centre_in(c, box)) > _PICTURE_MAX_CHARS:
            continue
        out.append(box)
    return out


def _take_word_tables(page: _Page, loose: list[tuple[_Line, list[dict[str, Any]]]]) -> None:
    """Tables without ruling lines: their lines leave the running text and come back as a table."""
    if not loose:
        return
    right = max(line.x1 for line, _ in loose)
    taken: set[int] = set()
    # Running text and each framed box apart: a table boxed row by row (horizontal
    # rules and a frame, no vertical rules) is such a box.
    regions: dict[int, list[tuple[_Line, list[dict[str, Any]]]]] = {}
    for item in loose:
        regions.setdefault(item[0].region, []).append(item)
    for members in regions.values():
        words = [WordLine(chars, line.top, line.bottom, line.size or 10.0) for line, chars in members]
        for table in find_word_tables(words, right):
            taken |= {id(members[i][0]) for i in table.lines}
            page.tables.append(_TableItem(table.rows, table.top, table.bottom, page.number, found_by="words"))
    if taken:
        page.lines = [line for line in page.lines if id(line) not in taken]


def _centre_in(obj: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _is_frame(rows: list[list[str | None]]) -> bool:
    """A box drawn around running text: pdfplumber sees a table with one cell per row."""
    return all(sum(c is not None for c in row) <= 1 for row in rows)


# ------------------------------------------------------------------ text clean-up


def _clean(text: str) -> str:
    text = _SPACES.sub(" ", text.replace("\u3000", " ")).strip()
    return _SPACE_NEAR_WIDE.sub("", text)


def _join(left: str, right: str) -> str:
    """Join two pieces of one wrapped line: Chinese wraps anywhere, Latin only at spaces."""
    if not left:
        return right
    if not right:
        return left
    a, b = left[-1], right[0]
    if a.isascii() and b.isascii() and (a.isalnum() or a in ",.;:!?)") and b.isalnum():
        return f"{left} {right}"
    return left + right


def _cell_text(cell: str | None) -> str | None:
    if cell is None:
        return None
    text = ""
    for part in cell.split("\n"):
        text = _join(text, _clean(part))
    return text


# ------------------------------------------------------------------ headers and footers


def _drop_headers_and_footers(pages: list[_Page]) -> None:
    def in_margin(line: _Line, page: _Page) -> bool:
        return line.bottom <= page.height * _TOP_ZONE or line.top >= page.height * _BOTTOM_ZONE

    # A running header or footer is the same text (page numbers aside) in the
    # margin of most pages.
    seen: Counter[str] = Counter()
    for page in pages:
        keys = {_digitless(line.text) for line in page.lines if in_margin(line, page)}
        seen.update(keys)
    threshold = max(2, (len(pages) + 1) // 2)
    running = {k for k, n in seen.items() if n >= threshold and len(pages) >= 2}

    for page in pages:
        page.lines = [
            line
            for line in page.lines
            if not (in_margin(line, page) and (_PAGE_NUMBER.match(line.text) or _digitless(line.text) in running))
        ]


def _digitless(text: str) -> str:
    return re.sub(r"\d+", "#", text)


# ------------------------------------------------------------------ assembly


@dataclass
class _Metrics:
    left: float
    right: float
    gap: float


def _metrics(pages: list[_Page]) -> _Metrics:
    body = [line for p in pages for line in p.lines]
    if not body:
        return _Metrics(0.0, 0.0, 0.0)
    left = Counter(round(line.x0) for line in body).most_common(1)[0][0]
    rights = sorted(line.x1 for line in body)
    right = rights[int(len(rights) * 0.9) - 1 if len(rights) >= 10 else -1]
    gaps = [
        b.top - a.bottom for p in pages for a, b in pairwise(p.lines) if b.top - a.bottom > 0 and a.region == b.region
    ]
    gap = statistics.median(gaps) if gaps else 0.0
    return _Metrics(float(left), float(right), float(gap))


def _assemble(pages: list[_Page]) -> list[Block]:
    m = _metrics(pages)
    blocks: list[Block] = []
    parts: list[str] = []
    start_page = 0
    prev: _Line | None = None
    # The last table ran to the foot of its page: a table at the head of the next page continues it.
    open_table: _TableItem | None = None

    def flush() -> None:
        nonlocal parts, prev
        if parts:
            text = ""
            for piece in parts:
                text = _join(text, piece)
            blocks.append(Paragraph(text, line=start_page))
        parts = []
        prev = None

    for page in pages:
        items: list[tuple[float, int, _Line | _TableItem]] = [(ln.top, 1, ln) for ln in page.lines]
        items += [(t.top, 0, t) for t in page.tables]
        items.sort(key=lambda it: (it[0], it[1]))
        for index, (_, _, item) in enumerate(items):
            if isinstance(item, _TableItem):
                if index == 0 and open_table is not None and blocks and isinstance(blocks[-1], Table):
                    _continue_table(open_table, item)
                    last = blocks[-1]
                    how = last.how if last.how == item.found_by else f"{last.how}+{item.found_by}"
                    blocks[-1] = Table(open_table.rows, line=last.line, how=how, pages=(*last.pages, item.page))
                else:
                    flush()
                    open_table = _TableItem([list(r) for r in item.rows], item.top, item.bottom, item.page)
                    blocks.append(Table(open_table.rows, line=item.page, how=item.found_by, pages=(item.page,)))
                prev = None
                continue
            open_table = None
            if prev is None or _starts_paragraph(prev, item, m):
                flush()
                start_page = item.page
            parts.append(item.text)
            prev = item
        if not items or not isinstance(items[-1][2], _TableItem):
            open_table = None
    flush()
    return blocks


def _starts_paragraph(prev: _Line, line: _Line, m: _Metrics) -> bool:
    size = line.size or 12.0
    if line.region != prev.region:
        return True
    if _HEADING.match(line.text):
        return True
    if abs(line.size - prev.size) > 0.15 * max(line.size, prev.size):
        return True
    indented = line.x0 > m.left + 0.8 * size
    if indented:
        # A title set on two centred lines is one paragraph.
        return not (_centred(prev, m) and _centred(line, m) and line.page == prev.page)
    if prev.x1 < m.right - 2 * size:
        return True  # the previous line stopped short: its paragraph ended there
    if line.page == prev.page and m.gap and line.top - prev.bottom > m.gap + 0.8 * size:
        return True
    return False


def _centred(line: _Line, m: _Metrics) -> bool:
    # Full lines are centred too; a centred title line also stands off the margin.
    size = line.size or 12.0
    return line.x0 > m.left + size and abs((line.x0 + line.x1) / 2 - line.page_width / 2) < 1.5 * size


# ------------------------------------------------------------------ tables across page breaks


def _continue_table(table: _TableItem, cont: _TableItem) -> None:
    """Append the rows of ``cont`` (head of the next page) to ``table`` (foot of this one)."""
    rows = [list(r) for r in cont.rows]
    # Word repeats header rows on each page when asked to; keep them once.
    k = 0
    while k < len(rows) and k < len(table.rows) and rows[k] == table.rows[k] and any(rows[k]):
        k += 1
    rows = rows[k:]
    if rows and table.rows and len(rows[0]) == len(table.rows[-1]):
        if _is_split_row(table.rows[-1], rows[0]):
            table.rows[-1] = [_merge_cells(a, b) for a, b in zip(table.rows[-1], rows[0], strict=True)]
            rows = rows[1:]
        else:
            _continue_merged_cells(table.rows, rows)
    table.rows.extend(rows)


def _is_value(cell: str | None) -> bool:
    return bool(cell) and bool(_NUMERIC.match(cell or ""))


def _is_split_row(last: list[str | None], first: list[str | None]) -> bool:
    """One row that the page break cut in two: labels continue, values stand on one side only."""
    values_last = any(_is_value(c) for c in last)
    values_first = any(_is_value(c) for c in first)
    if values_last and values_first:
        return False
    joined_text = False
    for a, b in zip(last, first, strict=False):
        if a and b:
            if _is_value(a) or _is_value(b) or _HEADING.match(b):
                return False
            joined_text = True
    return joined_text


def _merge_cells(a: str | None, b: str | None) -> str | None:
    if a and b:
        return _join(a, b)
    if a or b:
        return a or b
    return None if a is None or b is None else ""


def _continue_merged_cells(rows: list[list[str | None]], cont: list[list[str | None]]) -> None:
    """A vertically merged label cell that the page break cut: restore the merge.

    On the new page the cut cell shows as an empty cell (the label stayed
    above) or as the rest of its label (“（四）无” | “法提供”). Either way the
    positions it covers become ``None`` and any text goes back to the top cell.
    """
    first = cont[0]
    below = cont[1] if len(cont) > 1 else []
    last = rows[-1]
    for c, cell in enumerate(first):
        above = last[c]
        if cell == "" and above is None:
            owner = _owner_above(rows, c)
            if owner is not None and not _is_value(owner[0]):
                first[c] = None
        elif (
            cell
            and above
            and not _is_value(cell)
            and not _is_value(above)
            and not _HEADING.match(cell)
            and not above.endswith(("。", "；", ";"))
            and (c == 0 or first[c - 1] is None)
            and c < len(below)
            and below[c] is None
        ):
            last[c] = _join(above, cell)
            first[c] = None


def _owner_above(rows: list[list[str | None]], c: int) -> tuple[str, int] | None:
    for r in range(len(rows) - 1, -1, -1):
        if c < len(rows[r]) and rows[r][c] is not None:
            return rows[r][c] or "", r
    return None
