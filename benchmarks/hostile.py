"""A hostile corpus, generated: each case small on disk, built to cost a naive reader
minutes and gigabytes. Used by tests/test_budget.py and benchmarks/bench_hostile.py."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

_HEAD = "XX市人民政府办公室2023年政府信息公开工作年度报告\n一、总体情况\n"


def zip_bomb_docx(runs: int = 3_000_000) -> bytes:
    """A .docx whose document.xml inflates from ~200 KB to 100 MB of one paragraph's runs."""
    body = b"<w:r><w:t>\xe5\x90\x8c</w:t></w:r>" * runs
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>'
        + body
        + b"</w:p></w:body></w:document>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr("word/document.xml", xml)
    return buf.getvalue()


def grid_bomb_docx() -> bytes:
    """A small .docx whose table's cells each claim to be a billion columns wide (2,000 rows of them)."""
    data = zip_bomb_docx()
    src = zipfile.ZipFile(io.BytesIO(data))
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        b"<w:p><w:r><w:t>\xe6\x94\xbf\xe5\xba\x9c\xe4\xbf\xa1\xe6\x81\xaf\xe5\x85\xac\xe5\xbc\x80</w:t></w:r></w:p><w:tbl>"
        + (b"<w:tr>" + b'<w:tc><w:tcPr><w:gridSpan w:val="1000000000"/></w:tcPr><w:p/></w:tc>' * 5 + b"</w:tr>") * 2000
        + b"</w:tbl></w:body></w:document>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("[Content_Types].xml", "_rels/.rels"):
            z.writestr(name, src.read(name))
        z.writestr("word/document.xml", xml)
    return buf.getvalue()


def span_bomb_html() -> bytes:
    """18 KB of ``rowspan=1000 colspan=1000`` cells: a billion grid positions laid out naively."""
    cells = '<td rowspan="1000" colspan="1000">1</td>' * 40
    rows = f"<tr>{cells}</tr>" * 12
    return (
        '<html><head><meta charset="utf-8"></head><body><p>政府信息公开工作年度报告</p>'
        f"<table>{rows}</table></body></html>"
    ).encode()


def many_pages_pdf(pages: int = 400) -> bytes:
    """A PDF of ``pages`` pages sharing one content stream: tiny on disk, long to lay out."""
    stream = b"BT /F1 12 Tf 72 720 Td (2023 report page) Tj ET\n" * 40
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (5 + i) for i in range(pages)) + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
    ]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 3 0 R >> >> >>"] * pages
    return _pdf(objs)


def stream_bomb_pdf() -> bytes:
    """One page whose content stream inflates from ~1 MB to ~1 GB of drawing operators."""
    raw_chunk = b"0 0 m 1 1 l S\n" * 7000  # ~100 KB
    comp = zlib.compressobj(9)
    parts = [comp.compress(raw_chunk) for _ in range(10_000)]  # ~1 GB inflated
    data = b"".join(parts) + comp.flush()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    return _pdf(objs)


def _pdf(objs: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def endless_sentence_txt(size: int = 600_000) -> bytes:
    """One 'sentence' of repeated 同比增长1%较上年度下降: quadratic for a reader that steps back."""
    unit = "同比增长1%较上年度下降"
    return (_HEAD + "本年度收到政府信息公开申请" + unit * (size // len(unit.encode())) + "。\n").encode()


def claim_flood_txt(size: int = 600_000) -> bytes:
    """Every kind of figure the narrative reader looks for, over and over in one paragraph."""
    unit = "共收到政府信息公开申请12件，其中自然人申请10件、法人申请2件，占83.3%，同比增长1%，行政复议3件，"
    return (_HEAD + "本年度" + unit * (size // len(unit.encode())) + "。\n").encode()


def long_number_txt() -> bytes:
    """A 4,301-digit count of applications: past Python's int-from-string limit."""
    return (_HEAD + "本年度共收到政府信息公开申请" + "9" * 4301 + "件，办结" + "9" * 4301 + "件。\n").encode()


def spaced_line_txt(size: int = 1_900_000) -> bytes:
    """A table row laid out with spaces that never ends: 规章  1  1  1 … on one line."""
    return (_HEAD + "规章" + "  1" * (size // 3) + "\n").encode()


def number_lines_txt(size: int = 1_900_000) -> bytes:
    """Short lines of numbers, each starting left of where the one above ends: one row's numbers
    split over lines, as pdftotext prints them, without end."""
    return (_HEAD + "  1  2\n   0  1\n" * (size // 15)).encode()


CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "zip_bomb": ("bomb.docx", zip_bomb_docx),
    # Under the unpacked-size limit: what python-docx builds from it is bounded by the worker.
    "zip_bomb_small": ("bomb-small.docx", lambda: zip_bomb_docx(500_000)),
    "grid_bomb": ("grid.docx", grid_bomb_docx),
    "span_bomb": ("spans.html", span_bomb_html),
    "many_pages": ("pages.pdf", many_pages_pdf),
    "stream_bomb": ("stream.pdf", stream_bomb_pdf),
    "endless_sentence": ("sentence.txt", endless_sentence_txt),
    "claim_flood": ("flood.txt", claim_flood_txt),
    "long_number": ("number.txt", long_number_txt),
    "spaced_line": ("spaced.txt", spaced_line_txt),
    "number_lines": ("lines.txt", number_lines_txt),
}


def write_case(name: str, folder: Path) -> Path:
    filename, make = CASES[name]
    p = folder / f"{name}-{filename}"
    p.write_bytes(make())
    return p
