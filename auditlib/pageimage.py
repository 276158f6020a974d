"""A PDF page rendered as an image with a finding's box drawn on it (pypdfium2).

Boxes are in pdfplumber's coordinates: points from the page's top-left corner,
which is how pdfium renders too, so a box only needs scaling.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

BOX_COLOUR = (220, 0, 0)
SCALE = 2.0  # 144 dpi: cell text stays readable


def render_page(
    pdf_path: str | os.PathLike[str], page: int, bbox: Sequence[float] | None = None, scale: float = SCALE, pad: float = 2.0
) -> bytes:
    """PNG bytes of 1-based ``page`` with ``bbox`` (x0, top, x1, bottom in points) boxed in red."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        if not 1 <= page <= len(doc):
            raise ValueError(f"PDF 没有第 {page} 页（the PDF has {len(doc)} pages）")
        img = doc[page - 1].render(scale=scale).to_pil().convert("RGB")
    finally:
        doc.close()
    if bbox is not None:
        x0, top, x1, bottom = (float(v) for v in bbox)
        width = max(2, round(scale * 1.5))
        box = [(x0 - pad) * scale, (top - pad) * scale, (x1 + pad) * scale, (bottom + pad) * scale]
        ImageDraw.Draw(img).rectangle(box, outline=BOX_COLOUR, width=width)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_page_image(
    pdf_path: str | os.PathLike[str], page: int, bbox: Sequence[float] | None, out: str | os.PathLike[str]
) -> Path:
    """Write the boxed page as a PNG at ``out`` (atomically)."""
    from auditlib.excel import atomic_path

    data = render_page(pdf_path, page, bbox)
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return out
