"""COPY_OF_PEER at scale: time against corpus size (it must stay linear), and what it finds.

The generated corpus (generate.py) repeats four sample texts, so its prose is the "standard
text" hundreds of reports share. Each agency then gets a paragraph of its own, written by a
character Markov chain trained on the samples' narratives (every agency's differs), and a few
agencies get another agency's paragraph of the same year instead: the copies COPY_OF_PEER
should find, and the only ones.

Usage: python benchmarks/bench_peers.py [N ...]     (default 1000 10000)
"""

from __future__ import annotations

import platform
import random
import re
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import ROOT, generate

from auditlib.audit import audit
from auditlib.corpus import load_one

COPY_SHARE = 0.01
HEADING = re.compile(r"^(?:一、)?总体情况\s*$", re.M)


def chain(order: int = 2) -> dict[str, list[str]]:
    """A character Markov chain of the samples' narratives."""
    from auditlib import load_reports

    text = "".join(r.narrative for r in load_reports(ROOT / "reports_in") if hasattr(r, "narrative"))
    text = re.sub(r"\s+", "", text)
    nxt: dict[str, list[str]] = defaultdict(list)
    for i in range(len(text) - order):
        nxt[text[i : i + order]].append(text[i + order])
    return nxt


def paragraph(nxt: dict[str, list[str]], rng: random.Random, length: int = 1500, order: int = 2) -> str:
    state = rng.choice(list(nxt))
    out = [state]
    for _ in range(length):
        options = nxt.get(state)
        if not options:
            state = rng.choice(list(nxt))
            options = nxt[state]
        ch = rng.choice(options)
        out.append(ch)
        state = (state + ch)[-order:]
    return "".join(out)


def build(n: int, out: Path, seed: int = 7) -> set[tuple[str, str]]:
    """n reports in ``out``; returns the planted (copier, copied) file-name pairs."""
    paths = generate(n, out, years=3, defects=0.0)
    rng = random.Random(seed)
    nxt = chain()
    own: dict[str, str] = {}
    by_year: dict[str, list[Path]] = defaultdict(list)
    for p in paths:
        by_year[p.stem.split("-")[1]].append(p)
    planted: set[tuple[str, str]] = set()
    for group in by_year.values():
        for p in group:
            own[p.name] = paragraph(nxt, rng)
        copiers = rng.sample(group, max(1, int(len(group) * COPY_SHARE)))
        sources = [q for q in group if q not in copiers]
        for p in copiers:
            src = rng.choice(sources)
            own[p.name] = own[src.name]
            planted.add((p.name, src.name))
    for p in paths:
        text = p.read_text(encoding="utf-8")
        para = own[p.name]
        text = HEADING.sub(lambda m, para=para: m.group(0) + "\n" + para + "。\n", text, count=1)
        p.write_text(text, encoding="utf-8")
    return planted


def bench(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        planted = build(n, Path(d))
        reports = [load_one(p) for p in sorted(Path(d).glob("*.txt"))]
        t, cpu = time.perf_counter(), time.process_time()
        fs = audit(reports, rules=["COPY_OF_PEER"])
        dt, dcpu = time.perf_counter() - t, time.process_time() - cpu
    found = {(Path(f.source).name, Path(f.extra["peer_source"]).name) for f in fs}
    # A copier and its source each name the other; either direction finds the pair.
    pairs = {frozenset(p) for p in planted}
    hit = {frozenset(p) for p in found} & pairs
    wrong = {frozenset(p) for p in found} - pairs
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        # CPU time beside the wall clock: on a shared machine the wall clock also counts waiting.
        f"N={n:>6}  COPY_OF_PEER {dt:6.2f} s wall, {dcpu:6.2f} s CPU  ({n / dcpu:>6.0f} reports/CPU-s, "
        f"{dcpu / n * 1e6:5.0f} µs/report)   "
        f"planted copies {len(pairs)}, found {len(hit)}, other findings {len(wrong)}   peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    import subprocess

    args = sys.argv[1:]
    if args and args[0] == "--one":
        bench(int(args[1]))
        sys.exit()
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    for n in map(int, args or ["1000", "10000"]):
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)
