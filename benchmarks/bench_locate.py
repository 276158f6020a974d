"""What finding the place of findings costs (auditlib.locate): span in a text report, and page +
box in the sample PDF, beside the parse it follows. Usage: python benchmarks/bench_locate.py"""

from __future__ import annotations

import time
from pathlib import Path

from auditlib import load
from auditlib.findings import Finding
from auditlib.locate import locate

ROOT = Path(__file__).resolve().parent.parent / "reports_in"


def cell_findings(report) -> list[Finding]:
    pt = report.tables["table3"]
    return [
        Finding(source=report.source, agency=report.meta.agency, year=report.meta.year, rule="T3_ROW_TOTAL",
                severity="error", location="", message="", evidence=pt.row_text(r.key), table="table3", row=r.key,
                column="total", digest=report.digest)
        for r in pt.layout.rows
    ]


def main() -> None:
    for name in ("huaian-2024.pdf", "004_27f28e9d7369eeba.txt"):
        t = time.perf_counter()
        report = load(ROOT / name)
        parse = time.perf_counter() - t
        fs = cell_findings(report)
        t = time.perf_counter()
        locate(fs, [report])
        took = time.perf_counter() - t
        boxed = sum(f.bbox is not None for f in fs)
        spans = sum(f.span is not None for f in fs)
        # For a PDF most of it is one more pdfminer pass over the pages the table stands on.
        print(f"{name:28} parse {parse:6.2f} s · locate all {len(fs)} 表三 rows {took:6.2f} s "
              f"({took / parse:4.2f}× the parse) · boxed {boxed} · spans {spans}")


if __name__ == "__main__":
    main()
