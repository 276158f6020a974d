"""Scanned reports: how many table cells OCR fills and verifies, how many are wrong, seconds per page;
and the two OCR candidates (PP-OCR in rapidocr-onnxruntime, Debian's tesseract + chi_sim) on the
same digit cells.

The scans are made from the Word template with known numbers (tests/scans.py): rendered at
150–220 dpi, skewed up to 2°, blurred, JPEG-compressed, a red seal over a table, a phone
photo's perspective. Usage:

    python benchmarks/bench_ocr.py [--seeds 1 2] [--variants clean seal ...] [--no-engines] [--no-pictures]

Tables given as pictures inside a Word file, a web page and a PDF with a text layer
(tests/scan_pictures.py) are timed per picture read, in CPU seconds as well as wall.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from auditlib.ingest import ocr
from auditlib.ingest.ocr import OcrText
from auditlib.report import load
from tests.scan_pictures import picture_documents
from tests.scans import VARIANTS, consistent_report, scanned_pdf

CHECKED = ("table3", "table4")  # the tables whose arithmetic can confirm a number


def score(report, truth: dict) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out = {"cells": 0, "filled": 0, "wrong": 0, "t2_cells": 0, "t2_filled": 0, "t2_wrong": 0}
    for table in ("table2", *CHECKED):
        got = report.tables[table].to_dict()
        pre = "t2_" if table == "table2" else ""
        for row, cols in truth[table].items():
            for col, want in cols.items():
                v = got[row][col]
                out[pre + "cells"] += 1
                if v is not None:
                    out[pre + "filled"] += 1
                    out[pre + "wrong"] += v != want
    return out


def pipeline(seeds: list[int], variants: list[str]) -> None:
    """Wall time depends on who else uses the machine; CPU time (this process, all its threads)
    is what a page costs on an otherwise idle core, and is printed beside it."""
    head = f"{'scan':<28}{'pages':>6}{'wall s/p':>9}{'CPU s/p':>8}{'表三四 filled':>14}{'wrong':>7}{'表二 read':>10}"
    print(head + f"{'OCR_UNVERIFIED':>16}")
    total = {"cells": 0, "filled": 0, "wrong": 0, "pages": 0, "secs": 0.0, "cpu": 0.0}
    for seed in seeds:
        truth = consistent_report(seed)
        for variant in variants:
            pdf = scanned_pdf(truth, variant)
            t, c = time.perf_counter(), time.process_time()
            report = load(pdf)
            secs, cpu = time.perf_counter() - t, time.process_time() - c
            pages = _page_count(pdf)
            s = score(report, truth)
            for k in ("cells", "filled", "wrong"):
                total[k] += s[k]
            total["pages"] += pages
            total["secs"] += secs
            total["cpu"] += cpu
            filled = f"{s['filled']}/{s['cells']}"
            t2 = f"{s['t2_filled']}/{s['t2_cells']}"
            name = f"seed {seed} {variant}"
            print(
                f"{name:<28}{pages:>6}{secs / pages:>9.1f}{cpu / pages:>8.1f}{filled:>14}{s['wrong']:>7}{t2:>10}"
                f"{len(report.ocr_checks):>16}"
            )
    share = 100 * total["filled"] / total["cells"] if total["cells"] else 0.0
    pages = max(1, total["pages"])
    print(
        f"\n表三/表四 cells filled and verified: {total['filled']}/{total['cells']} = {share:.1f} % (target ≥ 98 %); "
        f"wrong values: {total['wrong']} (target 0)\n"
        f"seconds per scanned page: {total['secs'] / pages:.1f} wall, {total['cpu'] / pages:.1f} CPU "
        f"(goal ≤ 5; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )


def pictures(seeds: list[int]) -> None:
    """Documents whose 表三 and 表四 are pictures: cells, wrong values, and pictures read per second.

    A picture is one table image read by OCR (a page's worth of work or less). CPU seconds count
    this process's threads only, so the pictures per CPU second hold on a busy machine too.
    """
    print(
        f"\n{'document (tables as pictures)':<34}{'pictures':>9}{'wall s':>8}{'CPU s':>7}{'pict/CPU s':>11}"
        f"{'表三四 filled':>14}{'wrong':>7}"
    )
    total = {"pictures": 0, "secs": 0.0, "cpu": 0.0, "cells": 0, "filled": 0, "wrong": 0}
    for seed in seeds:
        truth = consistent_report(seed)
        for kind, path in picture_documents(truth).items():
            t, c = time.perf_counter(), time.process_time()
            report = load(path)
            secs, cpu = time.perf_counter() - t, time.process_time() - c
            read = {
                (raw.page, raw.image)
                for pt in report.tables.values()
                for raw in pt.raw.values()
                if isinstance(raw, OcrText)
            }
            s = score(report, truth)
            for k in ("cells", "filled", "wrong"):
                total[k] += s[k]
            total["pictures"] += len(read)
            total["secs"] += secs
            total["cpu"] += cpu
            name = f"seed {seed} {kind}"
            filled = f"{s['filled']}/{s['cells']}"
            print(
                f"{name:<34}{len(read):>9}{secs:>8.1f}{cpu:>7.1f}{len(read) / cpu:>11.2f}{filled:>14}{s['wrong']:>7}"
            )
    n = max(1, total["pictures"])
    print(
        f"\ntables as pictures: {total['filled']}/{total['cells']} cells filled and verified, "
        f"wrong values: {total['wrong']}; {n / max(total['cpu'], 1e-9):.2f} pictures per CPU second "
        f"({total['cpu'] / n:.1f} CPU s, {total['secs'] / n:.1f} wall s per picture; whole documents, "
        f"parsing included; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )


def _page_count(pdf: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def _digit_crops(seed: int, variant: str) -> tuple[list[np.ndarray], list[str]]:
    """Every 表三/表四 value cell of a scan as the pipeline located it, with its true text."""
    truth = consistent_report(seed)
    pdf = scanned_pdf(truth, variant)
    report = load(pdf)
    images = dict(ocr.render_pages(pdf.read_bytes(), list(range(1, _page_count(pdf) + 1))))
    scale = ocr.DPI / 72
    crops, want = [], []
    for table in CHECKED:
        pt = report.tables[table]
        for (row, col), raw in pt.raw.items():
            if not isinstance(raw, OcrText):
                continue
            x0, y0, x1, y1 = (round(v * scale) for v in raw.bbox)
            cell = ocr._ink_channel(images[raw.page])[y0:y1, x0:x1]
            # The same tight single-line crop the pipeline gives the recogniser.
            ink = ocr._binary(cell)
            lines = ocr._rules(ink, ocr.DPI, skewed=True)
            parts = ocr._text_lines(cell, ink, lines, ocr._Cell(0, 0, cell.shape[1], cell.shape[0]))
            if len(parts) == 1:
                crops.append(parts[0])
                want.append(str(truth[table][row][col]))
    return crops, want


def engines(seed: int, variant: str) -> None:
    crops, want = _digit_crops(seed, variant)
    print(f"\nOCR candidates on the same {len(crops)} digit cells (seed {seed}, {variant}):")
    print(f"{'engine':<44}{'exact':>10}{'ms/cell':>9}")
    t = time.perf_counter()
    got = [text for text, _ in ocr.recognise(crops)]
    secs = time.perf_counter() - t
    right = sum(g.strip() == w for g, w in zip(got, want, strict=True))
    print(f"{'rapidocr-onnxruntime (PP-OCRv4 rec)':<44}{f'{right}/{len(want)}':>10}{1000 * secs / len(want):>9.0f}")
    if shutil.which("tesseract") is None:
        print("tesseract not installed: skipped (apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
        return
    for lang in ("eng", "chi_sim"):
        got, secs = _tesseract(crops, lang)
        right = sum(g == w for g, w in zip(got, want, strict=True))
        name = f"tesseract {lang} --psm 7, digits whitelist"
        print(f"{name:<44}{f'{right}/{len(want)}':>10}{1000 * secs / len(want):>9.0f}")


def _tesseract(crops: list[np.ndarray], lang: str) -> tuple[list[str], float]:
    """One tesseract process for all crops (a list file), as fair to it as per-cell calls can be."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        names = []
        for i, c in enumerate(crops):
            p = Path(d) / f"{i:04d}.png"
            # Tesseract wants text about 30 px high and a margin around it.
            Image.fromarray(np.pad(c, 10, constant_values=255)).save(p)
            names.append(str(p))
        (Path(d) / "list.txt").write_text("\n".join(names) + "\n")
        t = time.perf_counter()
        subprocess.run(
            [
                "tesseract",
                str(Path(d) / "list.txt"),
                str(Path(d) / "out"),
                "-l",
                lang,
                "--psm",
                "7",
                "-c",
                "tessedit_char_whitelist=0123456789.",
            ],
            capture_output=True,
            check=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
        secs = time.perf_counter() - t
        pages = (Path(d) / "out.txt").read_text().split("\f")
    return [p.strip() for p in pages[: len(crops)]], secs


def narrative(seed: int, variants: list[str]) -> None:
    """How often a running-text line OCR reads is exactly right, by the recogniser's confidence:
    the basis of NARRATIVE_MIN_CONF. A line is right when it occurs, spaces aside, in the text
    layer of the same page as LibreOffice printed it."""
    import pdfplumber

    from auditlib.numbers import squash
    from tests.scans import text_pdf

    truth = consistent_report(seed)
    with pdfplumber.open(text_pdf(truth)) as pdf:
        layer = [squash(p.extract_text() or "") for p in pdf.pages]
    bins = [(0.0, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01)]
    counts = {b: [0, 0] for b in bins}
    kept = ocr.NARRATIVE_MIN_CONF
    ocr.NARRATIVE_MIN_CONF = 0.0  # see every line, then sort them by confidence
    try:
        for variant in variants:
            pdf = scanned_pdf(truth, variant)
            for number, image in ocr.render_pages(pdf.read_bytes(), list(range(1, _page_count(pdf) + 1))):
                for line in ocr.read_page(image, number).lines:
                    text = squash(line.text)
                    if len(text) < 2:
                        continue
                    b = next(b for b in bins if b[0] <= line.conf < b[1])
                    counts[b][0] += 1
                    counts[b][1] += text in layer[number - 1]
    finally:
        ocr.NARRATIVE_MIN_CONF = kept
    print(f"\nRunning text read by OCR (seed {seed}; {', '.join(variants)}), lines exactly right by confidence:")
    for (lo, hi), (n, right) in counts.items():
        share = f"{100 * right / n:.1f} %" if n else "–"
        print(f"  {lo:.2f}–{min(hi, 1.0):.2f}: {right}/{n} right ({share})")
    print(f"  lines below {kept:.2f} are not given to the parser")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), help="scans to time (none: skip the scans)")
    ap.add_argument("--no-engines", action="store_true", help="skip the engine and running-text comparisons")
    ap.add_argument("--no-pictures", action="store_true", help="skip the documents with tables as pictures")
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    if not args.no_engines:
        for variant in ("clean", "skew_blur_jpeg"):
            engines(args.seeds[0], variant)
        narrative(args.seeds[0], ["clean", "skew_blur_jpeg", "seal", "photo"])
        print()
    if args.variants:
        pipeline(args.seeds, args.variants)
    if not args.no_pictures:
        pictures(args.seeds)


if __name__ == "__main__":
    main()
