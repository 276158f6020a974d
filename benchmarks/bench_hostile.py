"""Worst time and memory per hostile case (benchmarks/hostile.py), each file under the
per-file budget of auditlib.budget, as `auditlib audit` reads it. The budget counts processor
time; the clock time is shown beside it (on a busy machine it is longer).

Usage: python benchmarks/bench_hostile.py [ROUNDS]   (default 2; the worst round is shown)
Time is the file's own: from handing it to the worker to its answer (the worker's
start is shown apart). Memory is the worker's peak resident size, its imports included.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import CASES, write_case

from auditlib.budget import Worker
from auditlib.limits import MEMORY_BYTES, SECONDS


def main(rounds: int) -> None:
    print(f"budget: {SECONDS:.0f} s, {MEMORY_BYTES // 2**20} MB per file; worst of {rounds} round(s)")
    print(f"{'case':<18} {'on disk':>9} {'clock s':>8} {'CPU s':>7} {'peak MB':>9}  outcome")
    worst_all = (0.0, 0)
    with tempfile.TemporaryDirectory() as d:
        for name in CASES:
            path = write_case(name, Path(d))
            worst_t, worst_m, outcome, start, worst_cpu = 0.0, 0, "", 0.0, 0.0
            for _ in range(rounds):
                # A fresh worker per round: its peak memory is then this file's alone.
                with Worker(cache_dir=None) as w:
                    t = time.perf_counter()
                    w._start()
                    start = time.perf_counter() - t
                    t = time.perf_counter()
                    item, findings = w.run(str(path))
                    dt = time.perf_counter() - t
                    worst_t, worst_m = max(worst_t, dt), max(worst_m, w.peak)
                    worst_cpu = max(worst_cpu, w.seconds_used)
                outcome = getattr(item, "code", None) or f"audited, {len(findings or [])} findings"
            worst_all = (max(worst_all[0], worst_t), max(worst_all[1], worst_m))
            print(
                f"{name:<18} {path.stat().st_size / 1024:>7.0f} K {worst_t:>8.2f} {worst_cpu:>7.2f} "
                f"{worst_m / 2**20:>9.0f}  {outcome}   (worker start {start:.1f} s)"
            )
    print(f"{'worst of all':<18} {'':>9} {worst_all[0]:>8.2f} {'':>7} {worst_all[1] / 2**20:>9.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
