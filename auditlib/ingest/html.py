"""HTML reports, as saved from government web sites: the article's paragraphs and tables.

Pages come in GBK as often as in UTF-8, sometimes declaring the wrong one; old
sites lay the page out with tables and leave tags unclosed by the hundred. The
reader decodes carefully, parses with a recovering parser that has no nesting
limit, and walks the tree with an explicit stack, so no page can exhaust the
Python stack. Site chrome (navigation, footer) is dropped only where it is
clearly chrome: when unsure, text is kept.
"""

from __future__ import annotations

import base64
import codecs
import re
import warnings as pywarnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from bs4.element import NavigableString, PreformattedString, Tag

from auditlib.blocks import Block, Document, IngestError, Paragraph, Table
from auditlib.ingest.pictures import PictureReader
from auditlib.ingest.text import WIDE_CHARS, bom_encoding
from auditlib.ingest.text import decode as decode_text
from auditlib.limits import MAX_TABLE_CELLS, limit_error, out_of_memory

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Pages that say GB2312 or GBK routinely use characters outside it; GB18030 decodes them all.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "unicode": "utf-16",
    "utf8": "utf-8",
}

_DROP = {
    "head", "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
    "canvas", "select", "option", "button", "input", "textarea", "map", "audio", "video", "link", "meta",
}  # fmt: skip
_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol",
    "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_CHROME_TAGS = {"nav", "aside", "header", "footer"}
_CHROME_CLASS = re.compile(
    r"^(?:nav|navbar|navigation|menu|breadcrumbs?|crumbs?|footer|foot|copyright|sidebar|share|topbar|toolbar"
    r"|friendlinks?)(?:$|[-_\d])"
    r"|(?:^|[-_])(?:nav|navbar|menu|footer|breadcrumbs?|copyright)$"
    r"|^(?:header|head|top|bottom)$",
    re.IGNORECASE,
)
# Chrome that holds the article's own date or source is not chrome, nor is a
# page header that holds the report's title.
_KEEP_WORDS = re.compile(r"发布日期|发布时间|成文日期|信息来源")
_TITLE_WORDS = re.compile(r"年度报告")
# Chrome is small: this share of the page's text, and no table longer than this.
_CHROME_MAX_SHARE = 0.3
_CHROME_MAX_ROWS = 3
# Deciding chrome costs a look at the subtree's text; a page full of
# candidates (malformed or hostile) is read whole instead.
_MAX_CHROME_CHECKS = 500

# A source line break between two Chinese characters is not a space (CSS Text
# segment-break rules): Word's "save as web page" wraps lines anywhere.
_WIDE_BREAK = re.compile(rf"(?<=[{WIDE_CHARS}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{WIDE_CHARS}])")
_WS = re.compile(r"[ \t\r\n\f\u00a0]+")
_MAX_SPAN = 1000


def read_html(data: bytes, source: str) -> Document:
    """Read an HTML page into paragraphs and tables. Raises :class:`IngestError`."""
    warnings: list[str] = []
    text, encoding = _decode(data, warnings)
    try:
        with pywarnings.catch_warnings():
            # XHTML pages (with an <?xml?> line) are HTML to us; a tiny page is not a file name.
            pywarnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            pywarnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = BeautifulSoup(text, "lxml")
    except Exception as exc:  # lxml recovers from nearly anything; this is the rest
        out_of_memory(exc)
        raise IngestError("HTML_UNREADABLE", f"网页无法解析：{exc} (HTML could not be parsed)") from exc
    root = soup.body or soup
    stats = _subtree_stats(root)
    walker = _Walker(stats, _Pictures(source))
    blocks = walker.run(root)
    warnings.extend(walker.pictures.reader.warnings())
    return Document(
        source=source, blocks=blocks, kind="html", encoding=encoding, warnings=warnings, images=walker.images
    )


# ------------------------------------------------------------------ decoding


def _decode(data: bytes, warnings: list[str]) -> tuple[str, str]:
    enc = bom_encoding(data)
    if enc:
        return data.decode(enc, errors="replace"), enc
    head = data[:8192]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    declared = _codec(match.group(1).decode("ascii", "replace")) if match else None
    if declared:
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            warnings.append(f"网页声明的编码 {declared} 与内容不符，已自动识别 (declared charset {declared} is wrong)")
    try:
        return decode_text(data)
    except IngestError:
        warnings.append("无法确定网页编码，按 GB18030 读取，个别字符可能有误 (charset unknown; read as GB18030)")
        return data.decode("gb18030", errors="replace"), "gb18030"


def _codec(name: str) -> str | None:
    key = name.strip().lower()
    key = _CHARSET_ALIASES.get(key, key)
    try:
        return codecs.lookup(key).name
    except LookupError:
        return None


# ------------------------------------------------------------------ tree statistics


class _Stats:
    """Per element: length of its text, rows of tables in it, whether it holds a table."""

    def __init__(self) -> None:
        self.text_len: dict[int, int] = {}
        self.rows: dict[int, int] = {}
        self.has_table: dict[int, bool] = {}
        self.total = 0


def _subtree_stats(root: Tag) -> _Stats:
    stats = _Stats()
    # Post-order without recursion: a node is finished when popped the second time.
    stack: list[tuple[Tag, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in node.contents if isinstance(c, Tag) and _name(c) not in _DROP)
            continue
        length = rows = 0
        has_table = False
        for child in node.contents:
            if isinstance(child, Tag):
                key = id(child)
                if key in stats.text_len:
                    length += stats.text_len[key]
                    rows += stats.rows[key]
                    has_table = has_table or stats.has_table[key] or _name(child) == "table"
            elif _is_text(child):
                length += len(child.strip())
        stats.text_len[id(node)] = length
        stats.rows[id(node)] = rows + (1 if _name(node) == "tr" else 0)
        stats.has_table[id(node)] = has_table
    stats.total = stats.text_len.get(id(root), 0)
    return stats


def _name(tag: Tag) -> str:
    return (tag.name or "").lower()


def _is_text(node: object) -> bool:
    return isinstance(node, NavigableString) and not isinstance(node, PreformattedString)


# ------------------------------------------------------------------ walking


class _Pictures:
    """<img> pictures of the page, read where they stand: data: URIs, and local files beside the page.

    Nothing is ever fetched from the network, and no path outside the page's own folder is read.
    """

    def __init__(self, source: str) -> None:
        self.folder = Path(source).resolve().parent if source else None
        self.reader = PictureReader()
        self.inline = 0

    def blocks(self, img: Tag) -> list[Block]:
        src = str(img.get("src") or "").strip()
        found = self._bytes(src)
        if found is None:
            return []
        data, name = found
        return self.reader.blocks(data, name, _css_width_pt(img.get("width")))

    def _bytes(self, src: str) -> tuple[bytes, str] | None:
        if src[:5].lower() == "data:":
            head, _, payload = src[5:].partition(",")
            try:
                data = base64.b64decode(payload) if head.lower().endswith(";base64") else unquote_to_bytes(payload)
            except ValueError:
                return None
            self.inline += 1
            return data, f"内嵌图片{self.inline}（data: URI）"
        parts = urlsplit(src)
        if not src or parts.scheme or parts.netloc or self.folder is None:
            return None  # http(s) and the like: never fetched
        path = (self.folder / unquote(parts.path)).resolve()
        if not path.is_relative_to(self.folder) or not path.is_file():
            return None
        try:
            if path.stat().st_size > _MAX_PICTURE_BYTES:
                return None
            return path.read_bytes(), unquote(parts.path)
        except OSError:
            return None


_MAX_PICTURE_BYTES = 32 * 1024 * 1024


def _css_width_pt(value: object) -> float | None:
    """The width attribute (CSS pixels, 96 per inch) in points."""
    try:
        return float(str(value).strip().removesuffix("px")) * 0.75 if value is not None else None
    except ValueError:
        return None


class _Walker:
    def __init__(self, stats: _Stats, pictures: _Pictures) -> None:
        self.stats = stats
        self.pictures = pictures
        self.checks = 0
        self.positions = 0  # table grid positions laid out so far, for the cell budget
        self.images: list[tuple[int, str]] = []  # (block index, src) of pictures in the text

    def run(self, root: Tag) -> list[Block]:
        blocks: list[Block] = []
        for item in self._events(root, tables=True, chrome=True):
            if isinstance(item, str):
                blocks.append(Paragraph(item))
            elif _name(item) == "img":
                read = self.pictures.blocks(item)
                if read:
                    blocks.extend(read)
                else:  # not read by OCR: the table rules say a table given only as an image
                    self.images.append((len(blocks), str(item.get("src") or item.get("alt") or "（图片）")))
            else:
                blocks.extend(self._table(item))
        return blocks

    def _events(self, root: Tag, tables: bool, chrome: bool) -> Iterator[str | Tag]:
        """Paragraph texts and data tables (as their <table> tag), in document order."""
        buffer: list[str] = []

        def flush() -> Iterator[str]:
            if buffer:
                text = _normalise("".join(buffer))
                buffer.clear()
                if text:
                    yield text

        # Entries: (node, entering, depth inside <article>/<main>). Leaving a block
        # element ends its paragraph, as entering one does.
        stack: list[tuple[object, bool, int]] = [(root, True, 0)]
        while stack:
            node, entering, article = stack.pop()
            if not isinstance(node, Tag):
                if _is_text(node):
                    buffer.append(str(node))
                continue
            name = _name(node)
            if not entering:
                if name in _BLOCK:
                    yield from flush()
                continue
            if name in _DROP:
                continue
            if name == "br":
                yield from flush()
                continue
            if name == "img":
                if tables and _picture(node):
                    yield from flush()
                    yield node
                continue
            if chrome and self._is_chrome(node, name, article):
                continue
            if name == "pre":
                yield from flush()
                for line in node.get_text().splitlines():
                    buffer.append(line)
                    yield from flush()
                continue
            if name == "table" and tables and not self._is_layout_table(node):
                yield from flush()
                yield node
                continue
            if name in _BLOCK:
                yield from flush()
            inside = article + (1 if name in ("article", "main") else 0)
            stack.append((node, False, inside))
            stack.extend((child, True, inside) for child in reversed(node.contents))
        yield from flush()

    def _is_chrome(self, tag: Tag, name: str, article: int) -> bool:
        if name in ("body", "html", "article", "main"):
            return False
        chrome_tag = name in _CHROME_TAGS and not (article and name in ("header", "footer"))
        hidden = tag.has_attr("hidden") or bool(
            re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", str(tag.get("style") or ""), re.I)
        )
        chrome_class = False
        if not chrome_tag and not hidden:
            names = list(tag.get("class") or [])
            if tag.get("id"):
                names.append(str(tag.get("id")))
            chrome_class = not article and any(_CHROME_CLASS.search(str(n)) for n in names)
        if not (chrome_tag or hidden or chrome_class):
            return False
        key = id(tag)
        length = self.stats.text_len.get(key, 0)
        if self.stats.rows.get(key, 0) > _CHROME_MAX_ROWS:
            return False
        if self.stats.total and length > _CHROME_MAX_SHARE * self.stats.total:
            return False
        if length == 0:
            return True
        self.checks += 1
        if self.checks > _MAX_CHROME_CHECKS:
            return False
        text = tag.get_text()
        return not (_KEEP_WORDS.search(text) or (name == "header" and _TITLE_WORDS.search(text)))

    def _is_layout_table(self, table: Tag) -> bool:
        """Tables that lay out a page, or frame text, rather than hold data."""
        if self.stats.has_table.get(id(table), False):
            return True
        rows = _table_rows(table)
        return not rows or all(len(_row_cells(tr)) <= 1 for tr in rows)

    # -------------------------------------------------------------- tables

    def _table(self, table: Tag) -> list[Block]:
        out: list[Block] = []
        caption = table.find("caption")
        if isinstance(caption, Tag):
            text = self._cell_text(caption)
            if text:
                out.append(Paragraph(text))
        trs = _table_rows(table)
        cells: dict[tuple[int, int], str | None] = {}
        for r, tr in enumerate(trs):
            c = 0
            for cell in _row_cells(tr):
                while (r, c) in cells:
                    c += 1
                rowspan = _span(cell.get("rowspan"), len(trs) - r)
                colspan = _span(cell.get("colspan"), _MAX_SPAN)
                # Merged cells are laid out one position at a time: count them
                # before laying them out (18 KB of rowspan=1000 colspan=1000 is 10⁹).
                self.positions += rowspan * colspan
                if self.positions > MAX_TABLE_CELLS:
                    raise limit_error("CELL_LIMIT", MAX_TABLE_CELLS)
                for i in range(rowspan):
                    for j in range(colspan):
                        cells[(r + i, c + j)] = None
                cells[(r, c)] = self._cell_text(cell)
                c += colspan
        widths = [0] * len(trs)
        for r, c in cells:
            widths[r] = max(widths[r], c + 1)
        # A position no cell reaches (a short row) shows blank in a browser.
        rows = [[cells.get((r, c), "") for c in range(widths[r])] for r in range(len(trs))]
        out.append(Table(rows))
        return out

    def _cell_text(self, cell: Tag) -> str:
        lines = [text for text in self._events(cell, tables=False, chrome=False) if isinstance(text, str)]
        return "\n".join(lines)


def _picture(img: Tag) -> bool:
    """An image that can hold a table: not an icon or a spacer (sizes, where given, of 100 px and more)."""
    for attr in ("width", "height"):
        value = str(img.get(attr) or "").strip().rstrip("px").strip()
        if value.isdigit() and int(value) < 100:
            return False
    return True


def _table_rows(table: Tag) -> list[Tag]:
    # Data tables hold no nested tables, so every <tr> below belongs to this one.
    return [tr for tr in table.find_all("tr")]


def _row_cells(tr: Tag) -> list[Tag]:
    return [c for c in tr.find_all(["td", "th"]) if c.find_parent("tr") is tr]


def _span(value: object, limit: int) -> int:
    try:
        n = int(str(value).strip().rstrip(";")) if value is not None else 1
    except ValueError:
        return 1
    if n <= 0:  # rowspan="0" spans the rest of the table
        return max(1, limit)
    return max(1, min(n, limit, _MAX_SPAN))


def _normalise(text: str) -> str:
    text = _WIDE_BREAK.sub("", text)
    return _WS.sub(" ", text).strip(" \u3000")
