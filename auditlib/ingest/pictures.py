"""Tables pasted into a document as pictures, read by OCR like a scanned page.

Word files, web pages and PDFs with a text layer often carry 表三 as a
screenshot or a scan of the signed table. Each picture large enough to hold a
table is looked at; one with a ruled table in it is read by
:mod:`auditlib.ingest.ocr` (cells one by one, each an :class:`~auditlib.ingest.ocr.OcrText`),
so that :mod:`auditlib.verify` keeps its numbers only where the table's own
arithmetic confirms them, exactly as for a scanned page. Logos, seals and
photographs (no ruling lines) are left alone, unread and unmentioned.

A picture's resolution is known only from the size the document shows it at:
the Word drawing's extent, the PDF image's box, the HTML ``width``. Without one
the picture is taken to span the text width of the official A4 layout, which is
what a pasted table does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from auditlib.blocks import Block, Paragraph, Table
from auditlib.ingest import ocr
from auditlib.limits import MAX_OCR_PAGES, OCR_PAGE_SECONDS, allow, limit_error, uncapped

# Smaller pictures are icons, logos or a signature: no table of the format fits.
MIN_WIDTH_PX = 300
MIN_HEIGHT_PX = 120
# A4 less the official format's margins (2.8 cm and 2.6 cm), in points.
TEXT_WIDTH_PT = 440.0
# Past this, a picture is scaled to the OCR's own resolution first; below it, too.
_DPI_RANGE = (170, 320)
_MAX_PIXELS = 40_000_000


def decode(data: bytes) -> np.ndarray | None:
    """The picture as an RGB array, transparency on white; None for what PIL cannot read (EMF, WMF, broken)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > _MAX_PIXELS:
                return None
            img.load()
            if img.mode in ("RGBA", "LA", "P"):
                img = img.convert("RGBA")
                white = Image.new("RGBA", img.size, (255, 255, 255, 255))
                img = Image.alpha_composite(white, img)
            return np.asarray(img.convert("RGB"))
    except Exception:  # PIL raises many kinds on pictures it does not know
        return None


@dataclass
class PictureReader:
    """Reads one document's pictures and says, once, what was read by OCR."""

    read: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # tables that no OCR engine could read

    def page(
        self,
        rgb: np.ndarray,
        name: str,
        width_pt: float | None,
        page: int = 0,
        origin: tuple[float, float] = (0.0, 0.0),
    ) -> ocr.OcrPage | None:
        """The picture read as a page, its coordinates moved to ``origin`` (points); None if it holds no table."""
        h, w = rgb.shape[:2]
        if w < MIN_WIDTH_PX or h < MIN_HEIGHT_PX:
            return None
        width_pt = width_pt if width_pt and width_pt > 36 else TEXT_WIDTH_PT
        dpi = w / (width_pt / 72.0)
        if not _DPI_RANGE[0] <= dpi <= _DPI_RANGE[1]:
            factor = ocr.DPI / dpi
            size = (max(1, round(w * factor)), max(1, round(h * factor)))
            if size[0] * size[1] > _MAX_PIXELS:
                return None
            import cv2

            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)
            dpi = ocr.DPI
        if not ocr.available():
            self.unread.append(name)  # without OpenCV a table cannot even be told from a photo
            return None
        if not ocr.has_table(rgb, round(dpi)):
            return None
        # As a scanned page: counted against the report's OCR allowance, given its processor
        # time, and read outside the address-space cap that the OCR runtime cannot live under.
        if len(self.read) >= MAX_OCR_PAGES:
            raise limit_error("OCR_LIMIT", MAX_OCR_PAGES)
        allow(OCR_PAGE_SECONDS)
        dpi_used = round(dpi)
        read = uncapped(lambda: ocr.read_page(rgb, page, dpi_used))
        self.read.append(name)
        return _moved(read, name, origin)

    def blocks(self, data: bytes, name: str, width_pt: float | None) -> list[Block]:
        """A picture in a document without pages (Word, HTML) as paragraphs and tables, top to bottom."""
        rgb = decode(data)
        read = None if rgb is None else self.page(rgb, name, width_pt)
        return [] if read is None else page_blocks(read)

    def warnings(self) -> list[str]:
        out = []
        if self.read:
            listed = "、".join(self.read)
            out.append(
                f"文档中的表格图片（{listed}）已用文字识别（OCR）读取；表格数值须经勾稽关系验证方予采用 "
                "(tables given as pictures read by OCR; numbers kept only where the table's arithmetic confirms them)"
            )
        if self.unread:
            listed = "、".join(self.unread)
            out.append(
                f"文档中的图片（{listed}）未能读取，其中若有表格须另行核对：未安装文字识别（OCR）引擎 "
                "(pictures not read, no OCR engine installed: check any table in them by hand)"
            )
        return out


def _moved(read: ocr.OcrPage, name: str, origin: tuple[float, float]) -> ocr.OcrPage:
    dx, dy = origin
    for line in read.lines:
        line.x0, line.x1, line.top, line.bottom = line.x0 + dx, line.x1 + dx, line.top + dy, line.bottom + dy
    for table in read.tables:
        table.top, table.bottom = table.top + dy, table.bottom + dy
        for row in table.rows:
            for j, cell in enumerate(row):
                if isinstance(cell, ocr.OcrText):
                    x0, y0, x1, y1 = cell.bbox
                    box = (round(x0 + dx, 1), round(y0 + dy, 1), round(x1 + dx, 1), round(y1 + dy, 1))
                    row[j] = ocr.OcrText(str(cell), cell.conf, cell.page, box, cell.seen, name, cell.chars, cell.crop)
    return read


def page_blocks(read: ocr.OcrPage) -> list[Block]:
    """Text lines (one paragraph each: a picture's text is a title or a note) and tables, by their place."""
    items: list[tuple[float, int, Block]] = [(ln.top, 1, Paragraph(ln.text)) for ln in read.lines]
    items += [(t.top, 0, Table(t.rows)) for t in read.tables]
    items.sort(key=lambda it: (it[0], it[1]))
    return [block for *_, block in items]
