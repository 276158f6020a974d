"""The document as the parser sees it: paragraphs and tables, in reading order.

Every reader in :mod:`auditlib.ingest` produces the same thing, so that the
parser never needs to know whether a report came as text, HTML, Word or PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field


# Slotted, not frozen: a report has hundreds of blocks and frozen __init__ is slow.
# Nothing mutates a block after ingest.
@dataclass(slots=True)
class Paragraph:
    """One paragraph (or one line, for flattened text) of running text.

    ``text`` is kept as the report wrote it, minus surrounding white space; an
    empty ``text`` marks an empty table cell that a flattened text file could
    only show as an extra blank line.
    """

    text: str
    line: int | None = None  # 1-based line (text) or page (PDF) where it starts


@dataclass(slots=True)
class Table:
    """A table as a grid of cells, merged cells resolved.

    ``rows[r][c]`` is the text of a cell; ``""`` is a blank cell and ``None`` a
    position covered by a merged cell whose text stands in its top-left corner.
    Rows may differ in length: flattened text rarely keeps a full grid.
    """

    rows: list[list[str | None]]
    line: int | None = None
    # How the reader found it, for `auditlib parse --explain`: "" (the file's own
    # table markup), "rules" (a PDF's ruling lines), "words" (a PDF table without
    # rules, rebuilt from word positions) or "ocr" (a scanned page); and the pages a
    # PDF table spans.
    how: str = ""
    pages: tuple[int, ...] = ()


Block = Paragraph | Table


@dataclass
class Document:
    """What a reader returns: the blocks of one file, and how it was read."""

    source: str
    blocks: list[Block]
    kind: str  # "text" | "html" | "docx" | "pdf"
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Pictures in the text: (index of the block they stand before, their source as written).
    # A table given only as an image is recognised by one of these in its section.
    images: list[tuple[int, str]] = field(default_factory=list)

    def text_lines(self) -> list[str]:
        """All paragraph texts, and table cells row by row, as plain lines."""
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, Paragraph):
                out.append(block.text)
            else:
                for row in block.rows:
                    out.append("\t".join(c for c in row if c))
        return out


class IngestError(Exception):
    """A file that cannot be read as a report. ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"
