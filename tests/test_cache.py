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


def test_folders_of_code_versions_no_longer_run_are_removed(tmp_path):
    """Each code version caches in its own folder: one no run has opened for a month goes when
    the cache is next opened; a recent one stays, and so does anything not ours (other files in a
    shared $AUDITLIB_CACHE, a link that happens to look like a version folder)."""
    import os

    from auditlib.cache import RETIRE_AFTER_SECONDS, code_fingerprint

    root = tmp_path / "cache"
    first = Cache(root)
    (r,) = load_reports(SAMPLES / "003_c430893fbea2ae1b.txt", cache=first, bounded=False)
    month = time.time() - RETIRE_AFTER_SECONDS - 86400
    old, recent = root / "0123456789abcdef", root / "fedcba9876543210"
    for d in (old, recent):
        shutil.copytree(root / code_fingerprint(), d)
    os.utime(old / ".used", (month, month))
    mine = root / "notes-0123456789"
    mine.mkdir()
    os.utime(mine, (month, month))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("x")
    os.utime(elsewhere, (month, month))
    (root / "aaaaaaaaaaaaaaaa").symlink_to(elsewhere)
    # The current version's own folder is in use even when its mark is old: opening marks it.
    os.utime(root / code_fingerprint() / ".used", (month, month))

    again = Cache(root)
    assert not old.exists()
    assert recent.is_dir() and mine.is_dir() and (elsewhere / "keep.txt").is_file()
    assert (root / code_fingerprint() / ".used").stat().st_mtime > month + 86400
    (cached,) = load_reports(SAMPLES / "003_c430893fbea2ae1b.txt", cache=again, bounded=False)
    assert cached.to_json() == r.to_json() and again.has(r.digest, "report")
