"""Audit sheets: one executed notebook, static HTML page and Excel workbook per agency.

:func:`run_sheets` parses and audits the whole folder once, records the findings
in the review database, then runs ``notebooks/audit_sheet.ipynb`` through
papermill once per agency, several at a time. The helpers above it (which
reports belong to an agency, the charts) are what the notebook shows; the styled
tables and highlighted text it shares with the stepper live in :mod:`auditlib.view`.

Report text is untrusted. Everything shown as HTML is escaped with
:func:`html.escape` (or pandas' ``escape="html"``) before any markup is added.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
import shutil
import signal
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from auditlib.agencies import agency_key, resolve
from auditlib.excel import atomic_path
from auditlib.index_page import SHEET_HTML, SHEET_NOTEBOOK, SHEET_XLSX
from auditlib.layouts import OUTCOMES
from auditlib.report import Report

if TYPE_CHECKING:
    from auditlib.corpus import Unreadable
    from auditlib.findings import Finding
    from auditlib.pipeline import Audited
from auditlib.view import number

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


# ================================================================= figures
def outcome_frame(reports: Iterable[Report]) -> pd.DataFrame:
    """表三 results (总计 column) grouped as 予以公开 … 其他处理: year, source, group, count."""
    rows = []
    for r in reports:
        pt = r.tables["table3"]
        sums: dict[str, float] = dict.fromkeys(OUTCOMES, 0.0)
        for row in pt.layout.rows:
            g = row.outcome
            v = number(pt.get(row.key, "total"))
            if g and v is not None:
                sums[g] += v
        for g, v in sums.items():
            rows.append({"year": r.meta.year, "source": r.source, "group": g, "count": v})
    return pd.DataFrame(rows, columns=["year", "source", "group", "count"])


YEARLY_FIGURES = {
    ("table3", "new_received", "total"): "本年新收申请",
    ("table3", "carried_over", "total"): "上年结转",
    ("table3", "total_handled", "total"): "办理总计",
    ("table3", "carried_forward", "total"): "结转下年度",
    ("table4", "review", "total"): "行政复议",
    ("table4", "litigation_direct", "total"): "行政诉讼（直接起诉）",
    ("table4", "litigation_after_review", "total"): "行政诉讼（复议后起诉）",
}


def yearly_frame(reports: Iterable[Report]) -> pd.DataFrame:
    rows = []
    for r in reports:
        for (t, rk, ck), name in YEARLY_FIGURES.items():
            rows.append({"year": r.meta.year, "figure": name, "value": number(r.value(t, rk, ck))})
    return pd.DataFrame(rows, columns=["year", "figure", "value"])


def corpus_frame(items: Iterable[Report | Unreadable], agencies: dict[str, str] | None = None) -> pd.DataFrame:
    """Per report of the corpus: requests received and the share not granted (``agencies``: the run's names)."""
    reports = _reports(items)
    canon = agencies if agencies is not None else resolve(r.meta.agency for r in reports)
    rows = []
    for r in reports:
        received = number(r.value("table3", "new_received", "total"))
        handled = number(r.value("table3", "total_handled", "total"))
        granted = sum(
            v for v in (number(r.value("table3", k, "total")) for k in ("granted", "partially_granted")) if v is not None
        )
        share = 1 - granted / handled if handled else None
        rows.append(
            {
                "agency": r.meta.agency,
                "key": canon.get(r.meta.agency or "", ""),
                "year": r.meta.year,
                "received": received,
                "handled": handled,
                "share_not_granted": share,
            }
        )
    return pd.DataFrame(rows, columns=["agency", "key", "year", "received", "handled", "share_not_granted"])


def _plain(s: Any) -> str:
    """Labels for plotly, which renders some HTML tags in text: keep them inert."""
    return str(s).replace("<", "‹").replace(">", "›") if s is not None else ""


def outcome_chart(reports: Sequence[Report]) -> Any:
    import plotly.express as px

    df = outcome_frame(reports)
    df["年度"] = df["year"].map(lambda y: f"{y}年度" if y else "未知年度")
    fig = px.bar(
        df,
        x="年度",
        y="count",
        color="group",
        category_orders={"group": list(OUTCOMES)},
        labels={"count": "件数", "group": "办理结果"},
        title="依申请公开办理结果构成（表三 总计列）",
        text_auto=True,
    )
    fig.update_layout(barmode="stack", height=420, legend_title_text="办理结果")
    return fig


def yearly_chart(reports: Sequence[Report]) -> Any:
    import plotly.express as px

    df = yearly_frame(reports).dropna(subset=["value"])
    df["年度"] = df["year"].map(lambda y: f"{y}")
    fig = px.line(
        df,
        x="年度",
        y="value",
        color="figure",
        markers=True,
        labels={"value": "件数", "figure": "指标"},
        title="逐年对比",
    )
    fig.update_layout(height=420, xaxis_type="category")
    return fig


def peer_chart(peers: pd.DataFrame | Iterable[Report | Unreadable], agency: str, key: str | None = None) -> Any:
    """The agency's reports against every other report audited (``peers``: :func:`corpus_frame`, or the reports).

    ``key`` is the agency's canonical name when the run knows it already.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    df = peers.copy() if isinstance(peers, pd.DataFrame) else corpus_frame(peers)
    if key is None:
        # A report whose agency was not found has no name (None, or NaN once in a frame).
        key = resolve([*(a for a in df["agency"] if isinstance(a, str) and a), agency]).get(agency, agency_key(agency))
    df["mine"] = df["key"] == key
    df["label"] = [
        f"{_plain(a) if isinstance(a, str) and a else '（未知机关）'} {int(y) if number(y) is not None else ''}"
        for a, y in zip(df["agency"], df["year"], strict=True)
    ]
    df = df.sort_values("received", ascending=False, na_position="last")
    colors = ["#C00000" if m else "#9DC3E6" for m in df["mine"]]
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("本年新收申请（件）", "未予公开比例（办理总计中非予以公开、部分公开）")
    )
    fig.add_trace(go.Bar(x=df["label"], y=df["received"], marker_color=colors, name="本年新收"), row=1, col=1)
    df2 = df.sort_values("share_not_granted", ascending=False, na_position="last")
    colors2 = ["#C00000" if m else "#9DC3E6" for m in df2["mine"]]
    fig.add_trace(
        go.Bar(x=df2["label"], y=df2["share_not_granted"], marker_color=colors2, name="未予公开比例"),
        row=1,
        col=2,
    )
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig.update_layout(
        height=460,
        showlegend=False,
        title=f"与其他机关比较（红色为{_plain(agency)}，共 {len(df)} 份报告）",
    )
    return fig


def setup_plotly() -> str:
    """Make figures show both in JupyterLab and in the static HTML, with no internet.

    Plotly's ``notebook`` renderer embeds plotly.js once, but every figure also
    pulls MathJax from a CDN, which stalls an offline page. This renderer is
    the same without MathJax, and also carries the plotly mime type that
    JupyterLab renders itself (an executed notebook is untrusted there, so
    its scripts would not run).
    """
    import plotly.io as pio

    name = "auditlib"
    if name not in pio.renderers:
        try:
            from plotly.io._base_renderers import NotebookRenderer
        except ImportError:  # a plotly without the class: its stock renderer still embeds plotly.js
            pio.renderers.default = "notebook"
            return "notebook"

        class OfflineNotebookRenderer(NotebookRenderer):  # type: ignore[misc]
            def to_mimebundle(self, fig_dict: dict) -> dict:
                from plotly.io import to_html, to_json

                body = to_html(
                    fig_dict,
                    config=self.config,
                    include_plotlyjs=False,
                    include_mathjax=False,
                    full_html=False,
                    default_width="100%",
                    default_height=525,
                    validate=False,
                )
                # Through plotly's own JSON encoder: figures may hold numpy arrays.
                data = json.loads(to_json({k: fig_dict.get(k) for k in ("data", "layout")}, validate=False))
                return {"text/html": body, "application/vnd.plotly.v1+json": data}

        pio.renderers[name] = OfflineNotebookRenderer()
    pio.renderers.default = name
    return name


# ================================================================= safe names
_WIN_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
# Braces too: papermill formats its paths with str.format, and a name is no format string.
_UNSAFE = re.compile(r'[/\\:*?"<>|{}]')


def safe_dirname(name: str, max_bytes: int = 120) -> str:
    """A directory name for ``name`` that stays inside its parent on any file system.

    No path separators, no ``..``, no control or invisible format characters
    (bidi overrides would disguise a name), no leading dot or dash, no Windows
    device names, and at most ``max_bytes`` bytes of UTF-8 (Chinese takes 3 a
    character; file systems allow 255). A shortened name gets a hash of the
    whole so that two long names stay apart.
    """
    s = "".join("_" if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in str(name))
    s = _UNSAFE.sub("_", s)
    s = re.sub(r"\.{2,}", ".", s)
    s = re.sub(r"\s+", " ", s).strip(" ._-")
    if not s:
        s = "_"
    if s.split(".")[0].upper() in _WIN_RESERVED:
        s = "_" + s
    if len(s.encode("utf-8")) > max_bytes:
        tag = "-" + hashlib.sha1(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
        budget = max_bytes - len(tag)
        cut = s.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" ._-")
        s = (cut or "_") + tag
    return s


# ================================================================= HTML export
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def export_html(nb: Any) -> str:
    """The executed notebook as a static page: outputs only, nothing fetched from the internet."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"auditsheet.html.j2": _TEMPLATE})],
        template_file="auditsheet.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


# ================================================================= the runner
@dataclass
class SheetResult:
    agency: str
    directory: Path
    ok: bool
    seconds: float = 0.0
    error: str | None = None
    files: list[Path] = field(default_factory=list)


@dataclass
class _Task:
    agency: str
    directory: str
    notebook: str
    parameters: dict[str, Any]
    timeout: int
    pythonpath: str


def _clean_stale(directory: Path, older_than: float = 6 * 3600) -> None:
    """Temporary files left by a killed run (never those of a run still going)."""
    now = time.time()
    for p in directory.glob(".*.tmp*"):
        with contextlib.suppress(OSError):
            if now - p.stat().st_mtime > older_than:
                p.unlink()


def _run_one(task: _Task) -> SheetResult:
    d = Path(task.directory)
    d.mkdir(parents=True, exist_ok=True)
    _clean_stale(d)
    # The kernel is a child of this process: it must import this auditlib.
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if task.pythonpath not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([task.pythonpath, *paths])
    t0 = time.perf_counter()
    final_nb = d / SHEET_NOTEBOOK
    # The kernel inherits this worker's stderr; its chatter would tear through
    # the progress bar, so it goes to a log that is kept only if it failed.
    log = d / f".kernel.{os.getpid()}.tmp.log"
    saved = os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        return _execute(task, d, final_nb, log, t0)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        with contextlib.suppress(FileNotFoundError):
            log.unlink()


# Kernels started side by side from separate processes now and then die before
# answering (each picks free ports on its own, and two can pick the same one);
# nothing has run yet then, so starting again is safe.
_START_ATTEMPTS = 3


def _literal(path: str) -> str:
    """``path`` as papermill's ``str.format`` gives it back: never a template to fill in."""
    return path.replace("{", "{{").replace("}", "}}")


def _failed_to_start(exc: BaseException) -> bool:
    if getattr(exc, "ename", None):  # an error raised by a cell: the notebook ran
        return False
    text = str(exc)
    return "before replying to kernel_info" in text or ("kernel" in text.lower() and isinstance(exc, TimeoutError))


def _execute(task: _Task, d: Path, final_nb: Path, log: Path, t0: float) -> SheetResult:
    import nbformat
    import papermill as pm

    try:
        with atomic_path(final_nb, suffix=".tmp.ipynb") as tmp:
            try:
                for attempt in range(_START_ATTEMPTS):
                    try:
                        pm.execute_notebook(
                            _literal(task.notebook),
                            _literal(str(tmp)),
                            parameters=task.parameters,
                            progress_bar=False,
                            log_output=False,
                            cwd=str(d),
                            execution_timeout=task.timeout,
                            start_timeout=120,
                            # Written once at the end (or with the error), not at every cell's start and
                            # end: after the first chart the notebook carries plotly.js, 5 MB per save.
                            request_save_on_cell_execute=False,
                        )
                        break
                    except Exception as exc:
                        if attempt + 1 == _START_ATTEMPTS or not _failed_to_start(exc):
                            raise
            except BaseException:
                # Keep the executed notebook with the error in it, under its own name.
                if tmp.exists() and tmp.stat().st_size:
                    with contextlib.suppress(OSError):
                        os.replace(tmp, d / "audit_sheet.failed.ipynb")
                raise
            nb = nbformat.read(str(tmp), as_version=4)
            body = export_html(nb)
            with atomic_path(d / SHEET_HTML) as htmp:
                htmp.write_text(body, encoding="utf-8")
    except Exception as exc:
        ename = getattr(exc, "ename", None)
        evalue = getattr(exc, "evalue", None)
        msg = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
        detail = msg
        if not ename:  # not an error in a cell: the kernel's own words may say why
            with contextlib.suppress(OSError):
                detail += "\n\n--- kernel stderr ---\n" + log.read_text("utf-8", "replace")[-4000:]
        with contextlib.suppress(OSError), atomic_path(d / "error.txt") as etmp:
            etmp.write_text(detail + "\n", encoding="utf-8")
        return SheetResult(task.agency, d, False, time.perf_counter() - t0, msg)
    for stale in (d / "error.txt", d / "audit_sheet.failed.ipynb"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    files = [p for p in (final_nb, d / SHEET_HTML, d / SHEET_XLSX) if p.exists()]
    return SheetResult(task.agency, d, True, time.perf_counter() - t0, None, files)


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


def _run_remote(
    task: _Task, payload_bytes: bytes, peers_bytes: bytes, db_bytes: bytes | None
) -> tuple[SheetResult, dict[str, bytes]]:
    """One sheet on a cluster worker that may share no disk with us: the inputs travel
    with the task, the outputs come back as bytes, and the caller writes them."""
    with tempfile.TemporaryDirectory(prefix="auditlib-sheet-") as tmp:
        root = Path(tmp)
        cache = root / "audit_cache.pkl"
        cache.write_bytes(payload_bytes)
        (root / PEERS_FILE).write_bytes(peers_bytes)
        params = dict(task.parameters, audit_cache=str(cache), output_dir=str(root / "out"))
        if db_bytes is not None:
            (root / "audit.db").write_bytes(db_bytes)
            params["review_db"] = str(root / "audit.db")
        local = _Task(task.agency, str(root / "out"), task.notebook, params, task.timeout, task.pythonpath)
        res = _run_one(local)
        files = {p.name: p.read_bytes() for p in (root / "out").iterdir() if p.is_file() and not p.name.startswith(".")}
    return SheetResult(task.agency, Path(task.directory), res.ok, res.seconds, res.error), files


def _db_snapshot(db: Path) -> bytes | None:
    """A consistent copy of the review database (WAL included) to ship to workers."""
    import sqlite3

    if not db.exists():
        return None
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / "snap.db"
        src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return copy.read_bytes()


def _dask_results(scheduler: str, tasks: list[_Task], cache: Path, db: Path) -> Iterable[tuple[_Task, SheetResult]]:
    from distributed import Client, as_completed

    db_bytes = _db_snapshot(db)
    with Client(scheduler) as client:
        # The shared inputs go once to each worker; each agency's own file goes with its task.
        peers_f = client.scatter((cache / PEERS_FILE).read_bytes(), broadcast=True)
        db_f = client.scatter(db_bytes, broadcast=True)
        futures = {
            client.submit(
                _run_remote, t, Path(t.parameters["audit_cache"]).read_bytes(), peers_f, db_f, pure=False, key=f"sheet-{i}"
            ): t
            for i, t in enumerate(tasks)
        }
        for fut in as_completed(futures):
            t = futures[fut]
            try:
                res, files = fut.result()
            except Exception as exc:
                yield t, SheetResult(t.agency, Path(t.directory), False, 0.0, f"{type(exc).__name__}: {exc}")
                continue
            d = Path(t.directory)
            d.mkdir(parents=True, exist_ok=True)
            for name, data in files.items():
                with atomic_path(d / safe_dirname(name)) as tmp:
                    tmp.write_bytes(data)
            if res.ok:
                for stale in ("error.txt", "audit_sheet.failed.ipynb"):
                    with contextlib.suppress(FileNotFoundError):
                        (d / stale).unlink()
            res.files = [d / n for n in (SHEET_NOTEBOOK, SHEET_HTML, SHEET_XLSX) if (d / n).exists()]
            yield t, res


def _worker_init() -> None:
    from auditlib.budget import die_with_parent

    # SIGTERM raised as SystemExit, not SIGKILL: papermill's kernel manager then
    # shuts its kernel down on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    die_with_parent(signal.SIGTERM)


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


def _local_results(jobs: int | None, tasks: list[_Task]) -> Iterable[tuple[_Task, SheetResult]]:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks) or 1))
    # spawn: a forked copy of this process (threads, open sockets) is no
    # place to start Jupyter kernels from.
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_init
    ) as pool:
        futures = {pool.submit(_run_one, t): t for t in tasks}
        for fut in as_completed(futures):
            t = futures[fut]
            try:
                yield t, fut.result()
            except Exception as exc:  # the worker itself died
                yield t, SheetResult(t.agency, Path(t.directory), False, 0.0, f"{type(exc).__name__}: {exc}")


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
) -> list[SheetResult]:
    """Run the audit sheet for every agency of ``reports_dir`` (or only ``agencies``).

    Each agency gets ``out_dir/<safe name>/`` with the executed notebook, a
    static HTML page and ``findings.xlsx``. A failing agency is reported in its
    result (and ``error.txt``); the others go on. With ``scheduler`` (a Dask
    distributed address such as ``tcp://10.0.0.5:8786``) the sheets run on that
    cluster and their files are gathered back into ``out_dir``.
    """
    from tqdm import tqdm

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
    ReviewStore(db).sync(findings, sources=[i.source for i in items])

    groups = agency_groups(items, run.agencies)
    in_groups = sum(len(rs) for _, rs in groups.values())
    if progress and len(items) > in_groups:
        print(f"跳过 {len(items) - in_groups} 份文件：无法读取或找不到报告机关（no sheet for them）", file=sys.stderr)
    if agencies is not None:
        wanted = list(agencies)
        canon = resolve([*(r.meta.agency for r in _reports(items)), *wanted])
        keys = {canon.get(a, agency_key(a)) for a in wanted}
        groups = {k: v for k, v in groups.items() if k in keys}

    # Two agencies whose names clean up alike must not share a directory.
    used: dict[str, str] = {}
    tasks: list[_Task] = []
    # Outside out_dir: a run killed midway leaves nothing there but finished sheets.
    cache, lock = _payload_folder()
    payloads = write_payloads(cache, reports_dir, groups, findings, corpus_frame(items, run.agencies))
    pythonpath = str(Path(__file__).resolve().parent.parent)
    for key, (name, _rs) in groups.items():
        dn = safe_dirname(name)
        if dn in used and used[dn] != key:
            dn = safe_dirname(f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:8]}")
        used[dn] = key
        d = out / dn
        tasks.append(
            _Task(
                agency=name,
                directory=str(d),
                notebook=str(nb_path),
                parameters={
                    "agency": name,
                    "years": None,
                    "reports_dir": str(reports_dir),
                    "review_db": str(db),
                    "output_dir": str(d),
                    "audit_cache": str(payloads[key]),
                },
                timeout=timeout,
                pythonpath=pythonpath,
            )
        )

    results: list[SheetResult] = []
    run_at = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        bar = tqdm(total=len(tasks), desc="审计表", unit="个机关", file=sys.stderr, disable=not progress)
        stream = _dask_results(scheduler, tasks, cache, db) if scheduler else _local_results(jobs, tasks)
        for _t, res in stream:
            results.append(res)
            if not res.ok:
                bar.write(f"✗ {res.agency}: {res.error}")
            bar.set_postfix_str(res.agency[:20])
            bar.update()
        bar.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        lock.close()
    if results:
        from auditlib.dashboard import DEFAULT_PORT
        from auditlib.index_page import update_index

        update_index(out, _index_entries(out, results, groups, findings, run_at), f"http://127.0.0.1:{DEFAULT_PORT}/")
    order = {t.agency: i for i, t in enumerate(tasks)}
    return sorted(results, key=lambda r: order.get(r.agency, 0))
