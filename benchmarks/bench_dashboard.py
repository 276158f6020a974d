"""The dashboard in headless Chromium: time to first render and to switch agency, by corpus size.

The parse cache is warmed first, as `scripts/run` (the batch) leaves it, so the
figures are the dashboard's own. Usage: python benchmarks/bench_dashboard.py [N ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import agency_name, generate

from auditlib import dashboard as dash
from auditlib import load_reports

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def bench(n: int) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as d:
        reports = Path(d) / "in"
        generate(n, reports, years=3)
        os.environ["AUDITLIB_CACHE"] = str(Path(d) / "cache")
        t = time.perf_counter()
        load_reports(reports)
        warm = time.perf_counter() - t
        srv = dash.serve(reports, Path(d) / "audit.db", quiet=True)
        try:
            srv.wait(120)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.route("https://cdn.jsdelivr.net/**", lambda r: r.fulfill(status=200, content_type="text/css", body=""))
                t0 = time.monotonic()
                page.goto(srv.url, wait_until="commit", timeout=600_000)
                page.wait_for_selector(".js-plotly-plot", timeout=600_000)
                page.wait_for_selector(".widget-dropdown select", timeout=600_000)
                first = time.monotonic() - t0
                drill = page.locator(".widget-dropdown select").last
                switches = []
                for i in (1, 2, 3):
                    name = agency_name(i)
                    t1 = time.monotonic()
                    drill.select_option(label=name)
                    page.wait_for_selector(f"h3:has-text('{name}')", timeout=120_000)
                    switches.append(time.monotonic() - t1)
                browser.close()
        finally:
            srv.stop()
    print(
        f"N={n:>6}  parse cache warmed in {warm:5.1f} s   first render {first:5.1f} s   "
        f"agency switch {min(switches):.2f}–{max(switches):.2f} s"
    )


if __name__ == "__main__":
    for n in map(int, sys.argv[1:] or ["1000", "10000"]):
        bench(n)
