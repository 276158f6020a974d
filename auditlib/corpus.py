"""Many reports at once: load a folder, and one tidy long DataFrame across reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditlib.blocks import IngestError
from auditlib.cache import Cache
from auditlib.ingest import find_reports
from auditlib.report import Report, cached, load


@dataclass(frozen=True)
class Unreadable:
    """A file that could not be read as a report, and why."""

    source: str
    code: str
    message: str

    def to_json(self) -> dict:
        return {"source": self.source, "error": {"code": self.code, "message": self.message}}


def load_one(path: str | Path, cache: Cache | None = None) -> Report | Unreadable:
    """Never raises for a bad file: an unreadable one comes back as :class:`Unreadable`."""
    try:
        return load(path, cache)
    except IngestError as exc:
        return Unreadable(str(path), exc.code, exc.message)
    except MemoryError:
        from auditlib.limits import MEMORY_BYTES, limit_error

        exc = limit_error("MEMORY_LIMIT", MEMORY_BYTES)
        return Unreadable(str(path), exc.code, exc.message)
    except Exception as exc:  # a parser bug must not stop a batch of thousands
        return Unreadable(str(path), "PARSE_FAILED", f"解析失败：{type(exc).__name__}: {exc} (parser failed)")


def _cache(cache: Cache | bool | None) -> Cache | None:
    if cache is True:
        return Cache()
    return cache or None


def iter_reports(
    paths: Iterable[str | Path], cache: Cache | bool | None = True, bounded: bool = True
) -> Iterator[Report | Unreadable]:
    """Each report file under ``paths``, read and audited on its own under the per-file
    budget of :mod:`auditlib.budget` (``bounded=False``: in this process, unbounded)."""
    c = _cache(cache)
    files = find_reports(list(paths))
    if not bounded:
        for p in files:
            yield load_one(p, c)
        return
    from auditlib.budget import Worker, shared_worker

    # Files parsed and audited before (under the budget) come from the cache; the others
    # go to the budgeted worker, handed over ahead of their turn (Worker.run_many).
    digests = {p: _digest(p) for p in files} if c is not None else {}
    known = {p for p, d in digests.items() if d and c.has(d, "report") and c.has(d, "findings")}
    worker = shared_worker(c.root if c is not None else None)
    answers = worker.run_many(p for p in files if p not in known)
    for p in files:
        item = _from_cache(p, digests[p], c) if p in known else None
        if item is None:
            if p in known:  # the entry would not load after all (damaged): parse it again, apart
                with Worker(cache_dir=c.root if c is not None else None) as spare:
                    item, findings = spare.run(str(p))
            else:
                _source, item, findings = next(answers)
            if isinstance(item, Report):
                item.findings = findings
        yield item


def _digest(path: Path) -> str | None:
    import hashlib

    from auditlib.ingest import read_file

    try:
        return hashlib.sha256(read_file(path)).hexdigest()
    except IngestError:
        return None  # the worker says why


def _from_cache(path: Path, digest: str, cache: Cache) -> Report | Unreadable | None:
    """A file's cached parse with its own findings, or None when either will not load."""
    try:
        report = cached(digest, path, cache)
    except IngestError as exc:
        return Unreadable(str(path), exc.code, exc.message)
    if report is None:
        return None
    findings = cache.get(digest, "findings")
    if not isinstance(findings, list):
        return None
    for f in findings:
        f.source = report.source
    report.findings = findings
    return report


def load_reports(
    paths: str | Path | Iterable[str | Path], cache: Cache | bool | None = True, bounded: bool = True
) -> list[Report | Unreadable]:
    """Every report file under the paths (folders recursively), parsed, in a stable order.

    Parsed reports are cached by content (see :mod:`auditlib.cache`); ``cache=False`` re-parses.
    Each file is read and audited under the per-file budget unless ``bounded=False``.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return list(iter_reports(paths, cache, bounded))


def tidy(reports: Iterable[Report | Unreadable]) -> pd.DataFrame:
    """One row per table cell across reports: agency, year, table, row, column, label, value."""
    records = []
    for r in reports:
        if not isinstance(r, Report):
            continue
        for name, pt in r.tables.items():
            for row in pt.layout.rows:
                label = pt.labels.get(row.key) or row.label
                for col in row.columns:
                    records.append(
                        (
                            r.source,
                            r.meta.agency,
                            r.meta.year,
                            r.format,
                            name,
                            row.key,
                            col.key,
                            f"{label} / {col.label}",
                            pt.values.get((row.key, col.key)),
                        )
                    )
    df = pd.DataFrame.from_records(
        records, columns=["source", "agency", "year", "format", "table", "row", "column", "label", "value"]
    )
    df["year"] = df["year"].astype("Int64")
    df["value"] = pd.to_numeric(df["value"]).astype("Float64")
    return df
