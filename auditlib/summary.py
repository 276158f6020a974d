"""The corpus at a glance, computed once by the batch and read by the dashboard.

The dashboard has to come up in seconds over thousands of reports. Loading and
auditing every report in its kernel took most of that time, and the batch
(``auditlib audit``, ``auditlib sheets``) has the reports and findings in hand
anyway. So the batch writes a :class:`Summary`: one row per file, the findings
with canonical agency names and regions, and the 表三 outcome mix per agency and
year. It lives in the parse cache (see :mod:`auditlib.cache`), keyed by the
input folder, and records every file's size and modification time and the
code fingerprint. The dashboard uses it only while it still describes the
folder exactly; otherwise it rebuilds it (from the parse cache) and stores it.

The agency, region and outcome helpers live here because the summary is where
they are first needed; :mod:`auditlib.dashboard` re-exports them.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditlib.cache import Cache, code_fingerprint
from auditlib.corpus import Unreadable
from auditlib.findings import Finding, findings_frame
from auditlib.ingest import find_reports
from auditlib.layouts import OUTCOMES, T3_OUTCOME
from auditlib.report import Report

UNKNOWN_AGENCY = "（未知机关）"


_PROVINCE = re.compile(r"^.{1,7}?(?:省|自治区)(?=.)")
_REGION = re.compile(r"^.{1,10}?(?:自治州|地区|盟|市|县|区|旗)")


# ------------------------------------------------------------------ agencies and regions
def region_of(name: str | None) -> str:
    """The leading 市/区/县 of an agency name: 柳州市城中区人民政府 → 柳州市.

    A leading province (…省, …自治区) is skipped: 广西壮族自治区柳州市… → 柳州市.
    Names without a place come back as 其他.
    """
    if not name or not isinstance(name, str):
        return "其他"
    s = re.sub(r"\s+", "", name)
    rest = _PROVINCE.sub("", s)
    m = _REGION.match(rest) or _REGION.match(s)
    if not m:
        return "其他"
    return m.group(0)


def reports_only(reports: Iterable[Report | Unreadable]) -> list[Report]:
    return [r for r in reports if isinstance(r, Report)]


def canonical_agencies(reports: Iterable[Report | Unreadable], findings_df: pd.DataFrame | None = None) -> dict:
    """Every agency name seen → the corpus's canonical name (see :mod:`auditlib.agencies`)."""
    from auditlib.agencies import resolve

    names = [r.meta.agency for r in reports_only(reports)]
    if findings_df is not None and "agency" in findings_df:
        names += [a for a in findings_df["agency"].dropna().astype(str)]
    return resolve(names)


def agency_label(report: Report | Unreadable, mapping: dict | None = None) -> str:
    if isinstance(report, Report) and report.meta.agency:
        return (mapping or {}).get(report.meta.agency, report.meta.agency)
    return UNKNOWN_AGENCY


def report_frame(reports: Sequence[Report | Unreadable], mapping: dict | None = None) -> pd.DataFrame:
    """One row per input file: source, agency (canonical), year, region, readable."""
    rows = []
    for r in reports:
        ok = isinstance(r, Report)
        agency = agency_label(r, mapping)
        rows.append(
            {
                "source": r.source,
                "agency": agency,
                "year": r.meta.year if ok else None,
                "region": region_of(agency) if ok else "其他",
                "readable": ok,
            }
        )
    df = pd.DataFrame(rows, columns=["source", "agency", "year", "region", "readable"])
    df["year"] = df["year"].astype("Int64")
    return df


def prepare(
    findings_df: pd.DataFrame, reports: Sequence[Report | Unreadable], mapping: dict | None = None
) -> pd.DataFrame:
    """Findings with canonical agency names (from their report) and a region column.

    ``mapping`` is the run's :func:`canonical_agencies`, when it has been made already.
    """
    if mapping is None:
        mapping = canonical_agencies(reports, findings_df)
    by_source = {r.source: agency_label(r, mapping) for r in reports_only(reports)}
    out = findings_df.copy()
    agency = out["source"].map(by_source)
    fallback = out["agency"].map(lambda a: mapping.get(a, a) if isinstance(a, str) else UNKNOWN_AGENCY)
    out["agency"] = agency.where(agency.notna(), fallback).astype(object)
    out["region"] = out["agency"].map(region_of)
    return out


# ------------------------------------------------------------------ 表三 outcomes
def agency_outcomes(report: Report) -> dict[str, float | None]:
    """One report's 表三 outcome totals (总计 column) by outcome group; a group of blank cells is None."""
    t3 = report.tables["table3"]
    out: dict[str, float | None] = {}
    for name in OUTCOMES:
        vals = [v for (rk, ck), v in t3.values.items() if ck == "total" and T3_OUTCOME.get(rk) == name and v is not None]
        out[name] = sum(vals) if vals else None
    return out


def table3_totals(reports: Iterable[Report | Unreadable]) -> pd.DataFrame:
    """The 总计 column of every 表三, in :func:`auditlib.corpus.tidy`'s columns.

    All that :func:`outcome_mix` reads, at a twentieth of the cells of the full tidy frame.
    """
    records = []
    for r in reports:
        if not isinstance(r, Report) or "table3" not in r.tables:
            continue
        pt = r.tables["table3"]
        for row in pt.layout.rows:
            if any(c.key == "total" for c in row.columns):
                records.append((r.source, r.meta.agency, r.meta.year, "table3", row.key, "total", pt.get(row.key, "total")))
    df = pd.DataFrame.from_records(records, columns=["source", "agency", "year", "table", "row", "column", "value"])
    df["year"] = df["year"].astype("Int64")
    df["value"] = pd.to_numeric(df["value"]).astype("Float64")
    return df


def outcome_mix(tidy_df: pd.DataFrame, mapping: dict | None = None) -> pd.DataFrame:
    """Per agency and year: 表三 本年新收 total and the six outcome totals (总计 column).

    Columns: agency, year, region, new_received, 予以公开, 部分公开, 不予公开, 无法提供, 不予处理, 其他处理.
    Blank cells stay out of the sums (a group of blank cells is NA, not 0).
    """
    cols = ["agency", "year", "region", "new_received", *OUTCOMES]
    t = tidy_df[(tidy_df["table"] == "table3") & (tidy_df["column"] == "total")].copy()
    if t.empty:
        return pd.DataFrame(columns=cols)
    t["agency"] = t["agency"].map(lambda a: (mapping or {}).get(a, a) if isinstance(a, str) else UNKNOWN_AGENCY)
    t["group"] = t["row"].map(lambda r: "new_received" if r == "new_received" else T3_OUTCOME.get(r))
    t = t[t["group"].notna()]
    key = ["source", "agency", "year"] if "source" in t else ["agency", "year"]
    wide = (
        t.groupby([*key, "group"], dropna=False)["value"]
        .sum(min_count=1)
        .unstack("group")
        .reset_index()
    )
    if "source" in wide:
        wide = wide.drop(columns="source").groupby(["agency", "year"], dropna=False).sum(min_count=1).reset_index()
    for c in cols:
        if c not in wide:
            wide[c] = pd.NA
    wide["region"] = wide["agency"].map(region_of)
    return wide[cols].sort_values(["agency", "year"], ignore_index=True)


# ------------------------------------------------------------------ the summary
Snapshot = dict[str, tuple[int, int]]


def _inputs(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> tuple[str, ...]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return tuple(str(Path(p).resolve()) for p in paths)


def snapshot(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> Snapshot:
    """Every report file under the paths (as :func:`~auditlib.corpus.load_reports` finds them) → (size, mtime_ns).

    Taken *before* the files are read, so that a file changed while the batch
    ran makes the summary stale rather than silently out of date.
    """
    out: Snapshot = {}
    for f in find_reports(list(_inputs(paths))):
        try:
            st = f.stat()
        except OSError:
            continue  # vanished between listing and stat: absent from the snapshot, as from the folder
        out[str(f)] = (st.st_size, st.st_mtime_ns)
    return out


@dataclass
class Summary:
    """What the dashboard shows, for one set of input paths. Sources are absolute paths."""

    inputs: tuple[str, ...]
    files: Snapshot
    code: str
    built_at: str
    reports: pd.DataFrame  # report_frame(): one row per file
    findings: pd.DataFrame  # findings_frame() + canonical agency + region
    mix: pd.DataFrame  # outcome_mix() per agency and year

    @property
    def agencies(self) -> list[str]:
        return sorted(self.reports.loc[self.reports["readable"], "agency"].unique())

    def sources_of(self, agency: str) -> list[str]:
        """The readable files of one agency, oldest year first."""
        mine = self.reports[self.reports["readable"] & (self.reports["agency"] == agency)]
        return list(mine.sort_values(["year", "source"], na_position="first")["source"])

    def is_fresh(self) -> bool:
        """Whether the input folder still holds exactly the files, unchanged, and the code is the same."""
        return self.code == code_fingerprint() and snapshot(self.inputs) == self.files


def build(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    files: Snapshot,
    items: Sequence[Report | Unreadable],
    findings: Sequence[Finding] | pd.DataFrame,
    agencies: dict[str, str] | None = None,
) -> Summary:
    """The summary of a loaded and audited corpus; ``files`` is the :func:`snapshot` taken before loading,
    ``agencies`` the run's resolution of agency names (made here when not given)."""
    fdf = findings if isinstance(findings, pd.DataFrame) else findings_frame(list(findings))
    mapping = agencies if agencies is not None else canonical_agencies(items, fdf)
    absolute = {s: str(Path(s).resolve()) for s in {i.source for i in items} | set(fdf["source"].dropna())}

    def absolutise(df: pd.DataFrame) -> pd.DataFrame:
        if "source" in df:
            df["source"] = df["source"].map(lambda s: absolute.get(s, s))
        return df

    return Summary(
        inputs=_inputs(paths),
        files=dict(files),
        code=code_fingerprint(),
        built_at=time.strftime("%Y-%m-%d %H:%M:%S"),
        reports=absolutise(report_frame(items, mapping)),
        findings=absolutise(prepare(fdf, items, mapping)),
        mix=outcome_mix(table3_totals(items), mapping),
    )


def _key(inputs: tuple[str, ...]) -> str:
    return hashlib.sha256("\0".join(inputs).encode()).hexdigest()


def save(summary: Summary, cache: Cache | None = None) -> None:
    """Store the summary in the cache (atomically; a read-only cache is skipped)."""
    (cache or Cache()).put(_key(summary.inputs), "summary", summary)


def load(paths: str | os.PathLike | Iterable[str | os.PathLike], cache: Cache | None = None) -> Summary | None:
    """The stored summary of these paths if it still describes them exactly, else None."""
    inputs = _inputs(paths)
    s = (cache or Cache()).get(_key(inputs), "summary")
    if not isinstance(s, Summary) or s.inputs != inputs or not s.is_fresh():
        return None
    return s


def load_or_build(paths: str | os.PathLike | Iterable[str | os.PathLike], cache: Cache | None = None) -> Summary:
    """The fresh stored summary, or one built now (through the parse cache) and stored."""
    from auditlib.pipeline import audit_folder  # the batch step sits above the summary it writes

    cache = cache or Cache()
    found = load(paths, cache)
    if found is not None:
        return found
    summary = audit_folder(list(_inputs(paths)), cache).summary
    assert summary is not None  # audit_folder summarises whenever it has a cache
    return summary
