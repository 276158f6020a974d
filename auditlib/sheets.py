"""Audit sheets: one executed notebook, static HTML page and Excel workbook per agency.

:func:`run_sheets` parses and audits the whole folder once, records the findings
in the review database, writes each agency's payload (its reports and findings)
and hands one task per agency to an executor (:mod:`auditlib.executors`: local
processes or a Dask cluster), whose workers run ``notebooks/audit_sheet.ipynb``
in warm kernels (:mod:`auditlib.kernels`, :mod:`auditlib.render`). An agency
whose inputs have not changed since its sheet was written is not run again.

The pieces the notebook shows live beside this module: the styled tables and
highlighted text in :mod:`auditlib.view`, the charts in :mod:`auditlib.charts`;
safe names and atomic writes in :mod:`auditlib.files`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from auditlib.agencies import agency_key, resolve
from auditlib.charts import corpus_frame
from auditlib.files import safe_dirname
from auditlib.render import (
    ERROR_FILE,
    SHEET_HTML,
    SHEET_NOTEBOOK,
    SHEET_XLSX,
    SheetResult,
    Task,
    fingerprint_of,
    write_assets,
)
from auditlib.report import Report

if TYPE_CHECKING:
    from auditlib.corpus import Unreadable
    from auditlib.findings import Finding
    from auditlib.pipeline import Audited

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "audit_sheet.ipynb"


# ================================================================= agencies
# Names are matched as everywhere else: auditlib.agencies (agency_key, resolve).
def _reports(items: Iterable[Report | Unreadable]) -> list[Report]:
    return [r for r in items if isinstance(r, Report)]


def agency_groups(
    items: Iterable[Report | Unreadable], agencies: dict[str, str] | None = None
) -> dict[str, tuple[str, list[Report]]]:
    """The corpus's agencies: canonical key → (display name, its reports by year).

    Reports whose agency could not be found are left out (they have no sheet).
    ``agencies`` is the run's resolution of names (:attr:`auditlib.pipeline.Audited.agencies`).
    """
    reports = _reports(items)
    canon = agencies if agencies is not None else resolve(r.meta.agency for r in reports)
    groups: dict[str, list[Report]] = {}
    for r in reports:
        if r.meta.agency:
            groups.setdefault(canon[r.meta.agency], []).append(r)
    out: dict[str, tuple[str, list[Report]]] = {}
    for key, rs in sorted(groups.items()):
        names = Counter(r.meta.agency for r in rs)
        # The fullest spelling names the agency best (柳州市城中区城中街道办事处, not 城中街道办).
        display = max(names, key=lambda n: (agency_key(n) == key, len(n), names[n]))
        out[key] = (display, sorted(rs, key=lambda r: (r.meta.year or 0, r.source)))
    return out


def agency_reports(
    items: Iterable[Report | Unreadable],
    agency: str,
    years: Iterable[int] | None = None,
    agencies: dict[str, str] | None = None,
) -> list[Report]:
    """The reports of ``agency`` (however it is spelt), optionally only some years.

    ``agencies`` is the run's resolution of names; a spelling it has not seen is resolved here.
    """
    items = list(items)
    reports = _reports(items)
    if agencies is not None and agency in agencies:
        canon = agencies
    else:
        canon = resolve([*(r.meta.agency for r in reports), agency])
    want = canon.get(agency, agency_key(agency))
    mine = [r for r in reports if r.meta.agency and canon[r.meta.agency] == want]
    if years is not None:
        ys = {int(y) for y in years}
        mine = [r for r in mine if r.meta.year in ys]
    return sorted(mine, key=lambda r: (r.meta.year or 0, r.source))


def agency_findings(findings: Iterable[Finding], reports: Iterable[Report], review_db: str | os.PathLike[str] | None) -> pd.DataFrame:
    """The findings on ``reports`` as a frame, with the auditors' latest decision on each.

    What the sheet's notebook shows and its workbook holds, made the same way by
    both (the runner writes the workbook beside the kernel). The database is read,
    not checked: the runner (or the notebook's own sync) opened it moments ago.
    """
    from auditlib.findings import findings_frame
    from auditlib.review import ReviewStore

    sources = {r.source for r in reports}
    fdf = findings_frame([f for f in findings if f.source in sources])
    if review_db:
        return ReviewStore(review_db, check=False).status_frame(fdf)
    return fdf.assign(review_status="open", review_note="", reviewer=None, reviewed_at=None)


# ================================================================= audit once
PEERS_FILE = "peers.pkl"

def prepare_audit(reports_dir: str | os.PathLike[str]) -> Audited:
    """Parse every report under ``reports_dir`` and audit them together (storing the dashboard's summary)."""
    from auditlib.cache import Cache
    from auditlib.pipeline import audit_folder

    return audit_folder(reports_dir, Cache())


def load_audit(reports_dir: str | os.PathLike[str], cache: str | os.PathLike[str] | None = None) -> Audited:
    """The parsed reports, findings and agency names: from the runner's cache when given, else computed.

    The cache is written by :func:`run_sheets` for this run only, so that N
    agencies do not parse and audit the same folder N times (nor resolve its names again).
    """
    from auditlib.pipeline import Audited  # the kernel reads a payload: no need to load the pipeline before

    payload = _payload(reports_dir, cache)
    if payload is not None:
        return Audited(payload["items"], payload["findings"], payload["agencies"])
    return prepare_audit(reports_dir)


def _payload(reports_dir: str | os.PathLike[str], cache: str | os.PathLike[str] | None) -> dict | None:
    if cache:
        p = Path(cache)
        if p.is_file():
            with p.open("rb") as fh:
                payload = pickle.load(fh)
            if payload.get("reports_dir") == str(Path(reports_dir).resolve()):
                return payload | {"peers": p.parent / payload["peers"]}
    return None


def load_peers(
    reports_dir: str | os.PathLike[str],
    cache: str | os.PathLike[str] | None = None,
    items: Iterable[Report | Unreadable] = (),
    agencies: dict[str, str] | None = None,
) -> pd.DataFrame:
    """:func:`corpus_frame` of the whole folder: the runner's, computed once, or from ``items`` (all of them)."""
    payload = _payload(reports_dir, cache)
    if payload is not None:
        with open(payload["peers"], "rb") as fh:
            return pickle.load(fh)
    return corpus_frame(items, agencies)


def write_payloads(
    folder: Path,
    reports_dir: Path,
    groups: dict[str, tuple[str, list[Report]]],
    findings: Sequence[Finding],
    peers: pd.DataFrame,
) -> dict[str, Path]:
    """One small file per agency for the sheets' kernels, and the corpus frame they share.

    Each kernel loads only its own agency's reports and findings: with the
    whole audit in one file, every one of N agencies' kernels unpickled all
    N reports (42 MB and 1.1 s each at 1,000 reports), so the batch grew as N².
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / PEERS_FILE).open("wb") as fh:
        pickle.dump(peers, fh, protocol=pickle.HIGHEST_PROTOCOL)
    by_source: dict[str, list[Finding]] = {}
    for f in findings:
        by_source.setdefault(f.source, []).append(f)
    paths: dict[str, Path] = {}
    for i, (key, (_name, rs)) in enumerate(groups.items()):
        payload = {
            "reports_dir": str(reports_dir),
            "items": list(rs),
            "findings": [f for r in rs for f in by_source.get(r.source, [])],
            # The run's canonical name of each spelling in this group: the kernel needn't resolve again.
            "agencies": {r.meta.agency: key for r in rs if r.meta.agency},
            "peers": PEERS_FILE,
        }
        paths[key] = folder / f"{i}.pkl"
        with paths[key].open("wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return paths


# ================================================================= the runner
def _index_entries(
    out_dir: Path, results: list[SheetResult], groups: dict[str, tuple[str, list[Any]]], findings: Sequence[Any], run_at: str
) -> list[Any]:
    """This run's lines of ``outputs/index.html``: per agency its reports, years and findings by severity."""
    from auditlib.index_page import Entry
    from auditlib.vocab import SEVERITIES

    by_name = {name: rs for name, rs in groups.values()}
    per_source = Counter((f.source, f.severity) for f in findings)
    entries = []
    for r in results:
        rs = by_name.get(r.agency, [])
        counts: Counter[str] = Counter()
        for rep in rs:
            for sev in SEVERITIES:
                counts[sev] += per_source.get((rep.source, sev), 0)
        entries.append(
            Entry(
                agency=r.agency,
                directory=r.directory.relative_to(out_dir).as_posix(),
                ok=r.ok,
                run_at=run_at,
                seconds=round(r.seconds, 1),
                error=r.error,
                reports=len(rs),
                years=sorted({rep.meta.year for rep in rs if rep.meta.year}),
                findings={sev: counts[sev] for sev in SEVERITIES},
            )
        )
    return entries


_PAYLOADS_PREFIX = "auditlib-sheets-"


def _payload_folder() -> tuple[Path, Any]:
    """This run's folder for the agencies' payloads, and the lock that marks it in use.

    Folders of runs that were killed (``kill -9`` leaves no ``finally``) are
    removed first: their lock is free, where a running batch holds its own.
    """
    import fcntl

    for old in Path(tempfile.gettempdir()).glob(_PAYLOADS_PREFIX + "*"):
        with contextlib.suppress(OSError):
            if old.is_symlink() or old.stat().st_uid != os.getuid():
                continue
            with open(old / ".lock", "a") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a batch still running
                shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=_PAYLOADS_PREFIX))
    lock = open(folder / ".lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return folder, lock


def fingerprints(
    groups: dict[str, tuple[str, list[Report]]],
    findings: Sequence[Finding],
    decisions: pd.DataFrame,
    notebook: Path,
) -> dict[str, str]:
    """Per agency, a hash of everything its sheet is made from.

    The code and the notebook, the agency's reports (by content), its findings
    and the auditors' decisions on them. A change to one report changes its
    agency's fingerprint, and any other agency's only through that agency's own
    findings (a corpus rule that now finds something there). The comparison
    with the whole corpus (the peer chart) is deliberately not part of it: one
    new report would otherwise re-render every sheet; ``force=True`` does that.
    """
    from auditlib.cache import code_fingerprint

    base = hashlib.sha256(code_fingerprint().encode() + notebook.read_bytes())
    by_source: dict[str, list[Finding]] = {}
    for f in findings:
        by_source.setdefault(f.source, []).append(f)
    status = {}
    if len(decisions):
        cols = ["review_status", "review_note", "reviewer", "reviewed_at"]
        for fid, row in zip(decisions["id"].astype(str), decisions[cols].itertuples(index=False), strict=True):
            status[fid] = [None if pd.isna(v) else str(v) for v in row]
    out = {}
    for key, (name, rs) in groups.items():
        fs = sorted((f for r in rs for f in by_source.get(r.source, [])), key=lambda f: (f.source, f.id))
        doc = {
            "agency": name,
            "reports": [(r.source, r.digest, r.meta.agency, r.meta.year) for r in rs],
            "findings": [dataclasses.asdict(f) for f in fs],
            "decisions": [status.get(f.id) for f in fs],
        }
        h = base.copy()
        h.update(json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False).encode())
        out[key] = h.hexdigest()[:32]
    return out


def _unchanged(d: Path, fingerprint: str) -> bool:
    """The sheet in ``d`` was made from the same inputs and is whole (the notebook is written last)."""
    return (
        not (d / ERROR_FILE).exists()
        and (d / SHEET_HTML).is_file()
        and (d / SHEET_XLSX).is_file()
        and fingerprint_of(d / SHEET_NOTEBOOK) == fingerprint
    )


def run_sheets(
    reports_dir: str | os.PathLike[str] = "reports_in",
    out_dir: str | os.PathLike[str] = "outputs",
    jobs: int | None = None,
    review_db: str | os.PathLike[str] | None = None,
    agencies: Iterable[str] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    progress: bool = True,
    timeout: int = 900,
    scheduler: str | None = None,
    executor: str | None = None,
    force: bool = False,
) -> list[SheetResult]:
    """Run the audit sheet for every agency of ``reports_dir`` (or only ``agencies``).

    Each agency gets ``out_dir/<safe name>/`` with the executed notebook, a
    static HTML page and ``findings.xlsx``; ``out_dir/plotly.min.js`` and
    ``audit_sheet.css`` are the one copy of plotly.js and of the style sheet their pages load. A failing agency is reported in its
    result (and ``error.txt``); the others go on. An agency whose sheet was made
    from the same inputs is kept as it is (``skipped``) unless ``force``.
    ``executor`` names one of :data:`auditlib.executors.EXECUTORS` (default
    ``local``, with ``jobs`` processes); with ``scheduler`` (a Dask distributed
    address such as ``tcp://10.0.0.5:8786``) it is ``dask`` and the files are
    gathered back into ``out_dir``.
    """
    from tqdm import tqdm

    from auditlib.executors import Shared, get_executor
    from auditlib.findings import findings_frame
    from auditlib.review import ReviewStore

    given = Path(reports_dir)
    reports_dir = given.resolve()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db = Path(review_db).resolve() if review_db else out / "audit.db"
    nb_path = Path(notebook).resolve() if notebook else NOTEBOOK

    # Parsed by the path as given, so that sources read as they do for ``auditlib audit``.
    run = prepare_audit(given)
    items, findings = run.items, run.findings
    store = ReviewStore(db)
    store.sync(findings, sources=[i.source for i in items])

    groups = agency_groups(items, run.agencies)
    in_groups = sum(len(rs) for _, rs in groups.values())
    if progress and len(items) > in_groups:
        print(f"跳过 {len(items) - in_groups} 份文件：无法读取或找不到报告机关（no sheet for them）", file=sys.stderr)
    if agencies is not None:
        wanted = list(agencies)
        canon = resolve([*(r.meta.agency for r in _reports(items)), *wanted])
        keys = {canon.get(a, agency_key(a)) for a in wanted}
        groups = {k: v for k, v in groups.items() if k in keys}

    prints = fingerprints(groups, findings, store.status_frame(findings_frame(findings)), nb_path)
    write_assets(out)
    # Two agencies whose names clean up alike must not share a directory.
    used: dict[str, str] = {}
    todo: dict[str, str] = {}
    results: list[SheetResult] = []
    order: list[str] = []
    for key, (name, _rs) in groups.items():
        dn = safe_dirname(name)
        if dn in used and used[dn] != key:
            dn = safe_dirname(f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:8]}")
        used[dn] = key
        order.append(name)
        if not force and _unchanged(out / dn, prints[key]):
            d = out / dn
            results.append(SheetResult(name, d, True, 0.0, None, [d / SHEET_NOTEBOOK, d / SHEET_HTML, d / SHEET_XLSX], True))
        else:
            todo[key] = dn

    # Outside out_dir: a run killed midway leaves nothing there but finished sheets.
    cache, lock = _payload_folder()
    run_at = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        payloads = write_payloads(
            cache, reports_dir, {k: groups[k] for k in todo}, findings, corpus_frame(items, run.agencies)
        )
        pythonpath = str(Path(__file__).resolve().parent.parent)
        tasks = []
        for key, dn in todo.items():
            name = groups[key][0]
            d = out / dn
            params = {
                "agency": name,
                "years": None,
                "reports_dir": str(reports_dir),
                "review_db": str(db),
                "output_dir": str(d),
                "audit_cache": str(payloads[key]),
            }
            tasks.append(Task(name, str(d), str(nb_path), params, timeout, pythonpath, prints[key]))
        name = executor or ("dask" if scheduler else "local")
        runner = get_executor(name, jobs=jobs, scheduler=scheduler)
        bar = tqdm(total=len(tasks), desc="审计表", unit="个机关", file=sys.stderr, disable=not progress or not tasks)
        if tasks:
            for _t, res in runner.results(tasks, Shared(cache / PEERS_FILE, db)):
                results.append(res)
                if not res.ok:
                    bar.write(f"✗ {res.agency}: {res.error}")
                bar.set_postfix_str(res.agency[:20])
                bar.update()
        bar.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        lock.close()
    if progress and len(results) > len(todo):
        print(f"{len(results) - len(todo)} 个机关的审计表未变，保留（unchanged, kept）", file=sys.stderr)
    if results:
        from auditlib.index_page import update_index
        from auditlib.serving import dashboard_url

        update_index(out, _index_entries(out, results, groups, findings, run_at), dashboard_url())
    rank = {n: i for i, n in enumerate(order)}
    return sorted(results, key=lambda r: rank.get(r.agency, 0))
