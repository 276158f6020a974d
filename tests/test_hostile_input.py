"""Hostile and broken input: every file is reported with a clear reason, the batch goes on.

Property tests feed the parser mutated samples: it never raises, and it never
invents a number that is not in the input.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import tracemalloc

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from auditlib import IngestError, load_one
from auditlib.ingest import read_bytes
from auditlib.report import parse_document
from tests.conftest import ROOT, SAMPLES, sample_path

TEXT_SAMPLES = sorted(SAMPLES.glob("*.txt"))
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def test_fifty_megabyte_text_is_refused_quickly(tmp_path):
    p = tmp_path / "huge.txt"
    line = ("二、主动公开政府信息情况\t0\t0\t0\n" * 1000).encode()
    with open(p, "wb") as fh:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
    tracemalloc.start()
    t = time.perf_counter()
    item = load_one(p)
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert item.code == "TOO_LARGE" and "MB" in item.message
    assert elapsed < 5 and peak < 200 * 1024 * 1024


def test_odd_file_names(tmp_path):
    src = sample_path("003_c430893fbea2ae1b").read_bytes()
    names = ["报告 (1) 副本.txt", "a'b\"c$`d;rm -rf.txt", "--json.txt", "\u202e文件.txt", "x\ty.txt"]
    for n in names:
        (tmp_path / n).write_bytes(src)
    res = subprocess.run(
        [sys.executable, "-m", "auditlib", "parse", "--json", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert res.returncode == 0, res.stderr
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    assert sorted(o["source"].rsplit("/", 1)[-1] for o in objs) == sorted(names)
    assert {o["agency"] for o in objs} == {"柳州市城中区城中街道办事处"}


def test_batch_goes_on_after_bad_files(tmp_path):
    (tmp_path / "a-empty.txt").write_bytes(b"")
    (tmp_path / "b-random.docx").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 10)
    (tmp_path / "c-random.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 10)
    (tmp_path / "d-good.txt").write_bytes(sample_path("002_70eac6e8a2e0d3d2").read_bytes())
    from auditlib import load_reports

    items = load_reports(tmp_path, cache=False)
    codes = [getattr(i, "code", "OK") for i in items]
    assert codes[:3] == ["EMPTY", "DOCX_CORRUPT", "PDF_CORRUPT"] and codes[3] == "OK"


def _numbers(text: str) -> set[float]:
    return {float(m) for m in NUMBER.findall(text)}


def _mutate(lines: list[str], ops: list[tuple[int, int, int]]) -> list[str]:
    out = list(lines)
    for op, i, j in ops:
        if not out:
            break
        i %= len(out)
        j %= len(out)
        if op == 0:
            del out[i]
        elif op == 1:
            out.insert(i, out[j])
        elif op == 2:
            out[i], out[j] = out[j], out[i]
        elif op == 3:
            out[i] = out[i][: j % (len(out[i]) + 1)]
        else:
            out.insert(i, "\t")
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(TEXT_SAMPLES),
    ops=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10_000), st.integers(0, 10_000)), max_size=25),
)
def test_mutated_samples_never_raise_nor_invent_numbers(sample, ops):
    lines = sample.read_text(encoding="utf-8").split("\n")
    text = "\n".join(_mutate(lines, ops))
    try:
        report = parse_document(read_bytes(text.encode("utf-8"), "m.txt"))
    except IngestError:
        return
    present = _numbers(text)
    for pt in report.tables.values():
        for (row, col), v in pt.values.items():
            if v is not None:
                assert abs(v) in present, f"{pt.table} {row}/{col} = {v} not in the input"


@settings(max_examples=40, deadline=None)
@example(data=b"\x00\x01\x00\x01\x00", suffix=".txt")  # odd-length "UTF-16" (found by hypothesis)
@example(data=b"\xff\xfe\x00\xd8", suffix=".txt")  # a UTF-16 BOM before a lone surrogate
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".txt", ".html", ".docx", ".pdf", ".doc"]))
def test_random_bytes_give_an_error_record_not_a_crash(tmp_path_factory, data, suffix):
    p = tmp_path_factory.mktemp("rnd") / f"x{suffix}"
    p.write_bytes(data)
    item = load_one(p)
    assert hasattr(item, "code") or hasattr(item, "tables")
    if hasattr(item, "code"):
        assert item.code != "PARSE_FAILED", item.message


def test_oversized_file_is_refused_before_it_is_read(tmp_path):
    p = tmp_path / "huge.pdf"
    with open(p, "wb") as fh:
        fh.truncate(65 * 1024 * 1024)  # sparse: nothing to read if the size is checked first
    tracemalloc.start()
    item = load_one(p)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert item.code == "TOO_LARGE"
    assert peak < 10 * 1024 * 1024
