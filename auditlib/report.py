"""A parsed report: metadata, section texts and 表二/表三/表四 as DataFrames."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from auditlib.blocks import Document, IngestError, Paragraph, Table
from auditlib.cache import Cache
from auditlib.layouts import TABLE_NAMES, layout
from auditlib.limits import MAX_CHARS, limit_error
from auditlib.meta import Meta, extract_meta
from auditlib.sections import SECTION_NUMERALS, Section, find_sections, split_run_on
from auditlib.tables import (
    ParsedTable,
    cells_of,
    parse_labelled,
    parse_table4,
    quote,
    spread_run_on,
    table_format,
    unreadable_reason,
)
from auditlib.verify import OcrCheck
from auditlib.verify import verify as verify_ocr


@dataclass
class Report:
    source: str
    meta: Meta
    format: str | None
    sections: dict[str, Section]
    section_texts: dict[str, str]
    tables: dict[str, ParsedTable]
    document: Document
    digest: str = ""
    warnings: list[str] = field(default_factory=list)
    # The running text (no table cells), one paragraph a line: the metadata needs
    # it at parse time, so it is kept rather than joined again by every rule.
    narrative: str = ""
    # Numbers read by OCR that the table's arithmetic did not confirm (left null).
    ocr_checks: list[OcrCheck] = field(default_factory=list)
    # The report's own findings when they were computed with it, under the same
    # per-file budget (:mod:`auditlib.budget`); ``audit`` then does not run them again.
    findings: list[Any] | None = None

    # --------------------------------------------------------- conveniences
    @property
    def agency(self) -> str | None:
        return self.meta.agency

    @property
    def year(self) -> int | None:
        return self.meta.year

    @property
    def table2(self) -> pd.DataFrame:
        return self._frame("table2")

    @property
    def table3(self) -> pd.DataFrame:
        return self._frame("table3")

    @property
    def table4(self) -> pd.DataFrame:
        return self._frame("table4")

    def value(self, table: str, row: str, col: str) -> int | float | None:
        pt = self.tables.get(table)
        return pt.get(row, col) if pt else None

    def _frame(self, table: str) -> pd.DataFrame:
        """Rows and columns carry the contract's key and the report's own label."""
        pt = self.tables[table]
        lay = pt.layout
        if lay.columns is not None:
            cols = list(lay.columns)
        else:  # 表二: each row has its own columns; use their union in order
            cols = []
            for r in lay.rows:
                for c in r.columns:
                    if c.key not in [x.key for x in cols]:
                        cols.append(c)
        index = pd.MultiIndex.from_tuples(
            [(r.key, pt.labels.get(r.key) or r.label) for r in lay.rows], names=["key", "label"]
        )
        columns = pd.MultiIndex.from_tuples([(c.key, c.label) for c in cols], names=["key", "label"])
        data = [[pt.values.get((r.key, c.key)) for c in cols] for r in lay.rows]
        dtype = "Float64" if table == "table2" else "Int64"
        df = pd.DataFrame(data, index=index, columns=columns, dtype=dtype)
        df.attrs.update(table=table, name=TABLE_NAMES[table], format=lay.format, source=self.source)
        return df

    # --------------------------------------------------------- contract
    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "agency": self.meta.agency,
            "year": self.meta.year,
            "format": self.format,
            "signed_on": self.meta.signed_on.isoformat() if self.meta.signed_on else None,
            "published_on": self.meta.published_on.isoformat() if self.meta.published_on else None,
            "sections": [n for n in SECTION_NUMERALS if n in self.sections],
            "table2": self.tables["table2"].to_dict(),
            "table3": self.tables["table3"].to_dict(),
            "table4": self.tables["table4"].to_dict(),
            # An addition the contract allows: each table's layout as read (formats mix).
            "table_formats": self.table_formats,
            "warnings": list(self.warnings),
        }

    @property
    def table_formats(self) -> dict[str, str | None]:
        """Each table's layout as read (a report may mix formats); None for a table not read.

        表四 is the same in both formats and is recorded as the current (2021) layout. A table
        present but unreadable (cells run together) keeps the format its wording shows.
        """
        return {
            name: pt.layout.format if pt.found or (pt.unreadable and pt.format_seen) else None
            for name, pt in self.tables.items()
        }


def parse_document(doc: Document, digest: str = "") -> Report:
    blocks = doc.blocks
    sections = find_sections(blocks)
    if len(sections) < len(SECTION_NUMERALS):
        # Crawler text may hold the whole body in one line: split it at its headings, and
        # keep the split blocks as the document's, so that offsets agree everywhere.
        split = split_run_on(blocks)
        if split is not blocks:
            blocks = doc.blocks = split
            sections = find_sections(blocks)
    if not sections and not _mentions_report(doc):
        raise IngestError(
            "NOT_A_REPORT",
            "文件不是政府信息公开工作年度报告：找不到任何一个规定的章节或表格 "
            "(not an annual disclosure report: none of its sections or tables found)",
        )

    def region(numeral: str, fallback: tuple[int, int]) -> tuple[int, int]:
        s = sections.get(numeral)
        return (s.start + 1, s.end) if s else fallback

    everything = (0, len(blocks))
    r2 = region("二", everything)
    r3 = region("三", everything)
    r4 = region("四", everything)
    c2, c3, c4 = cells_of(blocks, *r2), cells_of(blocks, *r3), cells_of(blocks, *r4)
    # Format judged per table: real reports mix a 2021 表二 with a 2019 表三.
    f2, why2 = table_format("table2", c2)
    f3, why3 = table_format("table3", c3)
    fmt = f3 or f2  # 表三 decides the report's format: its rows are what the arithmetic rules use
    warnings = list(doc.warnings)
    if "2019" in (f2, f3):  # quoted only where someone will read it: an old or a mixed format
        why2, why3 = quote(c2, why2) if why2 else "", quote(c3, why3) if why3 else ""
    if f2 and f3 and f2 != f3:
        warnings.append(
            f"表二为{f2}版格式（所见：{why2}），表三为{f3}版格式（所见：{why3}）"
            "（the tables are in different formats; each is read in its own）"
        )
    tables = {
        "table2": parse_labelled(layout("table2", f2 or fmt or "2021"), c2),
        "table3": parse_labelled(layout("table3", f3 or fmt or "2021"), c3),
        "table4": parse_table4(c4),
    }
    for name, cells in (("table2", c2), ("table3", c3), ("table4", c4)):
        spread = None if tables[name].found else spread_run_on(name, cells)
        if spread:
            pt = parse_table4(spread) if name == "table4" else parse_labelled(tables[name].layout, spread)
            if pt.found:
                tables[name] = pt
                warnings.append(
                    f"{TABLE_NAMES[name]}: 表格连成一行、单元格以空格分隔，已按空格拆分读取"
                    "（table run onto one line; its cells cut at the spaces between them）"
                )
    ocr_checks = verify_ocr(tables, fmt)
    tables["table2"].format_seen, tables["table3"].format_seen = why2, why3
    regions = {"table2": (r2, "二"), "table3": (r3, "三"), "table4": (r4, "四")}
    for name, pt in tables.items():
        (start, end), numeral = regions[name]
        if not pt.found:
            cells = {"table2": c2, "table3": c3, "table4": c4}[name]
            # An image stands before block ``at``: one just before the next heading is still in this section.
            images = [src for at, src in doc.images if start <= at <= end] if numeral in sections else []
            pt.unreadable = unreadable_reason(name, cells, images)
        if pt.unreadable:
            warnings.append(f"{TABLE_NAMES[name]}: {pt.unreadable}")
        elif not pt.found:
            warnings.append(f"{TABLE_NAMES[pt.table]}: 找不到该表 (table not found)")
        warnings.extend(str(w) for w in pt.warnings)
        warnings.extend(str(w) for w in pt.notes)

    # Each block's running text ("" for tables and empty cells), once: sections and the
    # narrative are joined from it.
    texts = [b.text if b.__class__ is Paragraph else "" for b in blocks]
    section_texts = {n: "\n".join(filter(None, texts[s.start + 1 : s.end])) for n, s in sections.items()}
    narrative = "\n".join(filter(None, texts))
    if len(narrative) > MAX_CHARS:
        raise limit_error("TEXT_LIMIT", MAX_CHARS)
    six = sections.get("六")
    meta = extract_meta(blocks, six.start if six else None, narrative)
    if meta.agency is None:
        warnings.append("找不到报告机关名称 (agency not found)")
    if meta.year is None:
        warnings.append("找不到报告年度 (report year not found)")
    return Report(
        source=doc.source,
        meta=meta,
        format=fmt,
        sections=sections,
        section_texts=section_texts,
        tables=tables,
        document=doc,
        digest=digest,
        warnings=warnings,
        narrative=narrative,
        ocr_checks=ocr_checks,
    )


def _mentions_report(doc: Document) -> bool:
    text = "".join(b.text for b in doc.blocks[:200] if isinstance(b, Paragraph))
    has_table = any(isinstance(b, Table) for b in doc.blocks)
    return "政府信息公开" in text and ("年度报告" in text or has_table)


def cached(digest: str, path: str | Path, cache: Cache) -> Report | None:
    """The parse of a file with this digest from the cache, as ``path``; raises the
    IngestError a file of that content gave; None when it was never parsed."""
    hit = cache.get(digest, "report")
    if isinstance(hit, IngestError):
        raise IngestError(hit.code, hit.message)
    if isinstance(hit, Report):
        hit.source = hit.document.source = str(path)
        return hit
    return None


def load(path: str | Path, cache: Cache | None = None) -> Report:
    """Read and parse one report file. Raises IngestError when it is not a readable report.

    With a :class:`~auditlib.cache.Cache`, an unchanged file is not parsed again.
    """
    from auditlib.ingest import read_bytes, read_file
    from auditlib.ingest.pages import continuations, join_pages

    data = read_file(path)
    # A report a web site split over pages is read with its later pages, and cached by all of them.
    pages = [(p, read_file(p)) for p in continuations(path, data)]
    h = hashlib.sha256(data)
    for p, more in pages:
        h.update(b"\0" + p.name.encode() + b"\0" + more)
    digest = h.hexdigest()
    if cache is not None:
        hit = cached(digest, path, cache)
        if hit is not None:
            return hit
    try:
        doc = read_bytes(data, str(path))
        if pages:
            doc = join_pages(doc, [read_bytes(more, str(p)) for p, more in pages])
        report = parse_document(doc, digest)
    except IngestError as exc:
        if cache is not None:
            cache.put(digest, "report", IngestError(exc.code, exc.message))
        raise
    if cache is not None:
        cache.put(digest, "report", report)
    return report
