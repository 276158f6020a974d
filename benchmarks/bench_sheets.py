"""Audit sheets at scale: sheets per minute and bytes per agency, beside the floor.

    .venv/bin/python benchmarks/bench_sheets.py [--agencies 100 1000 3334] [--jobs 2] [--keep DIR]
    .venv/bin/python benchmarks/bench_sheets.py --parent-only --agencies 1000 3334

For each size N a corpus of 3·N reports (N agencies, three years each) is made
with benchmarks/generate.py, parsed and audited once (the parse cache warm, as
on a second run), then ``run_sheets(..., jobs=J, force=True)`` writes every
sheet (executed notebook, HTML, Excel). Printed per size:
  * wall time of the batch, sheets per minute, seconds per sheet;
  * bytes per agency (its folder) and the outputs folder's shared files
    (plotly.min.js, the style sheet) once;
  * the largest resident memory of one worker process (kernels included: their
    own peak as children is counted by the kernel watcher below);
  * a re-run with nothing changed, and one after a single report changed
    (how many sheets were rendered again);
  * the load average before and after (the machine is shared).
With --parent-only, only the runner's own work (no kernels) per agency, to show
that it grows linearly with the number of agencies.
The floor: the same sheet notebook executed again and again in one already warm
kernel (no process pool, no index, no scheduling), seconds per sheet; J workers
at best reach J sheets in that time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _folder_bytes(d: Path) -> int:
    return sum(p.stat().st_size for p in d.rglob("*") if p.is_file())


def _ours(pid: str) -> bool:
    """A descendant of this benchmark (a worker's kernel), not another user's."""
    me = str(os.getpid())
    for _ in range(4):
        pid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        if pid == me:
            return True
        if pid in ("0", "1"):
            return False
    return False


class KernelPeak(threading.Thread):
    """The largest resident memory of any one ipykernel process while the batch runs (from /proc)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"ipykernel" not in cmd or not _ours(pid):
                        continue
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    continue


def floor(reports: Path, repeat: int) -> float:
    """Seconds per sheet in one warm kernel: the sheet notebook run ``repeat`` times after a first, discarded run."""
    from auditlib import kernels
    from auditlib.charts import corpus_frame
    from auditlib.render import Task, render
    from auditlib.sheets import NOTEBOOK, agency_groups, prepare_audit, write_payloads

    run = prepare_audit(reports)
    groups = agency_groups(run.items, run.agencies)
    keys = list(groups)[: repeat + 1]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        payloads = write_payloads(tmp / "p", reports, {k: groups[k] for k in keys}, run.findings, corpus_frame(run.items))
        times = []
        for i, k in enumerate(keys):
            d = tmp / f"s{i}"
            params = {
                "agency": groups[k][0],
                "years": None,
                "reports_dir": str(reports),
                "review_db": None,
                "output_dir": str(d),
                "audit_cache": str(payloads[k]),
            }
            res = render(Task(groups[k][0], str(d), str(NOTEBOOK), params, 900, str(ROOT)))
            assert res.ok, res.error
            if i:
                times.append(res.seconds)
        kernels.shutdown_all()
    return statistics.median(times)


def one_size(n: int, jobs: int, work: Path) -> None:
    from auditlib.sheets import prepare_audit, run_sheets

    reports = work / f"corpus-{n}"
    if not reports.exists():
        generate(3 * n, reports)
    t0 = time.perf_counter()
    prepare_audit(reports)  # fills the parse cache: the figures below are the sheets, not first parsing
    t_parse = time.perf_counter() - t0
    out = work / f"out-{n}"
    shutil.rmtree(out, ignore_errors=True)
    load0 = _load()
    watch = KernelPeak()
    watch.start()
    t0 = time.perf_counter()
    results = run_sheets(reports, out, jobs=jobs, progress=True, force=True)  # progress: partial figures in a log
    wall = time.perf_counter() - t0
    watch.stop.set()
    load1 = _load()
    failed = [r for r in results if not r.ok]
    dirs = [r.directory for r in results if r.ok]
    per = [_folder_bytes(d) for d in dirs]
    shared = sum(p.stat().st_size for p in out.iterdir() if p.is_file() and p.suffix in (".js", ".css"))
    workers_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    again = run_sheets(reports, out, jobs=jobs, progress=False)
    t_again = time.perf_counter() - t0
    victim = sorted(reports.glob("*.txt"))[len(results) // 2 * 3]
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace("（七）总计\n\t", "（七）总计\n\t9", 1), encoding="utf-8")
    t0 = time.perf_counter()
    changed = run_sheets(reports, out, jobs=jobs, progress=False)
    t_changed = time.perf_counter() - t0
    victim.write_text(text, encoding="utf-8")
    agencies = len(results)
    print(f"\n== {agencies} agencies ({3 * n} reports), jobs={jobs}; load average {load0} before, {load1} after")
    print(f"   parse + audit (cache warm)      : {t_parse:8.1f} s")
    print(f"   every sheet (nb, HTML, Excel)   : {wall:8.1f} s  = {agencies / wall * 60:6.1f} sheets/min, {wall / agencies:.2f} s a sheet")
    print(f"   failed                          : {len(failed)}" + (f"  ({failed[0].error})" if failed else ""))
    print(
        f"   bytes per agency                : mean {statistics.mean(per) / 1024:.0f} KB, max {max(per) / 1024:.0f} KB;"
        f" shared once (plotly.js + css): {shared / 1024:.0f} KB; outputs total {_folder_bytes(out) / 2**20:.1f} MB"
    )
    print(f"   peak RSS: a worker {workers_kb / 1024:.0f} MB, a kernel {watch.peak_kb / 1024:.0f} MB")
    print(f"   re-run, nothing changed         : {t_again:8.1f} s  ({sum(not r.skipped for r in again)} sheets rendered)")
    print(
        f"   re-run, one report changed      : {t_changed:8.1f} s  ({sum(not r.skipped for r in changed)} sheets rendered)"
    )


def parent_only(n: int, work: Path) -> None:
    """The runner's own work for N agencies, no kernel run: the check that it grows linearly.

    ``run_sheets`` in full (the audit read from the parse cache, the review database
    synced, fingerprints, payloads, the corpus frame, the tasks, index.json and
    index.html), its executor one that finishes every sheet at once without writing it.
    """
    from auditlib.executors import register
    from auditlib.render import SheetResult
    from auditlib.sheets import prepare_audit, run_sheets

    @register("bench-none")
    class NoSheets:
        def __init__(self, **_: object) -> None:
            pass

        def results(self, tasks: list, shared: object) -> Iterator[tuple[object, SheetResult]]:
            for t in tasks:
                yield t, SheetResult(t.agency, Path(t.directory), True, 0.0, None, [])

    reports = work / f"corpus-{n}"
    if not reports.exists():
        generate(3 * n, reports)
    t0 = time.perf_counter()
    prepare_audit(reports)
    t_parse = time.perf_counter() - t0
    out = work / f"parent-{n}"
    shutil.rmtree(out, ignore_errors=True)
    times = []
    for _ in range(2):  # the first also creates the review database
        t0 = time.perf_counter()
        results = run_sheets(reports, out, executor="bench-none", progress=False, force=True)
        times.append(time.perf_counter() - t0)
    wall = min(times)
    index_kb = sum((out / f).stat().st_size for f in ("index.json", "index.html")) / 1024
    print(
        f"\n== parent only, {len(results)} agencies ({3 * n} reports); load {_load()}\n"
        f"   parse + audit (first; cache as found): {t_parse:5.1f} s = {t_parse / len(results) * 1000:.1f} ms an agency\n"
        f"   run_sheets without kernels      : {wall:8.1f} s = {wall / len(results) * 1000:.1f} ms an agency"
        f" (audit included; index.json + index.html {index_kb:.0f} KB)\n"
        f"   peak RSS of this process        : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agencies", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5, help="sheets timed for the floor")
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (corpora are reused)")
    ap.add_argument(
        "--parent-only", action="store_true", help="time only the runner's own work per agency (no kernels): is it linear?"
    )
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-sheets-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs; load average {_load()}; work folder {work}")
    try:
        if args.parent_only:
            for n in args.agencies:
                parent_only(n, work)
            return
        smallest = work / f"corpus-{min(args.agencies)}"
        if not smallest.exists():
            generate(3 * min(args.agencies), smallest)
        f = floor(smallest, args.repeat)
        print(f"floor: the sheet notebook in one warm kernel: {f:.2f} s a sheet (median of {args.repeat});"
              f" {args.jobs} such kernels at best: {args.jobs * 60 / f:.0f} sheets/min; load {_load()}")
        for n in args.agencies:
            one_size(n, args.jobs, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
