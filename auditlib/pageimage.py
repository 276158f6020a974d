"""A PDF page rendered as an image with a finding's box drawn on it (pypdfium2): the whole
page for the stepper and ``auditlib show``, a small cropped band per page for the sheet.

Boxes are in pdfplumber's coordinates: points from the page's top-left corner,
which is how pdfium renders too, so a box only needs scaling.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOX_COLOUR = (220, 0, 0)
SCALE = 2.0  # 144 dpi: cell text stays readable


def _render(pdf_path: str | os.PathLike[str], page: int, scale: float) -> Any:
    """1-based ``page`` of the PDF as an RGB PIL image at ``scale`` (72 dpi × scale)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        if not 1 <= page <= len(doc):
            raise ValueError(f"PDF 没有第 {page} 页（the PDF has {len(doc)} pages）")
        return doc[page - 1].render(scale=scale).to_pil().convert("RGB")
    finally:
        doc.close()


def render_page(
    pdf_path: str | os.PathLike[str], page: int, bbox: Sequence[float] | None = None, scale: float = SCALE, pad: float = 2.0
) -> bytes:
    """PNG bytes of 1-based ``page`` with ``bbox`` (x0, top, x1, bottom in points) boxed in red."""
    from PIL import ImageDraw

    img = _render(pdf_path, page, scale)
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
    from auditlib.files import atomic_path

    data = render_page(pdf_path, page, bbox)
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return out


# ------------------------------------------------------------------ the sheet's evidence pictures
# The audit sheet shows each PDF page that findings stand on, cropped to the band that holds
# their boxes, as a small PNG file beside the sheet (``evidence/``), never inside the HTML.
EVIDENCE_DIR = "evidence"
EVIDENCE_SCALE = 1.25  # 90 dpi: a table's digits stay legible in a 16-colour PNG
EVIDENCE_MARGIN = 40.0  # points above and below the boxes: the row labels and header in view
EVIDENCE_MAX_PAGES = 12  # per sheet; the rest are named, and `auditlib show` draws any of them


@dataclass(frozen=True)
class EvidencePage:
    source: str
    page: int
    path: str  # relative to the sheet's folder, with "/" (an <img src>)
    numbers: tuple[tuple[int, str], ...]  # (number drawn beside the box, finding id)


def evidence_png(
    pdf_path: str | os.PathLike[str], page: int, boxes: Sequence[Sequence[float]], labels: Sequence[str] = (),
    scale: float = EVIDENCE_SCALE, margin: float = EVIDENCE_MARGIN, colours: int = 16,
) -> bytes:
    """The page's band holding ``boxes`` (each boxed in red, ``labels`` beside them) as a small PNG."""
    from PIL import Image, ImageDraw

    img = _render(pdf_path, page, scale)
    draw = ImageDraw.Draw(img)
    for i, b in enumerate(boxes):
        x0, top, x1, bottom = (float(v) * scale for v in b)
        draw.rectangle([x0 - 3, top - 3, x1 + 3, bottom + 3], outline=BOX_COLOUR, width=2)
        if i < len(labels):
            draw.text((x1 + 5, top - 3), labels[i], fill=BOX_COLOUR)
    tops, bottoms = [float(b[1]) for b in boxes], [float(b[3]) for b in boxes]
    upper = max(0, int((min(tops) - margin) * scale)) if boxes else 0
    lower = min(img.height, int((max(bottoms) + margin) * scale)) if boxes else img.height
    img = img.crop((0, upper, img.width, lower))
    small = img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    buf = io.BytesIO()
    small.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_evidence(
    findings: Iterable[Mapping[str, Any]], out_dir: str | os.PathLike[str], max_pages: int = EVIDENCE_MAX_PAGES
) -> list[EvidencePage]:
    """For the findings that have a page and a box, one cropped picture per page with all
    their boxes, under ``out_dir/evidence/`` (atomic writes; a file already there is the same
    picture, since its name is a hash of what it shows). Pictures no finding needs any more
    are removed. Findings come in the order to show them; pages past ``max_pages`` get none."""
    import hashlib

    from auditlib.files import atomic_path

    by_page: dict[tuple[str, int], list[tuple[str, list[float]]]] = {}
    for f in findings:
        page, bbox = f.get("page"), f.get("bbox")
        if page is None or not isinstance(bbox, list | tuple) or len(bbox) != 4:
            continue
        try:
            key = (str(f.get("source")), int(page))
        except (TypeError, ValueError):  # NaN in a frame
            continue
        if key in by_page or len(by_page) < max_pages:
            by_page.setdefault(key, []).append((str(f.get("id")), [float(v) for v in bbox]))
    folder = Path(out_dir) / EVIDENCE_DIR
    made: list[EvidencePage] = []
    keep: set[str] = set()
    for (source, page), items in by_page.items():
        boxes, numbers = [], []
        for fid, box in items:
            if box not in boxes:
                boxes.append(box)
            numbers.append((boxes.index(box) + 1, fid))
        digest = hashlib.sha1(repr((_file_digest(source), page, boxes, EVIDENCE_SCALE)).encode()).hexdigest()[:16]
        name = f"p{page}-{digest}.png"
        target = folder / name
        if not target.exists():
            try:
                data = evidence_png(source, page, boxes, [str(i + 1) for i in range(len(boxes))])
            except Exception:  # the file moved or changed since the audit: no picture, no sheet lost
                continue
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
        keep.add(name)
        made.append(EvidencePage(source, page, f"{EVIDENCE_DIR}/{name}", tuple(numbers)))
    if folder.is_dir():
        for old in folder.glob("p*-*.png"):
            if old.name not in keep:
                with contextlib.suppress(OSError):
                    old.unlink()
    return made


def _file_digest(path: str) -> str:
    """Size and modification time: a changed PDF gets new pictures."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"
