"""The dashboard's kernels under load: memory after many visits, many visitors at once.

Against a real Voilà server on loopback (`auditlib.dashboard.serve`), with plain HTTP
visits: a visit is a GET of the page, which runs the notebook in a kernel of its own and
returns it; the visitor then goes away without a word (no websocket, no unload beacon), the
worst case for the server, which must cull the kernel once idle.

- sequential: N visits one after the other; the server's memory (the server and every
  kernel under it) before, after the visits, and once the idle kernels are culled.
- concurrent: N visitors at once against a bound of K kernels: how many were served, how
  many failed, the most kernels seen at once, and how long the last visitor waited.

Every loop is bounded (timeouts on each request and on each wait).

Usage: python benchmarks/bench_kernels.py [--visits 20] [--max-kernels 16] [--cull-idle 10]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from auditlib import dashboard as dash

REPORTS = Path(__file__).resolve().parent.parent / "reports_in"


def kernels(srv: dash.Server) -> list[psutil.Process]:
    try:
        children = psutil.Process(srv.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for c in children:
        try:
            if "ipykernel" in " ".join(c.cmdline()):
                out.append(c)
        except psutil.Error:
            pass
    return out


def rss_mb(srv: dash.Server) -> float:
    """Resident memory of the server and everything under it, in MB."""
    total = 0
    procs = [psutil.Process(srv.process.pid)]
    procs += procs[0].children(recursive=True)
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def visit(url: str, timeout: float = 600) -> tuple[bool, str]:
    """One visitor: GET the page; (served, why not)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read().decode("utf-8", "replace")
            if resp.status != 200:
                return False, f"HTTP {resp.status}"
    except Exception as exc:  # a refused or failed visit is the figure, not a crash
        return False, f"{type(exc).__name__}: {exc}"
    if '"output_type": "error"' in body or "application/vnd.jupyter.widget-view+json" not in body:
        return False, "the page carries an error or no widgets"
    return True, ""


def wait_for_kernels(srv: dash.Server, at_most: int, timeout: float) -> float:
    """Seconds until at most ``at_most`` kernels run (bounded by ``timeout``; raises past it)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if len(kernels(srv)) <= at_most:
            return time.monotonic() - t0
        time.sleep(0.5)
    raise TimeoutError(f"still {len(kernels(srv))} kernels after {timeout:.0f} s")


class Peak:
    """The most kernels seen at once, sampled in a thread while a block runs."""

    def __init__(self, srv: dash.Server) -> None:
        self.srv, self.value, self._stop = srv, 0, threading.Event()

    def __enter__(self) -> Peak:
        def run() -> None:
            while not self._stop.is_set():
                self.value = max(self.value, len(kernels(self.srv)))
                time.sleep(0.2)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def concurrent(srv: dash.Server, n: int) -> tuple[int, list[str], float]:
    """n visitors at once: (served, failures, seconds until the last was served)."""
    t0 = time.monotonic()
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda _: visit(srv.url), range(n)))
    return sum(ok for ok, _ in results), [why for ok, why in results if not ok], time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=20)
    ap.add_argument("--max-kernels", type=int, default=dash.MAX_KERNELS)
    ap.add_argument("--cull-idle", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        srv = dash.serve(REPORTS, Path(d) / "audit.db", quiet=True, preheat=False, max_kernels=args.max_kernels,
                         cull_idle=args.cull_idle, cull_interval=2)
        try:
            srv.wait(120)
            time.sleep(2)
            base = rss_mb(srv)
            t0 = time.monotonic()
            for _ in range(args.visits):
                ok, why = visit(srv.url)
                if not ok:
                    print("visit failed:", why)
            seq = time.monotonic() - t0
            after = rss_mb(srv)
            n_after = len(kernels(srv))
            culled = wait_for_kernels(srv, 0, args.cull_idle + 120)
            time.sleep(1)
            settled = rss_mb(srv)
            print(f"sequential: {args.visits} visits in {seq:.0f} s; server memory {base:.0f} MB before, "
                  f"{after:.0f} MB after ({n_after} kernels), {settled:.0f} MB once culled "
                  f"({culled:.0f} s after the last visit, cull_idle={args.cull_idle} s)", flush=True)
            with Peak(srv) as peak:
                served, failed, took = concurrent(srv, args.visits)
            print(f"concurrent: {args.visits} visitors at once, max_kernels={args.max_kernels}: {served} served, "
                  f"{len(failed)} failed, at most {peak.value} kernels at once, the last served after {took:.0f} s",
                  flush=True)
            for why in sorted(set(failed)):
                print("   ", why)
            wait_for_kernels(srv, 0, args.cull_idle + 120)
            print(f"after the visitors: {rss_mb(srv):.0f} MB", flush=True)
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
