"""Parse (and parse + audit) throughput on a generated corpus, beside the floor.

The floor is what any reader must do: read the same files, split lines and find
every number with one regex. Usage: python benchmarks/bench_parse.py [N ...]
"""

from __future__ import annotations

import platform
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from auditlib.audit import audit
from auditlib.corpus import load_one

NUM = re.compile(r"\d+(?:\.\d+)?")


def floor(paths: list[Path]) -> float:
    t = time.perf_counter()
    for p in paths:
        text = p.read_bytes().decode("utf-8")
        for line in text.split("\n"):
            NUM.findall(line)
    return time.perf_counter() - t


def bench(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        paths = generate(n, Path(d), years=3)
        floor(paths[:50])  # warm the page cache for both
        t_floor = floor(paths)
        t = time.perf_counter()
        reports = [load_one(p) for p in paths]
        t_parse = time.perf_counter() - t
        t = time.perf_counter()
        findings = audit(reports)
        t_audit = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"N={n:>6}  floor {n / t_floor:>8.0f} reports/s   parse {n / t_parse:>6.0f} reports/s "
        f"({t_parse / t_floor:4.1f}× floor)   parse+audit {n / (t_parse + t_audit):>6.0f} reports/s "
        f"({(t_parse + t_audit) / t_floor:4.1f}× floor)   {len(findings)} findings   peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    for n in map(int, sys.argv[1:] or ["1000"]):
        bench(n)
