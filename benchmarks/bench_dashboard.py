"""The dashboard in headless Chromium: first render, filters and agency switches, by corpus size,
and where the time goes (server, wire, browser).

The parse cache and the corpus summary are written first, as the batch (`scripts/run`)
leaves them, so the figures are the dashboard's own. Two ways to visit:

- preheated: `auditlib dashboard`'s default. Voilà keeps one kernel that has already
  started and run the whole notebook (summary loaded, charts and ranking built); at the
  visit it only re-reads what may have changed (review decisions, the summary's freshness)
  and sends the page. Measured once that kernel has gone quiet.
- cold: `auditlib dashboard --no-preheat`, or any visit while the pool is empty (a second
  visitor within seconds of the first): the kernel starts for the visit.

What is timed:

- first render: from the page request until every overview chart is drawn (no chart left
  with a figure waiting, see auditlib.chart_widget), the agencies × rules table, the
  filters and the ranking are shown;
- filter: from choosing a year (then none again) until the ranking and the agencies ×
  rules table show the new selection and every chart has redrawn;
- agency switch: from choosing an agency until its heading shows and its chart is drawn.

Targets (quiet machine): first render ≤ 2 s at 1,000 reports, ≤ 3 s at 10,000; a filter or
an agency switch ≤ 0.3 s.

The breakdown printed under each line: the server (request until the page's HTML is
complete, and the kernel's CPU seconds for the visit and for each filter, read from the
kernel process), the wire (bytes of HTML and over the kernel's websocket: widget state and
updates), the browser (plotly.js loaded, Plotly.react calls and their time, main-thread
script/layout/style time from Chromium's Performance metrics, the page's DOM size); and
`--cells`: the notebook's cells run in this process one by one, and a filter, timed.

Usage: python benchmarks/bench_dashboard.py [N ...] [--keep DIR] [--cells]   (default 1000 10000)
  --keep DIR   keep each corpus with its parse cache and summary in DIR/N and reuse it
               (the 10,000-report corpus takes minutes to parse the first time)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import agency_name, generate

from auditlib import dashboard as dash

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "dashboard.ipynb"

# The ranking's 发现 column, summed: it changes when a year filter does.
RANK_SUM = "() => [...document.querySelectorAll('.adash-rank tbody tr td:nth-child(7)')].reduce((a, td) => a + Number(td.innerText), 0)"
# Every chart on screen drawn, none waiting for its figure (data-drawn / data-pending: chart_widget).
CHARTS_DRAWN = ("(n) => document.querySelectorAll('.adash-chart[data-drawn]').length >= n"
                " && !document.querySelector('.adash-chart[data-pending]')")
# How many times each chart has been drawn; and: each of the first len(before) drawn again since.
DRAW_COUNTS = "() => [...document.querySelectorAll('.adash-chart')].map(e => Number(e.dataset.drawn || 0))"
REDRAWN = (f"(before) => {{ const now = ({DRAW_COUNTS})(); return before.every((n, i) => now[i] > n)"
           " && !document.querySelector('.adash-chart[data-pending]'); }")
OVERVIEW_CHARTS = 4  # severity, rules, volumes, outcomes; the agencies × rules table is HTML
HEAT = "() => (document.querySelector('.adash-heat') || {}).innerText"
DOM_SIZE = "() => document.querySelectorAll('*').length"
# Before the page's scripts: time plotly.js's arrival and every Plotly.react call, and count long tasks.
PROBE = r"""
window.__bench = {react: [], long: [], plotlyAt: null};
(() => {
  let P;
  Object.defineProperty(window, 'Plotly', {configurable: true, get() { return P; }, set(v) {
    P = v;
    window.__bench.plotlyAt = performance.now();
    const react = v.react;
    v.react = function (...a) {
      const rec = {t0: performance.now()};
      window.__bench.react.push(rec);
      const r = react.apply(this, a);
      Promise.resolve(r).then(() => { rec.t1 = performance.now(); });
      return r;
    };
  }});
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.long.push(e.duration); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) {}
})();
"""


def _kernel_cpu(srv: dash.Server) -> float:
    """CPU seconds used so far by the server's kernels (the ipykernel processes under it)."""
    import psutil

    total = 0.0
    for c in psutil.Process(srv.process.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(c.cmdline()):
                t = c.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _kernel_settled(srv: dash.Server, timeout: float = 600) -> None:
    """Until the preheated kernel exists and has been idle for two seconds (it then waits for a visitor)."""
    deadline = time.monotonic() + timeout
    last, quiet = None, None
    while time.monotonic() < deadline:
        cpu = _kernel_cpu(srv)
        if cpu and last is not None and cpu - last < 0.02:
            quiet = quiet or time.monotonic()
            if time.monotonic() - quiet > 2:
                return
        else:
            quiet = None
        last = cpu
        time.sleep(0.5)
    raise RuntimeError("the preheated kernel did not settle")


class Wire:
    """Bytes received over the page's websockets (the kernel's), with their times."""

    def __init__(self, page, t0: float) -> None:
        self.frames: list[tuple[float, int]] = []
        self.t0 = t0

        def on_ws(ws) -> None:
            ws.on("framereceived", lambda f: self.frames.append((time.monotonic(), len(f))))

        page.on("websocket", on_ws)

    def mark(self) -> int:
        return len(self.frames)

    def since(self, mark: int, t: float) -> tuple[int, int, float, float]:
        """(bytes, frames, first and last frame's seconds after t) of the frames since ``mark``."""
        fr = self.frames[mark:]
        if not fr:
            return 0, 0, 0.0, 0.0
        return sum(n for _, n in fr), len(fr), fr[0][0] - t, fr[-1][0] - t


def _metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def _browser_delta(m0: dict[str, float], m1: dict[str, float]) -> str:
    d = {k: m1.get(k, 0) - m0.get(k, 0) for k in ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration")}
    return (f"main thread {d['TaskDuration']:.2f} s (script {d['ScriptDuration']:.2f}, layout {d['LayoutDuration']:.2f}, "
            f"style {d['RecalcStyleDuration']:.2f})")


def _reacts(page, start: int) -> str:
    calls = page.evaluate("() => window.__bench.react")[start:]
    done = [c["t1"] - c["t0"] for c in calls if "t1" in c]
    if not calls:
        return "no Plotly.react"
    span = max(c.get("t1", c["t0"]) for c in calls) - min(c["t0"] for c in calls)
    return f"Plotly.react ×{len(calls)}: {sum(done) / 1000:.2f} s summed, {span / 1000:.2f} s first to last"


def visit(srv: dash.Server, names: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"switch": [], "filter": [], "notes": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(PROBE)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        external: list[str] = []
        page.on("request", lambda r: external.append(r.url) if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
                and urlsplit(r.url).hostname != "127.0.0.1" else None)
        cpu0 = _kernel_cpu(srv)
        t0 = time.monotonic()
        wire = Wire(page, t0)
        page.goto(srv.url, wait_until="commit", timeout=600_000)
        page.wait_for_selector(".widget-dropdown select", timeout=600_000)
        page.wait_for_selector(".adash-rank", timeout=600_000)
        page.wait_for_selector(".adash-heat tbody tr", timeout=600_000)
        page.wait_for_function(CHARTS_DRAWN, arg=OVERVIEW_CHARTS, timeout=600_000)
        out["first"] = time.monotonic() - t0
        if "model not found" in page.inner_text("body"):
            raise RuntimeError("the page shows 'Error displaying widget: model not found'")
        out["kernel_first"] = _kernel_cpu(srv) - cpu0
        nav = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
        res = page.evaluate("() => performance.getEntriesByType('resource').map(e => ({name: e.name, end: e.responseEnd, size: e.decodedBodySize}))")
        bench = page.evaluate("() => window.__bench")
        m = _metrics(cdp)
        ws_bytes, ws_frames, ws_first, _ = wire.since(0, t0)
        plotly_js = next((r for r in res if r["name"].endswith("plotly.min.js")), None)
        scripts = sum(r["size"] for r in res if r["name"].split("?")[0].endswith(".js"))
        out["notes"].append(
            f"server: HTML complete at {nav['responseEnd'] / 1000:.2f} s ({nav['decodedBodySize'] / 1024:.0f} KB, "
            f"first byte {nav['responseStart'] / 1000:.2f} s); kernel CPU for the visit {out['kernel_first']:.2f} s")
        out["notes"].append(
            f"wire: scripts {scripts / 1e6:.1f} MB (plotly.js {plotly_js['size'] / 1e6 if plotly_js else 0:.1f} MB, in at "
            f"{plotly_js['end'] / 1000 if plotly_js else 0:.2f} s); kernel websocket from {ws_first:.2f} s: "
            f"{ws_bytes / 1024:.0f} KB in {ws_frames} frames before the first render")
        out["notes"].append(
            f"browser: plotly.js ready at {(bench['plotlyAt'] or 0) / 1000:.2f} s; {_reacts(page, 0)}; "
            f"{_browser_delta({}, m)}; long tasks {sum(bench['long']) / 1000:.2f} s; "
            f"DOM {page.evaluate(DOM_SIZE)} elements")

        def record(kind: str, label: str, t1: float, mark: int, n_react: int, m0: dict, cpu: Callable[[], str] | None = None) -> None:
            """The action's time (to now), and its breakdown once the last frames and paints have landed:
            the kernel's CPU (``cpu()``, when given), its reply on the wire, the redraws, the main thread."""
            dt = time.monotonic() - t1
            out[kind].append(dt)
            page.wait_for_timeout(300)
            b, f, first, last = wire.since(mark, t1)
            out["notes"].append(
                f"{label} {dt:.2f} s: {cpu() if cpu else ''}reply {b / 1024:.0f} KB in {f} frames, "
                f"{first:.2f}–{last:.2f} s after the choice; {_reacts(page, n_react)}; {_browser_delta(m0, _metrics(cdp))}")

        # Filters: one year on, then off again.
        years = page.locator(".widget-select-multiple:has-text('年度') select")
        first_year = years.locator("option").first.inner_text()
        for choice in ([first_year], []):
            before = page.evaluate(RANK_SUM)
            heat = page.evaluate(HEAT)
            drawn = page.evaluate(DRAW_COUNTS)[:OVERVIEW_CHARTS]
            n_react = len(page.evaluate("() => window.__bench.react"))
            m0, mark, c0 = _metrics(cdp), wire.mark(), _kernel_cpu(srv)
            t1 = time.monotonic()
            years.select_option(choice)
            # A year changes the four overview charts, the agencies × rules table and the ranking.
            page.wait_for_function(f"() => ({RANK_SUM})() !== {before}", timeout=120_000)
            page.wait_for_function(f"(before) => ({HEAT})() !== before", arg=heat, timeout=120_000)
            page.wait_for_function(REDRAWN, arg=drawn, timeout=120_000)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            record("filter", f"filter {'year ' + first_year if choice else 'off'}", t1, mark, n_react, m0,
                   cpu=lambda c0=c0: f"kernel CPU {_kernel_cpu(srv) - c0:.2f} s; ")

        drill = page.locator(".widget-dropdown select").last
        for name in names:
            n_react = len(page.evaluate("() => window.__bench.react"))
            drill_drawn = page.evaluate(DRAW_COUNTS)[-1]
            m0, mark = _metrics(cdp), wire.mark()
            t1 = time.monotonic()
            drill.select_option(label=name)
            page.wait_for_selector(f"h3:has-text('{name}')", timeout=120_000)
            # The drill-down's chart (the page's last) drawn for this agency.
            page.wait_for_function(f"(n) => ({DRAW_COUNTS})().at(-1) > n && !document.querySelector('.adash-chart[data-pending]')",
                                   arg=drill_drawn, timeout=120_000)
            record("switch", "switch", t1, mark, n_react, m0)
        out["notes"].append(f"DOM after the switches {page.evaluate(DOM_SIZE)} elements")
        browser.close()
    if external:
        raise RuntimeError(f"the page fetched from outside the server: {external[:3]}")
    return out


def cells(reports: Path, db: Path) -> list[str]:
    """The notebook's code cells run here one by one (no kernel, no browser), then a year filter on and off."""
    env = {"AUDIT_REPORTS": str(reports), "AUDIT_DB": str(db)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    cwd = os.getcwd()
    ns: dict = {}
    lines = []
    try:
        os.chdir(NOTEBOOK.parent)
        for i, cell in enumerate(json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] != "code":
                continue
            src = "".join(line for line in cell["source"] if not line.startswith("display("))
            t = time.perf_counter()
            exec(compile(src, f"cell {i}", "exec"), ns)
            lines.append(f"cell {i} {time.perf_counter() - t:.3f} s")
        w_year = ns["w_year"]
        for choice in ((w_year.options[0],), ()):
            t = time.perf_counter()
            w_year.value = choice
            lines.append(f"filter {'on' if choice else 'off'} {time.perf_counter() - t:.3f} s")
    finally:
        os.chdir(cwd)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return lines


def bench(n: int, keep: Path | None = None, run_cells: bool = False) -> None:
    from auditlib import summary

    with tempfile.TemporaryDirectory() as tmp:
        d = (keep / str(n) if keep else Path(tmp)).resolve()
        reports = d / "in"
        if not (d / "in.complete").is_file():
            shutil.rmtree(reports, ignore_errors=True)
            generate(n, reports, years=3)
            (d / "in.complete").touch()
        os.environ["AUDITLIB_CACHE"] = str(d / "cache")
        t = time.perf_counter()
        summary.load_or_build(reports)
        batch = time.perf_counter() - t
        if run_cells:
            print(f"N={n:>6}  notebook in-process: " + " · ".join(cells(reports, d / "audit.db")), flush=True)
        names = [agency_name(i) for i in (1, 2, 3)]
        for preheat in (True, False):
            srv = dash.serve(reports, d / "audit.db", quiet=True, preheat=preheat)
            try:
                srv.wait(120)
                if preheat:
                    _kernel_settled(srv)
                load = os.getloadavg()[0]
                got = visit(srv, names)
            finally:
                srv.stop()
            print(
                f"N={n:>6}  {'preheated' if preheat else 'cold':>9}  first render {got['first']:5.2f} s   "
                f"agency switch {min(got['switch']):.2f}–{max(got['switch']):.2f} s   "
                f"filter {min(got['filter']):.2f}–{max(got['filter']):.2f} s   "
                f"(load {load:.1f}→{os.getloadavg()[0]:.1f}; summary ready in {batch:.1f} s)",
                flush=True,
            )
            for note in got["notes"]:
                print("    " + note, flush=True)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    ap.add_argument("--keep", type=Path, help="keep the corpora (and their parse cache) in DIR/N and reuse them")
    ap.add_argument("--cells", action="store_true", help="also time the notebook's cells and a filter in this process")
    a = ap.parse_args()
    for size in a.sizes:
        bench(size, a.keep, a.cells)
