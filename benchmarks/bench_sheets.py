"""How long an agency's audit sheet takes, and what running agencies in parallel buys.

    .venv/bin/python benchmarks/bench_sheets.py [REPORTS] [--repeat 3]

Prints, for REPORTS (default reports_in/):
  * papermill running a notebook holding only the sheet's imports (the floor:
    kernel start, imports, plotly renderer set-up);
  * papermill running the sheet for one agency on its own (it parses and audits
    the whole folder itself) and as ``run_sheets`` runs it (from the shared cache);
  * ``run_sheets`` over every agency with jobs=1 and jobs=2, and the speed-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
import papermill as pm  # noqa: E402

from auditlib.sheets import NOTEBOOK, agency_groups, corpus_frame, prepare_audit, run_sheets, write_payloads  # noqa: E402


def _imports_only(dest: Path) -> Path:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    setup = next(
        c
        for c in nb.cells
        if c.cell_type == "code" and "import" in c.source and "parameters" not in c.metadata.get("tags", [])
    )
    empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup.source)], metadata=nb.metadata)
    path = dest / "imports_only.ipynb"
    nbformat.write(empty, path)
    return path


def _papermill(nb: Path, out: Path, params: dict | None = None) -> float:
    env_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    t0 = time.perf_counter()
    pm.execute_notebook(str(nb), str(out), parameters=params or {}, progress_bar=False, cwd=str(out.parent))
    return time.perf_counter() - t0


def _median(fn, repeat: int) -> tuple[float, list[float]]:
    times = [fn() for _ in range(repeat)]
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="?", default=str(ROOT / "reports_in"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reports = Path(args.reports).resolve()

    items, findings = prepare_audit(reports)
    groups = agency_groups(items)
    agency = next(iter(groups.values()))[0]
    print(
        f"reports: {reports} — {len(items)} files, {len(groups)} agencies, {len(findings)} findings; "
        f"{os.cpu_count()} CPUs; agency for the single sheet: {agency}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = _imports_only(tmp)
        t_empty, r_empty = _median(lambda: _papermill(empty, tmp / "empty.out.ipynb"), args.repeat)
        params = {
            "agency": agency,
            "years": None,
            "reports_dir": str(reports),
            "review_db": str(tmp / "audit.db"),
            "output_dir": str(tmp / "sheet"),
        }
        t_alone, r_alone = _median(lambda: _papermill(NOTEBOOK, tmp / "alone.out.ipynb", params), args.repeat)
        key = next(iter(groups))
        cache = write_payloads(tmp / "cache", reports, {key: groups[key]}, findings, corpus_frame(items))[key]
        cached = {**params, "audit_cache": str(cache)}
        t_cached, r_cached = _median(lambda: _papermill(NOTEBOOK, tmp / "cached.out.ipynb", cached), args.repeat)

        walls = {}
        for jobs in (1, 2):
            t0 = time.perf_counter()
            results = run_sheets(reports, tmp / f"jobs{jobs}", jobs=jobs, progress=False)
            walls[jobs] = time.perf_counter() - t0
            failed = [r for r in results if not r.ok]
            if failed:
                print(f"  jobs={jobs}: {len(failed)} failed: {failed[0].error}")

    def fmt(ts: list[float]) -> str:
        return ", ".join(f"{t:.2f}" for t in ts)

    print(f"\npapermill, imports-only notebook        : {t_empty:6.2f} s  (median of {fmt(r_empty)})")
    print(
        f"papermill, one agency's sheet, on its own: {t_alone:6.2f} s  (median of {fmt(r_alone)})"
        f"  = {t_alone / t_empty:.2f}× the imports-only run, +{t_alone - t_empty:.2f} s of work"
    )
    print(
        f"papermill, one agency's sheet, cached    : {t_cached:6.2f} s  (median of {fmt(r_cached)})"
        f"  = {t_cached / t_empty:.2f}× the imports-only run, +{t_cached - t_empty:.2f} s of work"
    )
    n = len(groups)
    print(f"\nrun_sheets, {n} agencies, jobs=1        : {walls[1]:6.2f} s  ({walls[1] / n:.2f} s an agency)")
    print(f"run_sheets, {n} agencies, jobs=2        : {walls[2]:6.2f} s  ({walls[2] / n:.2f} s an agency)")
    print(f"speed-up jobs=2 over jobs=1             : {walls[1] / walls[2]:.2f}×")


if __name__ == "__main__":
    main()
