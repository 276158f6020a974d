"""Word (.docx) reports: paragraphs and tables in body order, merged cells resolved.

python-docx's ``table.cell(r, c)`` repeats a merged cell's text in every
position it covers, which would double every label of 表三. So tables are read
from the XML itself: ``w:gridSpan`` and ``w:vMerge`` say which grid positions a
cell covers, and only its top-left position gets the text.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import docx
from lxml import etree

from auditlib.blocks import Block, Document, IngestError, Paragraph, Table
from auditlib.ingest.pictures import PictureReader
from auditlib.limits import MAX_TABLE_CELLS, MAX_UNPACKED_BYTES, MAX_UNPACKED_XML, limit_error, out_of_memory

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
_V = "{urn:schemas-microsoft-com:vml}"
_EMU_PER_PT = 12700
_P, _TBL, _TR, _TC = f"{_W}p", f"{_W}tbl", f"{_W}tr", f"{_W}tc"
_VAL = f"{_W}val"
# Wrappers that hold body content without changing it (content controls,
# custom XML, tracked insertions and moves).
_WRAPPERS = {f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}ins", f"{_W}moveTo", f"{_W}smartTag"}
# Inside a paragraph: text we must not show (deleted text, field codes, the
# legacy copy of a drawing that Word stores next to the modern one).
_SKIP_IN_PARAGRAPH = {
    f"{_W}del",
    f"{_W}moveFrom",
    f"{_W}instrText",
    f"{_W}delText",
    f"{_MC}Fallback",
    f"{_W}pPr",
    f"{_W}rPr",
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted .docx is an OLE container with these streams (names stored in UTF-16LE).
_ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))

# Nested tables deeper than this are read as plain text: no report needs more,
# and it keeps malicious files from exhausting the stack.
_MAX_TABLE_DEPTH = 20


def read_docx(data: bytes, source: str) -> Document:
    """Read a .docx report into paragraphs and tables. Raises :class:`IngestError`."""
    if data.startswith(_OLE_MAGIC):
        if any(name in data for name in _ENCRYPTED_STREAMS):
            raise IngestError(
                "DOCX_ENCRYPTED",
                "Word 文件设置了打开密码（已加密），无法读取，请取消密码后再导入 "
                "(password-protected .docx: remove the password and try again)",
            )
        raise IngestError(
            "DOC_LEGACY",
            "这是旧版 Word（.doc）文件，无法直接读取，请另存为 .docx 或 PDF 后再导入 "
            "(legacy .doc file: save it as .docx, e.g. libreoffice --headless --convert-to docx)",
        )
    if not data.startswith(b"PK"):
        raise IngestError(
            "DOCX_CORRUPT",
            "文件不是有效的 Word（.docx）文件，可能已损坏或扩展名有误 (not a .docx file: corrupt or misnamed)",
        )
    _check_unpacked(data)
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, etree.XMLSyntaxError, EOFError) as exc:
        raise _corrupt(exc) from exc
    except Exception as exc:  # python-docx and zlib raise many kinds on broken packages
        out_of_memory(exc)
        raise _corrupt(exc) from exc

    warnings: list[str] = []
    pictures = _Pictures(document.part)
    blocks = _read_container(body, 0, warnings, pictures)
    warnings.extend(pictures.reader.warnings())
    return Document(source=source, blocks=blocks, kind="docx", encoding=None, warnings=warnings)


def _check_unpacked(data: bytes) -> None:
    """Refuse a package whose parts unpack past the budget, before unpacking any.

    The sizes are the archive's own word, but zipfile holds it to them: a part
    that inflates past its declared size fails its check instead of growing.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except Exception as exc:  # not a readable zip at all
        raise _corrupt(exc) from exc
    # python-docx holds every part in memory and parses the XML ones into trees
    # many times their size: the XML is held to far less than the pictures.
    xml = sum(max(0, i.file_size) for i in infos if i.filename.lower().endswith((".xml", ".rels")))
    if xml > MAX_UNPACKED_XML:
        raise limit_error("UNPACKED_LIMIT", MAX_UNPACKED_XML)
    if sum(max(0, i.file_size) for i in infos) > MAX_UNPACKED_BYTES:
        raise limit_error("UNPACKED_LIMIT", MAX_UNPACKED_BYTES)


def _corrupt(exc: BaseException) -> IngestError:
    return IngestError(
        "DOCX_CORRUPT",
        f"Word 文件已损坏或不完整，无法打开：{exc} (corrupt or truncated .docx)",
    )


# ------------------------------------------------------------------ body


def _children(element: etree._Element) -> Iterator[etree._Element]:
    """Block-level children, looking through content-control and similar wrappers."""
    stack = [iter(element)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        if child.tag in _WRAPPERS:
            stack.append(iter(child))
        else:
            yield child


class _Pictures:
    """The document's pictures, each read where it stands in the body (a table given as an image)."""

    def __init__(self, part: object) -> None:
        self.part = part
        self.reader = PictureReader()

    def blocks(self, p: etree._Element) -> list[Block]:
        out: list[Block] = []
        for rid, width in _picture_refs(p):
            try:
                image = self.part.related_parts[rid]  # type: ignore[attr-defined]
                data, name = image.blob, str(image.partname).lstrip("/")
            except (KeyError, AttributeError):
                continue  # a picture linked to a file outside the package: nothing to read
            out.extend(self.reader.blocks(data, name, width))
        return out


def _picture_refs(p: etree._Element) -> list[tuple[str, float | None]]:
    """The relationship id and shown width (points) of each picture in a paragraph."""
    out: list[tuple[str, float | None]] = []
    for node in p.iter(f"{_W}drawing", f"{_W}pict"):
        # Word keeps a legacy copy of a drawing in mc:Fallback: the same picture twice.
        if any(a.tag == f"{_MC}Fallback" for a in node.iterancestors()):
            continue
        if node.tag == f"{_W}drawing":
            blip = next(node.iter(f"{_A}blip"), None)
            rid = None if blip is None else blip.get(f"{_R}embed")
            extent = next(node.iter(f"{_WP}extent"), None)
            try:
                width = int(extent.get("cx", "0")) / _EMU_PER_PT if extent is not None else None
            except ValueError:
                width = None
        else:
            data = next(node.iter(f"{_V}imagedata"), None)
            rid, width = (None if data is None else data.get(f"{_R}id")), None
        if rid:
            out.append((rid, width))
    return out


def _read_container(
    element: etree._Element, depth: int, warnings: list[str], pictures: _Pictures | None = None
) -> list[Block]:
    blocks: list[Block] = []
    for child in _children(element):
        if child.tag == _P:
            text, boxes = _paragraph_text(child)
            for line in text.split("\n"):
                line = line.strip()
                if line:
                    blocks.append(Paragraph(line))
            for box in boxes:
                if depth < _MAX_TABLE_DEPTH:
                    blocks.extend(_read_container(box, depth + 1, warnings, pictures))
            if pictures is not None:
                blocks.extend(pictures.blocks(child))
        elif child.tag == _TBL:
            blocks.extend(_read_table(child, depth, warnings, pictures))
        elif child.tag == f"{_W}altChunk":
            warnings.append("文档中嵌入的外部内容（altChunk）未读取 (embedded altChunk content skipped)")
    return blocks


def _paragraph_text(p: etree._Element) -> tuple[str, list[etree._Element]]:
    """The visible text of a paragraph, and any text boxes anchored in it."""
    out: list[str] = []
    boxes: list[etree._Element] = []
    stack = [iter(p)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
            continue
        tag = node.tag
        if not isinstance(tag, str) or tag in _SKIP_IN_PARAGRAPH:
            continue
        if tag == f"{_W}t":
            out.append(node.text or "")
        elif tag == f"{_W}tab":
            out.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            out.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            out.append("-")
        elif tag == f"{_W}txbxContent":
            boxes.append(node)
        elif len(node):
            stack.append(iter(node))
    return "".join(out), boxes


# ------------------------------------------------------------------ tables


def _rows(tbl: etree._Element) -> Iterator[etree._Element]:
    return (r for r in _children(tbl) if r.tag == _TR)


def _cells(tr: etree._Element) -> Iterator[etree._Element]:
    return (c for c in _children(tr) if c.tag == _TC)


def _prop(parent: etree._Element | None, name: str) -> etree._Element | None:
    return None if parent is None else parent.find(f"{_W}{name}")


def _int_val(el: etree._Element | None, default: int) -> int:
    if el is None:
        return default
    try:
        return max(0, min(int(el.get(_VAL, default)), 1000))
    except ValueError:
        return default


def _is_layout_table(tbl: etree._Element) -> bool:
    """A box around text (one cell per row) or around the whole report, not a data table."""
    return all(sum(1 for _ in _cells(tr)) <= 1 for tr in _rows(tbl))


def _read_table(
    tbl: etree._Element, depth: int, warnings: list[str], pictures: _Pictures | None = None
) -> list[Block]:
    if depth >= _MAX_TABLE_DEPTH:
        # Not itertext(): python-docx's element classes make it repeat run text.
        text = "".join(t.text or "" for t in tbl.iter(f"{_W}t")).strip()
        return [Paragraph(text)] if text else []
    if _is_layout_table(tbl):
        blocks: list[Block] = []
        for tr in _rows(tbl):
            for tc in _cells(tr):
                blocks.extend(_read_container(tc, depth + 1, warnings, pictures))
        return blocks

    grid: list[list[str | None]] = []
    positions = 0  # grid positions laid out, counted before each is made (gridSpan="1000000000")
    for tr in _rows(tbl):
        row: list[str | None] = []
        tr_pr = _prop(tr, "trPr")
        # Cells missing at the start of a row (w:gridBefore) are no cells at all.
        before = max(0, _int_val(_prop(tr_pr, "gridBefore"), 0))
        positions += before
        if positions > MAX_TABLE_CELLS:
            raise limit_error("CELL_LIMIT", MAX_TABLE_CELLS)
        row.extend([None] * before)
        for tc in _cells(tr):
            tc_pr = _prop(tc, "tcPr")
            span = max(1, _int_val(_prop(tc_pr, "gridSpan"), 1))
            positions += span
            if positions > MAX_TABLE_CELLS:
                raise limit_error("CELL_LIMIT", MAX_TABLE_CELLS)
            v_merge = _prop(tc_pr, "vMerge")
            h_merge = _prop(tc_pr, "hMerge")
            covered = (v_merge is not None and v_merge.get(_VAL, "continue") == "continue") or (
                h_merge is not None and h_merge.get(_VAL, "continue") == "continue"
            )
            if covered:
                row.extend([None] * span)
            else:
                row.append(_cell_text(tc, depth, warnings))
                row.extend([None] * (span - 1))
        grid.append(row)
    return [Table(grid)]


def _cell_text(tc: etree._Element, depth: int, warnings: list[str]) -> str:
    lines: list[str] = []
    for child in _children(tc):
        if child.tag == _P:
            text, boxes = _paragraph_text(child)
            lines.append(text.strip())
            for box in boxes:
                lines.extend(_flat_lines(_read_container(box, depth + 1, warnings)))
        elif child.tag == _TBL:
            # A table inside a data cell: keep its text, row by row.
            lines.extend(_flat_lines(_read_table(child, depth + 1, warnings)))
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def _flat_lines(blocks: list[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append(block.text)
        else:
            out.extend("\t".join(c for c in row if c) for row in block.rows)
    return out
