"""Parse once: an unchanged folder is served from the cache, a changed file is parsed again."""

from __future__ import annotations

import shutil
import time

from auditlib import load_reports
from auditlib.audit import audit
from auditlib.cache import Cache
from auditlib.report import Report
from tests.conftest import SAMPLES


def test_cache_serves_unchanged_and_reparses_changed(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES, folder)
    cache = Cache(tmp_path / "cache")
    t = time.perf_counter()
    first = load_reports(folder, cache=cache)
    cold = time.perf_counter() - t
    findings = audit(first, cache=cache)
    t = time.perf_counter()
    second = load_reports(folder, cache=cache)
    warm = time.perf_counter() - t
    assert [r.to_json() for r in first] == [r.to_json() for r in second]
    assert [f.id for f in audit(second, cache=cache)] == [f.id for f in findings]
    assert warm < cold  # the PDF alone takes longer to parse than every cached read
    # Change one report: only it is parsed again, and the change shows.
    p = folder / "000_bebe3e000f0fa92c.txt"
    p.write_text(p.read_text(encoding="utf-8").replace("共接到政府信息公开申请78件", "共接到政府信息公开申请80件"), encoding="utf-8")
    third = {r.source: r for r in load_reports(folder, cache=cache) if isinstance(r, Report)}
    assert "TEXT_TABLE_MISMATCH" in {f.rule for f in audit(list(third.values()), cache=cache) if f.source == str(p)}


def test_cache_entry_is_keyed_by_content_not_path(tmp_path):
    cache = Cache(tmp_path / "cache")
    a = tmp_path / "a.txt"
    shutil.copy(SAMPLES / "003_c430893fbea2ae1b.txt", a)
    load_reports(a, cache=cache)
    b = tmp_path / "moved.txt"
    a.rename(b)
    (r,) = load_reports(b, cache=cache)
    assert r.source == str(b) and r.meta.agency == "柳州市城中区城中街道办事处"


def test_damaged_cache_entry_is_rebuilt(tmp_path):
    cache = Cache(tmp_path / "cache")
    (r,) = load_reports(SAMPLES / "003_c430893fbea2ae1b.txt", cache=cache)
    for f in (tmp_path / "cache").rglob("*.pkl"):
        f.write_bytes(b"not a pickle")
    (again,) = load_reports(SAMPLES / "003_c430893fbea2ae1b.txt", cache=cache)
    assert again.to_json() == r.to_json()
