"""A finding: one thing an auditor should look at, located in the report's own words."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from auditlib.vocab import SEVERITIES

# The contract's keys, in the contract's order.
CONTRACT_KEYS = (
    "source",
    "agency",
    "year",
    "rule",
    "severity",
    "location",
    "expected",
    "actual",
    "message",
    "evidence",
)


# Where the finding stands in the original document (CONTRACT.md: page, bbox, span).
PLACE_KEYS = ("page", "bbox", "span")


def printable(s: str) -> str:
    """``s`` as valid Unicode: bytes of a file name that are not UTF-8 (a GBK archive
    unzipped here) show as ``\\xNN`` instead of failing SQLite, JSON or the terminal."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        try:
            return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return s.encode("utf-8", "backslashreplace").decode("utf-8")


def plain(value: Any) -> Any:
    """A value from a findings frame as plain Python: pandas' missing values (NaN, NA, NaT)
    become None, numpy scalars Python ones and strings valid Unicode, for SQLite, Excel
    and JSON alike."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.isascii() else printable(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # lists and other containers: not a missing value
        pass
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    return value


@dataclass
class Finding:
    source: str
    agency: str | None
    year: int | None
    rule: str
    severity: str
    location: str  # where, in the report's own words: 表三 （七）总计 / 总计, or a section
    message: str  # Chinese, with an English gloss
    evidence: str  # the report's own text that shows it
    expected: int | float | None = None
    actual: int | float | None = None
    # Where to highlight: a table cell, or a stretch of the narrative.
    table: str | None = None
    row: str | None = None
    column: str | None = None
    # What makes the finding the same finding on a re-run: the report's content
    # hash and a key the rule chooses (cell, sentence …), never wording or order.
    digest: str = ""
    key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Where it stands in the original document (auditlib.locate): a PDF's 1-based page and
    # [x0, top, x1, bottom] in points; [start, end] in the report's text. None when not certain.
    page: int | None = None
    bbox: list[float] | None = None
    span: list[int] | None = None

    @property
    def id(self) -> str:
        basis = "|".join([self.digest or self.source, self.rule, self.key or self.location])
        return hashlib.sha1(basis.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def cells(self) -> list[tuple[str | None, str | None]]:
        """The table cells the finding is about, as (row, column); None = the whole row/column.

        A figure summed over several rows (不予公开 = rows 1–8) names them in ``extra``.
        """
        if not self.table:
            return []
        rows = self.extra.get("rows") or [self.row]
        cols = self.extra.get("columns") if self.column is None and self.extra.get("columns") else [self.column]
        return [(r, c) for r in rows for c in cols]

    def to_json(self) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in CONTRACT_KEYS}, **{k: getattr(self, k) for k in PLACE_KEYS}}

    def to_record(self) -> dict[str, Any]:
        rec = asdict(self)
        rec.pop("extra")
        rec["id"] = self.id
        rec["cells"] = self.cells()
        return rec


FRAME_COLUMNS = ["id", *CONTRACT_KEYS, *PLACE_KEYS, "table", "row", "column", "cells", "digest"]


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a DataFrame: the contract's fields plus a stable ``id``."""
    df = pd.DataFrame.from_records([f.to_record() for f in findings], columns=[*FRAME_COLUMNS, "key"])
    df = df[FRAME_COLUMNS]
    df["year"] = df["year"].astype("Int64")
    df["page"] = df["page"].astype("Int64")
    df["severity"] = pd.Categorical(df["severity"], categories=list(SEVERITIES), ordered=True)
    return df
