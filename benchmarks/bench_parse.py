"""Parse (and parse + audit) throughput on a generated corpus, beside the floor.

The floor is what any reader must do: read the same files, split lines and find
every number with one regex. PDF throughput (pages per second) is printed beside
it: the real sample PDF, and the layout zoo's PDFs (tests/zoo.py) where LibreOffice
is installed. Usage: python benchmarks/bench_parse.py [N ...] | --pdf
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
from generate import ROOT, generate

from auditlib.audit import audit
from auditlib.corpus import iter_reports, load_one

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
        # The same files as `auditlib audit` reads them: each in the budgeted worker,
        # parsed and given its own findings there, then the corpus rules here.
        t = time.perf_counter()
        bounded = list(iter_reports([d], cache=False))
        bounded_findings = audit(bounded)
        t_bounded = time.perf_counter() - t
        assert [f.id for f in bounded_findings] == [f.id for f in findings]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"N={n:>6}  floor {n / t_floor:>8.0f} reports/s   parse {n / t_parse:>6.0f} reports/s "
        f"({t_parse / t_floor:4.1f}× floor)   parse+audit {n / (t_parse + t_audit):>6.0f} reports/s "
        f"({(t_parse + t_audit) / t_floor:4.1f}× floor)   {len(findings)} findings   peak RSS {rss:.0f} MB"
    )
    print(
        f"N={n:>6}  under the per-file budget (worker process): parse+audit {n / t_bounded:>6.0f} reports/s "
        f"({t_bounded / (t_parse + t_audit):4.2f}× in-process)"
    )


def pdf_pages(rounds: int = 3) -> None:
    """PDF pages per second: the real sample PDF, and the zoo's PDFs when LibreOffice can make them."""
    import pdfplumber

    from auditlib.report import load

    files = sorted((ROOT / "reports_in").glob("*.pdf"))
    zoo_files: list[Path] = []
    try:
        sys.path.insert(0, str(ROOT))
        from tests.zoo import soffice, zoo

        if soffice() is not None:
            zoo_files = [d.path for d in zoo() if d.container == "pdf"]
    except ImportError:
        pass
    for label, group in (("sample PDF", files), ("zoo PDFs (ruled and borderless)", zoo_files)):
        if not group:
            continue
        pages = 0
        for f in group:
            with pdfplumber.open(f) as pdf:
                pages += len(pdf.pages)
        load(group[0])  # imports and caches warm
        t = time.perf_counter()
        for _ in range(rounds):
            for f in group:
                load(f)
        dt = time.perf_counter() - t
        print(f"PDF  {label:<32} {len(group):>3} files {pages:>4} pages   {rounds * pages / dt:6.1f} pages/s")


def end_to_end(n: int) -> None:
    """`auditlib audit DIR --json` on n reports, as a user runs it: cold cache, then warm."""
    import os
    import subprocess

    with tempfile.TemporaryDirectory() as d:
        generate(n, Path(d) / "in", years=3)
        env = dict(os.environ, AUDITLIB_CACHE=str(Path(d) / "cache"))
        for label in ("cold cache", "warm cache"):
            t = time.perf_counter()
            res = subprocess.run(
                [sys.executable, "-m", "auditlib", "audit", str(Path(d) / "in"), "--json"],
                capture_output=True, text=True, env=env, check=True,
            )
            dt = time.perf_counter() - t
            print(f"end to end  N={n}  {label}: {dt:6.1f} s  ({len(res.stdout.splitlines())} findings)")


if __name__ == "__main__":
    import subprocess

    args = sys.argv[1:]
    if args and args[0] == "--one":
        bench(int(args[1]))
        sys.exit()
    if args and args[0] == "--pdf":
        pdf_pages()
        sys.exit()
    if args and args[0] == "--e2e":
        end_to_end(int(args[1]))
        sys.exit()
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    for n in map(int, args or ["100", "1000", "10000"]):
        # Each N in a fresh process: peak memory is then that run's own.
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)
    subprocess.run([sys.executable, __file__, "--pdf"], check=True)
    subprocess.run([sys.executable, __file__, "--e2e", str(max(map(int, args or ["10000"])))], check=True)
