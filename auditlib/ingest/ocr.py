"""Scanned pages: text and ruled tables read from a page image by OCR.

The recogniser is PP-OCRv4 as shipped inside the ``rapidocr-onnxruntime`` wheel
(models in the package, nothing fetched at run time); benchmarks/bench_ocr.py
measured it against Debian's tesseract on the test scans.

Tables are found by their rules, not by the text: the ruling lines are picked
out of the image with morphology, each table's outline is warped back to a
rectangle (which undoes a scan's skew and a phone photo's perspective at once),
and the cells are the regions the lines enclose. Each cell is read on its own,
so a number can never slide into the next column. A red seal is dropped before
anything is read by working on the red channel, in which red ink is as light as
the paper.

Every cell's text is an :class:`OcrText`: a ``str`` that remembers how sure the
recogniser was and where on the page it stood, so that :mod:`auditlib.verify`
can decide, after the table has been parsed like any other, which numbers the
table's own arithmetic confirms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

# Rendering resolution for a scanned page: enough for 9 pt digits, cheap enough for 2 cores.
DPI = 200
# Running text read by OCR below this confidence (0–1, the recogniser's mean
# character probability) is not given to the parser: on the test scans every
# line read wrongly scored below it (benchmarks/bench_ocr.py prints the figures).
NARRATIVE_MIN_CONF = 0.95


class OcrText(str):
    """A cell's text as OCR read it, with its confidence and place (page, PDF points)."""

    conf: float
    page: int
    bbox: tuple[float, float, float, float]
    seen: str  # what the recogniser returned, when the text stands in for it (see _unreadable)
    image: str  # the picture it was read from, in a document that is not all scans ("" on a scanned page)
    chars: tuple[float, ...]  # the recogniser's confidence in each character of the text (empty: not known)
    crop: bytes  # the cell as read, a small grey PNG (numbers only; empty for labels)

    def __new__(
        cls,
        text: str,
        conf: float,
        page: int,
        bbox: tuple[float, float, float, float],
        seen: str | None = None,
        image: str = "",
        chars: tuple[float, ...] = (),
        crop: bytes = b"",
    ) -> OcrText:
        obj = super().__new__(cls, text)
        obj.conf = conf
        obj.page = page
        obj.bbox = bbox
        obj.seen = text if seen is None else seen
        obj.image = image
        obj.chars = chars if len(chars) == len(text) else ()
        obj.crop = crop
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            OcrText,
            (str(self), self.conf, self.page, self.bbox, self.seen, self.image, self.chars, self.crop),
        )


@dataclass
class OcrLine:
    text: str
    conf: float
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass
class OcrTable:
    rows: list[list[str | None]]
    top: float
    bottom: float


@dataclass
class OcrPage:
    number: int
    width: float  # PDF points
    height: float
    lines: list[OcrLine] = field(default_factory=list)
    tables: list[OcrTable] = field(default_factory=list)
    dropped_lines: int = 0  # running text below NARRATIVE_MIN_CONF


def available() -> bool:
    try:
        import cv2  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    # Detection (running text only) on the page scaled to 1280 px: text lines stay
    # 15+ px high and it is 3x cheaper; recognition still reads the full-size crops.
    # One thread per session: on a shared 2-core machine it measured faster than two.
    engine = RapidOCR(
        print_verbose=False,
        det_limit_side_len=1280,
        det_limit_type="max",
        rec_batch_num=6,
        intra_op_num_threads=1,
        inter_op_num_threads=1,
    )
    # The model takes any width; the default pads every crop to 320 px, which for a
    # table of one- and two-digit cells is ten times the work (3x slower measured).
    engine.text_rec.rec_image_shape = [3, 48, 48]
    # In "max" mode rapidocr 1.4 ignores det_limit_side_len and picks 2000 px for any page
    # over 1500 px: at 200 dpi that detection alone took ~550 MB, pushing a 4-page scan past
    # the per-file 1 GB budget. Hold it to the 1280 px asked for above (~3x less).
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    det = engine.text_det
    det.get_preprocess = lambda _max_wh: DetPreProcess(det.limit_side_len, "max", det.mean, det.std)
    return engine


def recognise(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """Text and confidence of each single-line crop (grey or colour), in one batched pass."""
    return [(t, s) for t, s, _ in recognise_chars(crops)]


Reading = tuple[str, float, tuple[float, ...]]  # text, mean confidence, confidence of each character


def recognise_chars(crops: list[np.ndarray]) -> list[Reading]:
    """As :func:`recognise`, with the confidence of each character where the recogniser gives it.

    rapidocr's CTC decoder keeps each kept character's probability and returns the list
    with ``return_word_box=True`` (the fifth item of the word info); older releases
    without the option give the text's mean only.
    """
    import cv2

    if not crops:
        return []
    bgr = [cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) if c.ndim == 2 else c for c in crops]
    try:
        results, _ = _engine().text_rec(bgr, return_word_box=True)
    except TypeError:
        results, _ = _engine().text_rec(bgr)
    out: list[Reading] = []
    for res in results:
        text, score = str(res[0]), float(res[1])
        chars: tuple[float, ...] = ()
        if len(res) > 2 and len(res[2]) > 4 and len(res[2][4]) == len(text):
            chars = tuple(round(float(c), 3) for c in res[2][4])
        out.append((text, score, chars))
    return out


# ------------------------------------------------------------------ page


def has_table(rgb: np.ndarray, dpi: int = DPI) -> bool:
    """Whether the image holds a ruled table: the cheap look that decides if OCR is worth it."""
    return bool(_table_outlines(_ink_channel(rgb), dpi))


def read_page(rgb: np.ndarray, number: int, dpi: int = DPI) -> OcrPage:
    """Read one page image (RGB array): its ruled tables cell by cell, the rest as text lines."""
    import cv2

    scale = dpi / 72.0
    h, w = rgb.shape[:2]
    page = OcrPage(number, w / scale, h / scale)
    grey = _ink_channel(rgb)
    outlines = _table_outlines(grey, dpi)
    masked = rgb.copy()
    for quad in outlines:
        table = _read_table(grey, quad, number, scale, dpi)
        if table is not None:
            page.tables.append(table)
            cv2.fillPoly(masked, [quad.astype(np.int32)], (255, 255, 255))
    _read_text(masked, page, scale)
    return page


def _ink_channel(rgb: np.ndarray) -> np.ndarray:
    """Grey image in which red seals vanish.

    The red channel, where red ink is light and black stays black; and pixels
    clearly redder than they are green or blue (the seal's own strokes, which
    the red channel still shows a little darker than paper) set to paper white.
    Black text under a seal stays black: ink on ink is not red.
    """
    r = rgb[:, :, 0].astype(np.int16)
    redness = r - np.maximum(rgb[:, :, 1], rgb[:, :, 2]).astype(np.int16)
    grey = rgb[:, :, 0].copy()
    grey[(redness > 50) & (r > 140)] = 255
    return np.ascontiguousarray(grey)


def _binary(grey: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)


def _rules(ink: np.ndarray, dpi: int, skewed: bool) -> np.ndarray:
    """The ruling lines: long thin runs of ink, longer than any character's stroke."""
    import cv2

    hk = int(dpi * 0.30)
    vk = int(dpi * 0.16)
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (hk, 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, vk)))
    # Blur and JPEG leave gaps in a line; close them along the line only.
    gap = 3 if skewed else int(dpi * 0.06)
    horiz = cv2.dilate(horiz, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 3 if skewed else 1)))
    vert = cv2.dilate(vert, cv2.getStructuringElement(cv2.MORPH_RECT, (3 if skewed else 1, gap)))
    return cv2.bitwise_or(horiz, vert)


def _table_outlines(grey: np.ndarray, dpi: int) -> list[np.ndarray]:
    """Each ruled table's outline as four corners (tl, tr, br, bl), top to bottom."""
    import cv2

    w = grey.shape[1]
    lines = _rules(_binary(grey), dpi, skewed=True)
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for cnt in contours:
        _x, _y, cw, ch = cv2.boundingRect(cnt)
        if cw < 0.3 * w or ch < dpi * 0.25:
            continue
        peri = cv2.arcLength(cnt, True)
        approx = cv2.approxPolyDP(cnt, 0.02 * peri, True)
        pts = approx.reshape(-1, 2).astype(np.float32) if len(approx) == 4 else cv2.boxPoints(cv2.minAreaRect(cnt))
        out.append(_order(np.asarray(pts, dtype=np.float32)))
    out.sort(key=lambda q: float(q[:, 1].min()))
    return out


def _order(pts: np.ndarray) -> np.ndarray:
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], dtype=np.float32)


# ------------------------------------------------------------------ tables


@dataclass
class _Cell:
    x0: int
    y0: int
    x1: int
    y1: int
    r0: int = 0
    r1: int = 0
    c0: int = 0
    c1: int = 0


def _read_table(grey: np.ndarray, quad: np.ndarray, number: int, scale: float, dpi: int) -> OcrTable | None:
    import cv2

    tl, tr, br, bl = quad
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    pad = 6
    dst = np.array([[pad, pad], [pad + width, pad], [pad + width, pad + height], [pad, pad + height]], np.float32)
    m = cv2.getPerspectiveTransform(quad, dst)
    flat = cv2.warpPerspective(grey, m, (width + 2 * pad, height + 2 * pad), flags=cv2.INTER_CUBIC, borderValue=255)
    ink = _binary(flat)
    lines = _rules(ink, dpi, skewed=False)
    cells = _cells(lines)
    if len(cells) < 4:
        return None
    if not _grid(cells):
        return None
    back = np.linalg.inv(m)
    crops: list[np.ndarray] = []
    owners: list[int] = []
    for k, cell in enumerate(cells):
        for crop in _text_lines(flat, ink, lines, cell):
            crops.append(crop)
            owners.append(k)
    texts = _read_cells(crops, owners)
    # Second look at cells that read as stray marks: the same crop as pure black and white,
    # which drops the grey left by a seal or by JPEG. The table's arithmetic still decides.
    again = [k for k in texts if _unreadable(_tidy_number(_joined(texts[k])))]
    if again:
        binary = cv2.bitwise_not(ink)
        crops, owners = [], []
        for k in again:
            for crop in _text_lines(binary, ink, lines, cells[k]):
                crops.append(crop)
                owners.append(k)
        for k, parts in _read_cells(crops, owners).items():
            if not _unreadable(_tidy_number(_joined(parts))):
                texts[k] = [(f"{_joined(texts[k])}", 0.0, ()), *parts]
    nrows = max(c.r1 for c in cells)
    ncols = max(c.c1 for c in cells)
    grid: list[list[str | None]] = [[""] * ncols for _ in range(nrows)]
    for k, cell in enumerate(cells):
        for r in range(cell.r0, cell.r1):
            for c in range(cell.c0, cell.c1):
                grid[r][c] = None
        parts = texts.get(k, [])
        seen = _joined(parts)
        if parts and parts[0][1] == 0.0:  # read twice: the first reading is kept only as what was seen
            seen = f"{parts[0][0]}（复读：{_joined(parts[1:])}）"
            parts = parts[1:]
        text = _tidy_number(_joined(parts))
        conf = min((s for _, s, _ in parts), default=1.0)
        crop = b""
        if _unreadable(text):
            text = UNREADABLE
        if text == UNREADABLE or text.replace(".", "", 1).isdigit():
            crop = _cell_png(flat, ink, lines, cell)
        chars = _number_chars(parts, text)
        grid[cell.r0][cell.c0] = OcrText(text, conf, number, _page_box(back, cell, scale), seen, "", chars, crop)
    ys = [_page_box(back, c, scale) for c in cells]
    return OcrTable(grid, min(b[1] for b in ys), max(b[3] for b in ys))


def _read_cells(crops: list[np.ndarray], owners: list[int]) -> dict[int, list[Reading]]:
    texts: dict[int, list[Reading]] = {}
    for k, reading in zip(owners, recognise_chars(crops), strict=True):
        # A speck taken for a line of text reads as nothing: it says nothing about the cell.
        if reading[0].strip():
            texts.setdefault(k, []).append(reading)
    return texts


def _joined(parts: list[Reading]) -> str:
    return "".join(p[0] for p in parts)


def _number_chars(parts: list[Reading], text: str) -> tuple[float, ...]:
    """The confidence of each character of ``text``, the number :func:`_tidy_number` made of the parts."""
    joined = _joined(parts)
    chars = tuple(c for p in parts for c in p[2])
    if len(chars) != len(joined) or _tidy_number(joined) != text:
        return ()
    start = len(joined) - len(joined.lstrip(_EDGE_SPECKS))
    return chars[start : start + len(text)] if joined[start : start + len(text)].translate(_LOOKALIKE) == text else ()


# A cell's picture for the finding: tall enough to read the digits, small enough to carry in JSON.
_CROP_HEIGHT = 32


def _cell_png(flat: np.ndarray, ink: np.ndarray, lines: np.ndarray, cell: _Cell) -> bytes:
    """The cell as read: cut to its ink (a wide cell is mostly paper), 16 grey levels, PNG."""
    import cv2

    box = flat[cell.y0 : cell.y1, cell.x0 : cell.x1]
    if box.size == 0:
        return b""
    marks = (ink[cell.y0 : cell.y1, cell.x0 : cell.x1] > 0) & (lines[cell.y0 : cell.y1, cell.x0 : cell.x1] == 0)
    cols = np.flatnonzero(marks.any(axis=0))
    if len(cols):
        pad = 8
        box = box[:, max(0, cols[0] - pad) : cols[-1] + 1 + pad]
    h, w = box.shape[:2]
    if h > _CROP_HEIGHT:
        box = cv2.resize(box, (max(1, round(w * _CROP_HEIGHT / h)), _CROP_HEIGHT), interpolation=cv2.INTER_AREA)
    box = (box // 16) * 17  # 16 levels: the digits stay clear, JPEG noise stops costing bytes
    ok, png = cv2.imencode(".png", box, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return png.tobytes() if ok else b""


# Specks the recogniser reads next to a number (a seal's remnant, a line's stub), and
# letters it reads for digits. Only cells that become a plain number are touched; a
# wrong guess here cannot become a value, since the table's arithmetic must confirm it.
_EDGE_SPECKS = ".:;,'`\"·_ "  # not a sign: 2019's 表二 writes changes as -3
_LOOKALIKE = str.maketrans("OoDQIl|", "0000111")


def _tidy_number(text: str) -> str:
    core = text.strip(_EDGE_SPECKS)
    if any(ch.isdigit() for ch in core):
        fixed = core.translate(_LOOKALIKE)
        if fixed.isdigit() or (fixed.count(".") == 1 and fixed.replace(".", "").isdigit()):
            return fixed
    return text


# What a few stray marks read as (o' 1: ]) stand in a value's place: the parser must
# keep the cell in its column, as it does for a dash, not end the row there.
UNREADABLE = "…"


def _unreadable(text: str) -> bool:
    core = text.strip()
    if not core or len(core) > 4 or any(ch >= "\u2e80" for ch in core):
        return False
    return not core.replace(".", "", 1).isdigit()


def _page_box(back: np.ndarray, cell: _Cell, scale: float) -> tuple[float, float, float, float]:
    import cv2

    corners = np.array([[[cell.x0, cell.y0], [cell.x1, cell.y0], [cell.x1, cell.y1], [cell.x0, cell.y1]]], np.float32)
    pts = cv2.perspectiveTransform(corners, back)[0] / scale
    return (
        round(float(pts[:, 0].min()), 1),
        round(float(pts[:, 1].min()), 1),
        round(float(pts[:, 0].max()), 1),
        round(float(pts[:, 1].max()), 1),
    )


def _cells(lines: np.ndarray) -> list[_Cell]:
    """The regions the ruling lines enclose."""
    import cv2

    free = cv2.bitwise_not(lines)
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
    h, w = lines.shape
    out = []
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        if x == 0 or y == 0 or x + cw >= w or y + ch >= h:
            continue  # the outside of the table
        if cw < 8 or ch < 8 or area < 0.5 * cw * ch:
            continue
        out.append(_Cell(int(x), int(y), int(x + cw), int(y + ch)))
    return out


def _cluster(values: list[int], tol: int) -> list[float]:
    values = sorted(values)
    groups: list[list[int]] = []
    for v in values:
        if groups and v - groups[-1][-1] <= tol:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [sum(g) / len(g) for g in groups]


def _nearest(lines: list[float], v: float) -> int:
    return min(range(len(lines)), key=lambda i: abs(lines[i] - v))


def _grid(cells: list[_Cell]) -> bool:
    """Number each cell's rows and columns from the clustered cell edges.

    A ruling line has a cell edge on each side, a few pixels apart; rows are far
    taller than a line is thick, so the two sides fall into one cluster.
    """
    tol = 12
    ys = _cluster([c.y0 for c in cells] + [c.y1 for c in cells], tol)
    xs = _cluster([c.x0 for c in cells] + [c.x1 for c in cells], tol)
    if len(ys) < 2 or len(xs) < 2:
        return False
    for c in cells:
        c.r0, c.r1 = _nearest(ys, c.y0), _nearest(ys, c.y1)
        c.c0, c.c1 = _nearest(xs, c.x0), _nearest(xs, c.x1)
        if c.r1 <= c.r0 or c.c1 <= c.c0:
            return False
    cells.sort(key=lambda c: (c.r0, c.c0))
    return True


def _text_lines(flat: np.ndarray, ink: np.ndarray, lines: np.ndarray, cell: _Cell) -> list[np.ndarray]:
    """The cell's text as single-line crops (a label may wrap over several lines)."""
    inset = 2
    y0, y1, x0, x1 = cell.y0 + inset, cell.y1 - inset, cell.x0 + inset, cell.x1 - inset
    if y1 - y0 < 6 or x1 - x0 < 6:
        return []
    box = ink[y0:y1, x0:x1].copy()
    box[lines[y0:y1, x0:x1] > 0] = 0
    # Text is dark; what a seal or JPEG leaves is faint grey. Only dark ink sets the crop's extent.
    box[flat[y0:y1, x0:x1] >= 150] = 0
    rows = np.flatnonzero(box.sum(axis=1) > 255 * 1)
    cols = np.flatnonzero(box.sum(axis=0) > 255 * 1)
    if len(rows) < 4 or len(cols) < 2 or box.sum() < 255 * 12:
        return []  # a blank cell (specks of JPEG noise at most)
    out = []
    run = [rows[0]]
    for r in rows[1:]:
        if r - run[-1] > 2:
            out.append((run[0], run[-1]))
            run = [r]
        else:
            run.append(r)
    out.append((run[0], run[-1]))
    crops = []
    for a, b in out:
        if b - a < 4:
            continue  # a speck or a stub of a line, not text
        seg = box[a : b + 1]
        c = np.flatnonzero(seg.sum(axis=0) > 0)
        pad = 4
        ya, yb = max(0, y0 + a - pad), min(flat.shape[0], y0 + b + 1 + pad)
        xa, xb = max(0, x0 + c[0] - pad), min(flat.shape[1], x0 + c[-1] + 1 + pad)
        crop = flat[ya:yb, xa:xb].copy()
        crop[lines[ya:yb, xa:xb] > 0] = 255
        crops.append(crop)
    return crops


# ------------------------------------------------------------------ running text


def _read_text(rgb: np.ndarray, page: OcrPage, scale: float) -> None:
    import cv2

    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    result, _ = _engine()(bgr, use_cls=False)
    for box, text, score in result or []:
        pts = np.asarray(box, dtype=np.float32) / scale
        line = OcrLine(
            str(text),
            float(score),
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )
        if line.conf >= NARRATIVE_MIN_CONF:
            page.lines.append(line)
        else:
            page.dropped_lines += 1
    page.lines.sort(key=lambda ln: (round(ln.top / 4), ln.x0))


def render_region(data: bytes, number: int, bbox: tuple[float, float, float, float], dpi: int = DPI) -> np.ndarray:
    """A rectangle (x0, top, x1, bottom in PDF points) of one page (1-based) as an RGB array."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        page = doc[number - 1]
        try:
            w, h = page.get_size()
            x0, top, x1, bottom = bbox
            crop = (max(0.0, x0), max(0.0, h - bottom), max(0.0, w - x1), max(0.0, top))
            return np.asarray(page.render(scale=dpi / 72, crop=crop).to_pil().convert("RGB"))
        finally:
            page.close()
    finally:
        doc.close()


def render_pages(data: bytes, numbers: list[int], dpi: int = DPI) -> list[tuple[int, np.ndarray]]:
    """The given pages (1-based) of a PDF as RGB arrays."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        out = []
        for n in numbers:
            page = doc[n - 1]
            try:
                out.append((n, np.asarray(page.render(scale=dpi / 72).to_pil().convert("RGB"))))
            finally:
                page.close()
        return out
    finally:
        doc.close()
