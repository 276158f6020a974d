"""The dashboard in headless Chromium: time to first render and to switch agency, by corpus size.

The parse cache and the corpus summary are written first, as the batch (`scripts/run`)
leaves them, so the figures are the dashboard's own. Two ways to visit:

- preheated: `auditlib dashboard`'s default. Voilà keeps one kernel that has already
  started, imported and loaded the summary; the visit reads review decisions, draws the
  figures and sends the page. Measured after the server has had time to fill its pool.
- cold: `auditlib dashboard --no-preheat`, or any visit while the pool is empty (a second
  visitor within seconds of the first): the kernel starts for the visit.

Targets (quiet machine): first render ≤ 2 s at 1,000 reports, ≤ 3 s at 10,000; a filter or
an agency switch ≤ 0.3 s. A filter is timed until the ranking, drawn last, shows it.

Usage: python benchmarks/bench_dashboard.py [N ...]   (default 1000 10000)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import agency_name, generate

from auditlib import dashboard as dash

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Time for Voilà to start its pool kernel and run it up to the wait for a visitor.
SETTLE = float(os.environ.get("BENCH_SETTLE", "20"))


# The ranking's 发现 column, summed: it is redrawn last when a filter changes.
RANK_SUM = "() => [...document.querySelectorAll('.adash-rank tbody tr td:nth-child(7)')].reduce((a, td) => a + Number(td.innerText), 0)"


def visit(url: str, names: list[str]) -> tuple[float, list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        external: list[str] = []
        page.on("request", lambda r: external.append(r.url) if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
                and urlsplit(r.url).hostname != "127.0.0.1" else None)
        t0 = time.monotonic()
        page.goto(url, wait_until="commit", timeout=600_000)
        page.wait_for_selector(".js-plotly-plot", timeout=600_000)
        page.wait_for_selector(".widget-dropdown select", timeout=600_000)
        first = time.monotonic() - t0
        if "model not found" in page.inner_text("body"):
            raise RuntimeError("the page shows 'Error displaying widget: model not found'")
        page.wait_for_selector(".adash-rank", timeout=600_000)
        # Filters: one year on, then off again; timed until the ranking (drawn last) shows it.
        filters = []
        years = page.locator(".widget-select-multiple:has-text('年度') select")
        first_year = years.locator("option").first.inner_text()
        for choice in ([first_year], []):
            before = page.evaluate(RANK_SUM)
            t1 = time.monotonic()
            years.select_option(choice)
            page.wait_for_function(f"() => ({RANK_SUM})() !== {before}", timeout=120_000)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            filters.append(time.monotonic() - t1)
        drill = page.locator(".widget-dropdown select").last
        switches = []
        for name in names:
            t1 = time.monotonic()
            drill.select_option(label=name)
            page.wait_for_selector(f"h3:has-text('{name}')", timeout=120_000)
            switches.append(time.monotonic() - t1)
        browser.close()
    if external:
        raise RuntimeError(f"the page fetched from outside the server: {external[:3]}")
    return first, switches, filters


def bench(n: int) -> None:
    from auditlib import summary

    with tempfile.TemporaryDirectory() as d:
        reports = Path(d) / "in"
        generate(n, reports, years=3)
        os.environ["AUDITLIB_CACHE"] = str(Path(d) / "cache")
        t = time.perf_counter()
        summary.load_or_build(reports)
        batch = time.perf_counter() - t
        names = [agency_name(i) for i in (1, 2, 3)]
        for preheat in (True, False):
            srv = dash.serve(reports, Path(d) / "audit.db", quiet=True, preheat=preheat)
            try:
                srv.wait(120)
                if preheat:
                    time.sleep(SETTLE)
                first, switches, filters = visit(srv.url, names)
            finally:
                srv.stop()
            print(
                f"N={n:>6}  {'preheated' if preheat else 'cold':>9}  first render {first:5.1f} s   "
                f"agency switch {min(switches):.2f}–{max(switches):.2f} s   filter {min(filters):.2f}–{max(filters):.2f} s   "
                f"(batch parse+audit+summary {batch:.1f} s)",
                flush=True,
            )


if __name__ == "__main__":
    for n in map(int, sys.argv[1:] or ["1000", "10000"]):
        bench(n)
