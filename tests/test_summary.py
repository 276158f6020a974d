"""The corpus summary: what the batch leaves for the dashboard, and when it no longer holds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from auditlib import summary
from auditlib.audit import audit
from auditlib.cache import Cache
from auditlib.cli import main
from auditlib.corpus import load_reports, tidy
from auditlib.findings import findings_frame
from tests.conftest import SAMPLES


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "in"
    shutil.copytree(SAMPLES, out)
    return out


def _built(folder: Path) -> tuple[summary.Summary, list, list]:
    files = summary.snapshot(folder)
    items = load_reports(folder)
    findings = audit(items)
    return summary.build(folder, files, items, findings), items, findings


def test_summary_of_the_samples(folder):
    s, items, findings = _built(folder)
    assert len(s.reports) == len(items) == 6 and s.reports["readable"].all()
    # Sources are absolute whatever the batch was given, so that the dashboard can reload them.
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in s.reports["source"])
    assert set(s.findings["source"]) <= set(s.reports["source"])
    assert sorted(s.findings["id"]) == sorted(f.id for f in findings)
    assert "淮安市人民政府" in s.agencies
    # 003's title says 城中街道办; the summary names it as it signed.
    assert "柳州市城中区城中街道办事处" in s.agencies and "城中街道办" not in s.agencies
    assert s.sources_of("淮安市人民政府") == [str((folder / "huaian-2024.pdf").resolve())]


def test_table3_totals_give_the_same_mix_as_the_full_tidy_frame(folder):
    items = load_reports(folder)
    mapping = summary.canonical_agencies(items)
    fast = summary.outcome_mix(summary.table3_totals(items), mapping)
    full = summary.outcome_mix(tidy(items), mapping)
    pd.testing.assert_frame_equal(fast, full)
    row = fast[fast["agency"] == "柳州市人民政府办公室"].iloc[0]
    r = next(r for r in items if r.meta.agency == "柳州市人民政府办公室")
    assert row["new_received"] == r.value("table3", "new_received", "total")


def test_stored_summary_is_used_only_while_it_describes_the_folder(folder, tmp_path):
    cache = Cache(tmp_path / "cache")
    s, _, _ = _built(folder)
    summary.save(s, cache)
    again = summary.load(folder, cache)
    assert again is not None and again.built_at == s.built_at
    pd.testing.assert_frame_equal(again.findings, s.findings)

    # A changed report: the summary no longer holds, and a rebuild shows the change.
    p = folder / "000_bebe3e000f0fa92c.txt"
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace("共接到政府信息公开申请78件", "共接到政府信息公开申请80件"), encoding="utf-8")
    assert summary.load(folder, cache) is None
    rebuilt = summary.load_or_build(folder, cache)
    mine = rebuilt.findings[rebuilt.findings["source"] == str(p.resolve())]
    assert "TEXT_TABLE_MISMATCH" in set(mine["rule"])
    assert summary.load(folder, cache) is not None

    # A report added, then one removed.
    shutil.copy(folder / "003_c430893fbea2ae1b.txt", folder / "sub_copy.txt")
    assert summary.load(folder, cache) is None
    assert len(summary.load_or_build(folder, cache).reports) == 7
    (folder / "sub_copy.txt").unlink()
    assert summary.load(folder, cache) is None
    assert len(summary.load_or_build(folder, cache).reports) == 6


def test_summary_from_other_code_is_not_used(folder, tmp_path, monkeypatch):
    cache = Cache(tmp_path / "cache")
    summary.save(_built(folder)[0], cache)
    monkeypatch.setattr(summary, "code_fingerprint", lambda: "another-version")
    assert summary.load(folder, cache) is None


def test_unreadable_files_are_in_the_summary(folder):
    (folder / "empty.txt").write_bytes(b"")
    s, _, _ = _built(folder)
    bad = s.reports[~s.reports["readable"]]
    assert list(bad["source"]) == [str((folder / "empty.txt").resolve())]
    assert not any(p.endswith("empty.txt") for a in s.agencies for p in s.sources_of(a))
    assert "INPUT_UNREADABLE" in set(s.findings.loc[s.findings["source"] == bad["source"].iloc[0], "rule"])


def test_cli_audit_leaves_the_summary_for_the_dashboard(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(folder.parent)
    result = CliRunner().invoke(main, ["audit", folder.name])  # a relative path, as users type it
    assert result.exit_code == 0, result.output
    s = summary.load(folder, Cache())
    assert s is not None
    direct = findings_frame(audit(load_reports(folder)))
    assert sorted(s.findings["id"]) == sorted(direct["id"])
    assert all(os.path.isabs(p) for p in s.findings["source"])
