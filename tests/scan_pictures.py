"""Reports whose 表三 and 表四 are pictures, for the OCR tests and benchmark.

The tables are printed from the official Word template with known numbers
(:mod:`tests.scans`), cut out as pictures, degraded like a scan, and pasted
back where the tables stood: a .docx, and what LibreOffice makes of it (a PDF
with a text layer, an HTML page). Cached like the scans, under a hash of both
generators' code and the report.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.fixtures import make_docx
from tests.scans import CACHE, NARRATIVE, _generator_hash, degrade

_HERE = Path(__file__).resolve()


def _key(*parts: Any) -> str:
    h = hashlib.sha256(_HERE.read_bytes())
    h.update(_generator_hash(*parts).encode())
    return h.hexdigest()[:16]


# How a pasted table picture is degraded: a scan of the signed table, saved as JPEG.
PICTURE_VARIANT: dict[str, Any] = {"dpi": 200, "jpeg": 75}
# A page tall enough for 表三 to stand on it whole (Word allows 55.87 cm).
_TALL_PAGE_CM = 55


def _soffice(src: Path, fmt: str, outdir: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise RuntimeError("LibreOffice (soffice) is needed to make the test documents")
    with tempfile.TemporaryDirectory() as home:
        subprocess.run(
            [office, "--headless", "--convert-to", fmt, "--outdir", str(outdir), str(src)],
            capture_output=True,
            timeout=180,
            check=True,
            env={"HOME": home, "PATH": "/usr/bin:/bin"},
        )


def table_pictures(report: Mapping[str, Any]) -> list[tuple[Path, float]]:
    """表三 and 表四 as the report prints them, each one picture (PNG) and its printed width in points (cached).

    The report from 表三 on is printed on one tall page so that neither table breaks; each table's box is
    cut out at ``PICTURE_VARIANT``'s resolution and degraded like a scan.
    """
    import docx
    import pdfplumber
    import pypdfium2 as pdfium
    from docx.shared import Cm

    key = _key("pictures", report, PICTURE_VARIANT)
    outs = [CACHE / f"{key}-table{n}.png" for n in (3, 4)]
    widths = CACHE / f"{key}-widths.json"
    if not (all(p.exists() for p in outs) and widths.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as d:
            src = make_docx(report, NARRATIVE, Path(d) / "tall.docx")
            document = docx.Document(str(src))
            for section in document.sections:
                section.page_height = Cm(_TALL_PAGE_CM)
            # What stands before 表三 only pushes it toward the page's foot.
            t3 = document.tables[1]._tbl
            for el in list(t3.itersiblings(preceding=True)):
                el.getparent().remove(el)
            document.save(str(src))
            _soffice(src, "pdf", Path(d))
            pdf_path = Path(d) / "tall.pdf"
            with pdfplumber.open(pdf_path) as pdf:
                found = [(i, t.bbox, len(t.rows)) for i, p in enumerate(pdf.pages) for t in p.find_tables()]
            # 表三 is the long one (20+ rows); 表四 the next table after it.
            k = next(k for k, f in enumerate(found) if f[2] >= 20)
            boxes = [found[k][1], found[k + 1][1]]
            doc = pdfium.PdfDocument(str(pdf_path))
            try:
                dpi = PICTURE_VARIANT["dpi"]
                for n, (i, (x0, top, x1, bottom), _), out in zip((3, 4), found[k : k + 2], outs, strict=True):
                    page = doc[i]
                    w, h = page.get_size()
                    m = 3  # keep the outer rules whole
                    crop = (x0 - m, h - bottom - m, w - x1 - m, top - m)
                    img = page.render(scale=dpi / 72, crop=crop).to_pil().convert("RGB")
                    page.close()
                    img = degrade(img, PICTURE_VARIANT, seed=n)
                    tmp = out.with_suffix(".tmp")
                    img.save(tmp, "PNG")
                    tmp.replace(out)
            finally:
                doc.close()
            sizes = [b[2] - b[0] + 6 for b in boxes]
            widths.write_text(json.dumps(sizes))
    return list(zip(outs, json.loads(widths.read_text()), strict=True))


def picture_docx(report: Mapping[str, Any], path: Path) -> Path:
    """The report from the Word template with 表三 and 表四 replaced by pictures of themselves."""
    import docx
    from docx.shared import Pt

    src = make_docx(report, NARRATIVE, path)
    document = docx.Document(str(src))
    t3, t4 = document.tables[1:3]
    for table, (png, width) in zip((t3, t4), table_pictures(report), strict=True):
        holder = document.add_paragraph()
        holder.add_run().add_picture(str(png), width=Pt(width))
        table._tbl.addprevious(holder._p)  # moves the new paragraph to the table's place
        table._tbl.getparent().remove(table._tbl)
    document.save(str(path))
    return path


def picture_documents(report: Mapping[str, Any]) -> dict[str, Path]:
    """One report with its 表三 and 表四 as pictures (cached): a .docx, an HTML page with the pictures
    as files beside it, the same page with them as data: URIs, and a PDF with a text layer (LibreOffice)."""
    import base64
    import re

    key = _key("picture-documents", report, PICTURE_VARIANT)
    folder = CACHE / f"{key}-pictures"
    out = {
        "docx": folder / "report.docx",
        "pdf": folder / "report.pdf",
        "html": folder / "web" / "report.html",
        "html_data_uri": folder / "inline.html",
    }
    if folder.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as d:
        work = Path(d) / "docs"
        (work / "web").mkdir(parents=True)
        src = picture_docx(report, work / "report.docx")
        _soffice(src, "pdf", work)
        _soffice(src, "html", work / "web")
        page = (work / "web" / "report.html").read_text(encoding="utf-8", errors="replace")

        def inline(m: re.Match[str]) -> str:
            data = base64.b64encode((work / "web" / m.group(2)).read_bytes()).decode()
            return f'{m.group(1)}data:image/png;base64,{data}"'

        (work / "inline.html").write_text(re.sub(r'(<img[^>]*?src=")([^":]+)"', inline, page), encoding="utf-8")
        work.replace(folder)
    return out
