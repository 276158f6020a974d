"""Scanned reports with known values, for the OCR tests and benchmark.

A report dict (shaped like ``tests/expected/*.json``) fills the official Word
template (:func:`tests.fixtures.make_docx`); LibreOffice prints it to PDF; the
pages are rendered to images and degraded the way real scans are (skew, blur,
JPEG, a red seal over a table, a phone photo's perspective); the images become
an image-only PDF. Every stage is cached under a hash of this generator's code
and the report, so the suite pays for LibreOffice once per machine.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from auditlib.layouts import T3_RESULT_ROWS_2021, TABLE2_2021, TABLE3_2021, TABLE4
from tests.fixtures import make_docx

_HERE = Path(__file__).resolve()
CACHE = Path(os.environ.get("AUDITLIB_SCAN_CACHE", Path(tempfile.gettempdir()) / "auditlib-test-scans"))

NARRATIVE = [
    "本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，主动公开政府信息1200条。",
    "全年共收到政府信息公开申请事项，均在法定期限内答复。",
]

# The ways a page is degraded: (dpi, rotation in degrees, blur radius, JPEG quality, seal, perspective).
VARIANTS: dict[str, dict[str, Any]] = {
    "clean": {"dpi": 200},
    "skew_blur_jpeg": {"dpi": 200, "rotate": 1.8, "blur": 1.0, "jpeg": 35},
    "low_dpi_skew": {"dpi": 150, "rotate": -2.0, "jpeg": 60},
    "seal": {"dpi": 200, "rotate": -0.7, "seal": True, "jpeg": 70},
    "photo": {"dpi": 220, "rotate": 1.2, "perspective": True, "blur": 0.8, "jpeg": 60},
}


def consistent_report(seed: int, agency: str = "测试市扫描局") -> dict[str, Any]:
    """A 2021-format report whose 表三 and 表四 satisfy every identity, numbers of 1–4 digits."""
    rng = random.Random(seed)
    cols = [c.key for c in TABLE3_2021.columns if c.key != "total"]

    def n(big: bool = False) -> int:
        r = rng.random()
        if r < 0.3:
            return 0
        if r < 0.7 or not big:
            return rng.randint(1, 9 if not big else 60)
        return rng.randint(10, 999 if big else 99)

    t3: dict[str, dict[str, int]] = {}
    for row in TABLE3_2021.rows:
        if row.key in ("total_handled", "carried_forward", "new_received"):
            continue
        t3[row.key] = {c: n(big=row.key in ("granted", "carried_over")) for c in cols}
    t3["total_handled"] = {c: sum(t3[r][c] for r in T3_RESULT_ROWS_2021) for c in cols}
    t3["carried_forward"] = {c: rng.randint(0, 12) for c in cols}
    t3["new_received"] = {
        c: max(0, t3["total_handled"][c] + t3["carried_forward"][c] - t3["carried_over"][c]) for c in cols
    }
    # carried_over may exceed what was handled: keep the balance exact.
    for c in cols:
        t3["carried_over"][c] = t3["total_handled"][c] + t3["carried_forward"][c] - t3["new_received"][c]
    for row in t3.values():
        row["total"] = sum(row[c] for c in cols)
    t4 = {}
    for row in TABLE4.rows:
        parts = {c.key: n() for c in row.columns if c.key != "total"}
        t4[row.key] = {**parts, "total": sum(parts.values())}
    t2 = {
        r.key: {c.key: (round(rng.uniform(0, 90), 2) if c.key == "amount" else rng.randint(0, 300)) for c in r.columns}
        for r in TABLE2_2021.rows
    }
    return {
        "agency": agency,
        "year": 2023,
        "format": "2021",
        "signed_on": "2024-01-20",
        "published_on": None,
        "sections": ["一", "二", "三", "四", "五", "六"],
        "table2": t2,
        "table3": t3,
        "table4": t4,
    }


def _generator_hash(*parts: Any) -> str:
    h = hashlib.sha256(_HERE.read_bytes())
    h.update((_HERE.parent / "fixtures.py").read_bytes())
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def text_pdf(report: Mapping[str, Any]) -> Path:
    """The report as LibreOffice prints it: a PDF with a text layer (cached)."""
    key = _generator_hash("pdf", report)
    out = CACHE / f"{key}.pdf"
    if out.exists():
        return out
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise RuntimeError("LibreOffice (soffice) is needed to make the test scans")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        src = make_docx(report, NARRATIVE, Path(d) / "report.docx")
        subprocess.run(
            [office, "--headless", "--convert-to", "pdf", "--outdir", d, str(src)],
            capture_output=True,
            timeout=180,
            check=True,
            env={"HOME": d, "PATH": "/usr/bin:/bin"},
        )
        tmp = out.with_suffix(".tmp")
        shutil.copyfile(Path(d) / "report.pdf", tmp)
        tmp.replace(out)
    return out


def render(pdf: Path, dpi: int) -> list[Image.Image]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in doc]
    finally:
        doc.close()


def _seal(img: Image.Image, rng: random.Random) -> Image.Image:
    """A red official seal: ring, star and an arc of text, inked over the page (multiplied, as ink is)."""
    w, h = img.size
    r = int(w * 0.13)
    layer = Image.new("RGB", img.size, (255, 255, 255))
    d = ImageDraw.Draw(layer)
    cx, cy = int(w * rng.uniform(0.55, 0.7)), int(h * rng.uniform(0.3, 0.6))
    red = (215, 40, 45)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=max(4, r // 14))
    star = [
        (cx + 0.35 * r * np.cos(np.pi / 2 + k * 4 * np.pi / 5), cy - 0.35 * r * np.sin(np.pi / 2 + k * 4 * np.pi / 5))
        for k in range(5)
    ]
    d.polygon(star, fill=red)
    font_path = next((p for p in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",) if Path(p).exists()), None)
    font = ImageFont.truetype(font_path, r // 4) if font_path else ImageFont.load_default()
    for k, ch in enumerate("测试市扫描局公章"):
        a = np.pi * (0.85 - k * 0.1)
        d.text((cx + 0.72 * r * np.cos(a) - r // 8, cy - 0.72 * r * np.sin(a) - r // 8), ch, fill=red, font=font)
    return ImageChops.multiply(img, layer)


def _perspective(img: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo: the page seen a little from one side (one edge shorter than the other)."""
    w, h = img.size
    dx, dy = w * rng.uniform(0.03, 0.05), h * rng.uniform(0.01, 0.02)
    # Corners of the output image, taken from these points of the page.
    quad = (-dx, -dy, -dx * 0.2, h + dy * 0.5, w + dx * 0.2, h + dy * 0.5, w + dx, -dy)
    out = img.transform(
        (w, h), Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC, fillcolor=(235, 232, 225)
    )
    return out


def degrade(img: Image.Image, variant: Mapping[str, Any], seed: int) -> Image.Image:
    rng = random.Random(seed)
    if variant.get("seal"):
        img = _seal(img, rng)
    if variant.get("perspective"):
        img = _perspective(img, rng)
    if variant.get("rotate"):
        img = img.rotate(variant["rotate"], resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(245, 245, 240))
    if variant.get("blur"):
        img = img.filter(ImageFilter.GaussianBlur(variant["blur"]))
    if variant.get("jpeg"):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=variant["jpeg"])
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def scanned_pdf(report: Mapping[str, Any], variant: str, keep_text_pages: tuple[int, ...] = ()) -> Path:
    """An image-only PDF of the report, pages degraded as ``VARIANTS[variant]`` says (cached).

    ``keep_text_pages`` (1-based) keeps those pages as they were printed, text layer and all:
    a mixed document, typed pages with scanned tables.
    """
    spec = VARIANTS[variant]
    key = _generator_hash("scan", report, variant, spec, list(keep_text_pages))
    out = CACHE / f"{key}-{variant}.pdf"
    if out.exists():
        return out
    src = text_pdf(report)
    images = render(src, spec["dpi"])
    pages = [degrade(img, spec, seed=i) for i, img in enumerate(images)]
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    if keep_text_pages:
        _mixed_pdf(src, pages, spec["dpi"], keep_text_pages, tmp)
    else:
        pages[0].save(tmp, "PDF", resolution=spec["dpi"], save_all=True, append_images=pages[1:])
    tmp.replace(out)
    return out


def _mixed_pdf(src: Path, pages: list[Image.Image], dpi: int, keep: tuple[int, ...], out: Path) -> None:
    import pypdfium2 as pdfium

    text = pdfium.PdfDocument(str(src))
    result = pdfium.PdfDocument.new()
    try:
        for i, img in enumerate(pages, start=1):
            if i in keep:
                result.import_pages(text, [i - 1])
                continue
            buf = io.BytesIO()
            img.save(buf, "PDF", resolution=dpi)
            one = pdfium.PdfDocument(buf.getvalue())
            result.import_pages(one)
            one.close()
        result.save(str(out))
    finally:
        text.close()
        result.close()
