"""outputs/index.html: a run updates its own agencies' lines and drops nobody else's."""

from __future__ import annotations

import json
from pathlib import Path

from auditlib import index_page as ip


def _sheet(out: Path, name: str) -> None:
    (out / name).mkdir(parents=True, exist_ok=True)
    (out / name / ip.SHEET_HTML).write_text("<html></html>", encoding="utf-8")


def _entry(name: str, run_at: str, errors: int, ok: bool = True) -> ip.Entry:
    return ip.Entry(agency=name, directory=name, ok=ok, run_at=run_at, seconds=1.5, error=None if ok else "坏了",
                    reports=2, years=[2021, 2022], findings={"error": errors, "warning": 1, "info": 0})


def test_partial_run_keeps_the_other_agencies(tmp_path: Path) -> None:
    for n in ("甲局", "乙局", "丙局"):
        _sheet(tmp_path, n)
    ip.update_index(tmp_path, [_entry(n, "2026-01-01 09:00:00", 1) for n in ("甲局", "乙局", "丙局")], "http://127.0.0.1:8866/")
    ip.update_index(tmp_path, [_entry("乙局", "2026-01-02 10:00:00", 5)], "http://127.0.0.1:8866/")
    entries = ip.read_manifest(tmp_path)
    assert sorted(entries) == ["丙局", "乙局", "甲局"]
    assert entries["乙局"].run_at == "2026-01-02 10:00:00" and entries["乙局"].findings["error"] == 5
    assert entries["甲局"].run_at == "2026-01-01 09:00:00" and entries["甲局"].findings["error"] == 1
    page = (tmp_path / ip.INDEX).read_text(encoding="utf-8")
    for n in ("甲局", "乙局", "丙局"):
        assert n in page
    assert "2021–2022" not in page and "2021、2022" in page  # two years are listed, not ranged
    assert "错误 7 · 警告 3" in page  # totals over every agency, not only this run's
    assert "2026-01-01 09:00:00" in page and "2026-01-02 10:00:00" in page
    assert 'href="http://127.0.0.1:8866/"' in page and "auditlib dashboard" in page
    assert page.count('class="fresh"') == 1


def test_unreadable_manifest_is_rebuilt_from_the_sheets_on_disk(tmp_path: Path) -> None:
    for n in ("甲局", "乙局"):
        _sheet(tmp_path, n)
    (tmp_path / ip.MANIFEST).write_text("{not json", encoding="utf-8")
    ip.update_index(tmp_path, [_entry("乙局", "2026-01-02 10:00:00", 0)])
    entries = ip.read_manifest(tmp_path)
    assert sorted(entries) == ["乙局", "甲局"]
    assert entries["甲局"].reports is None  # known to exist, counts unknown: shown as —, never 0
    assert json.loads((tmp_path / ip.MANIFEST).read_text(encoding="utf-8"))["entries"]
    assert ip.entry_dirs(tmp_path) == {"甲局": tmp_path / "甲局", "乙局": tmp_path / "乙局"}


def test_names_are_escaped_and_links_quoted(tmp_path: Path) -> None:
    e = ip.Entry(agency="<b>局</b>", directory="a b#局", ok=False, run_at="t", error="<i>x</i>")
    ip.update_index(tmp_path, [e])
    page = (tmp_path / ip.INDEX).read_text(encoding="utf-8")
    assert "<b>局" not in page and "&lt;b&gt;局" in page and "<i>x" not in page
    assert 'href="a%20b%23%E5%B1%80/error.txt"' in page
