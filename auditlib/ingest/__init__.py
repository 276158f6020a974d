"""Reading: any report file becomes a :class:`~auditlib.blocks.Document` of blocks in order.

The reader is chosen by what the bytes are, not only by the file name: a .txt
that is really a Word file, or an .html saved as .doc, is common on government
sites.
"""

from __future__ import annotations

from pathlib import Path

from auditlib.blocks import Document, IngestError

SUFFIXES = (
    ".txt", ".text", ".htm", ".html", ".shtml", ".docx", ".doc", ".pdf", ".wps", ".rtf", ".odt", ".mht", ".mhtml",
)

# Past this a file is not a yearly report: refuse it before reading it whole.
MAX_BYTES = 64 * 1024 * 1024
# A real report's text is well under 1 MB; a 50 MB "text report" is a log or a dump,
# and parsing it would only cost time and memory.
MAX_TEXT_BYTES = 8 * 1024 * 1024


def _too_large(size: int) -> IngestError:
    return IngestError(
        "TOO_LARGE", f"文件过大（{size // (1024 * 1024)} MB），不是年度报告 (file too large to be an annual report)"
    )


def sniff(data: bytes, suffix: str) -> str:
    """The kind of document the bytes are: text | html | mht | docx | odt | pdf | doc | wps | rtf."""
    head = data[:2048].lstrip()
    if data.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        # OpenDocument keeps its type, uncompressed, as the zip's first entry.
        return "odt" if b"mimetypeapplication/vnd.oasis.opendocument" in data[:256] else "docx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # WPS saves the same OLE container as Word 97; the name only changes what we call it.
        return "wps" if suffix == ".wps" else "doc"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    low = head.lower()
    if b"mime-version:" in low[:1024] and b"multipart/related" in low:
        return "mht"
    for marker in (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<table", b"<div"):
        if marker in low[:1024]:
            return "html"
    if suffix in (".htm", ".html", ".shtml") and b"<" in head[:200]:
        return "html"
    return "text"


def read_bytes(data: bytes, source: str) -> Document:
    suffix = Path(source).suffix.lower()
    if not data:
        raise IngestError("EMPTY", "文件为空 (empty file)")
    if len(data) > MAX_BYTES:
        raise _too_large(len(data))
    kind = sniff(data, suffix)
    if kind in ("text", "html", "mht") and len(data) > MAX_TEXT_BYTES:
        raise IngestError(
            "TOO_LARGE",
            f"文本文件过大（{len(data) / (1024 * 1024):.0f} MB），不是年度报告 (text file too large to be an annual report)",
        )
    if kind == "pdf":
        from auditlib.ingest.pdf import read_pdf

        return read_pdf(data, source)
    if kind == "docx":
        from auditlib.ingest.docx import read_docx

        return read_docx(data, source)
    if kind in ("doc", "wps", "rtf", "odt"):
        from auditlib.ingest.docx import read_docx
        from auditlib.ingest.office import NAMES, to_docx

        doc = read_docx(to_docx(data, kind), source)
        doc.warnings.append(f"{NAMES[kind]}已用 LibreOffice 转换为 .docx 后读取 (.{kind} converted with LibreOffice)")
        return doc
    if kind == "mht":
        from auditlib.ingest.html import read_html
        from auditlib.ingest.office import mht_html

        return read_html(mht_html(data), source)
    if kind == "html":
        from auditlib.ingest.html import read_html

        return read_html(data, source)
    from auditlib.ingest.text import read_text

    return read_text(data, source)


def read_file(path: str | Path) -> bytes:
    """The file's bytes, refusing one too large to be a report before reading it."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _too_large(size)
        return path.read_bytes()
    except OSError as exc:
        raise IngestError("IO_ERROR", f"无法读取文件：{exc.strerror or exc} (cannot read file)") from exc


def read(path: str | Path) -> Document:
    """Read one report file. Raises :class:`IngestError` when it cannot be read as a report."""
    return read_bytes(read_file(path), str(path))


def find_reports(paths: list[str | Path]) -> list[Path]:
    """The report files named, folders searched recursively, in a stable order. The later
    pages of a report a web site split over pages are read with its first page, not alone."""
    from auditlib.ingest.pages import is_continuation

    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.suffix.lower() in SUFFIXES
                    and not f.name.startswith(".")
                    and _inside(f, p)
                    and not is_continuation(f)
                )
            )
        else:
            out.append(p)
    return out


def _inside(f: Path, root: Path) -> bool:
    """A regular file that is, after following links, inside ``root``: a link in a
    downloaded folder must not make the batch read (and quote) /proc/self/environ."""
    if not f.is_symlink():
        return f.is_file()
    try:
        target = f.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return target.is_file() and target.is_relative_to(root.resolve())
