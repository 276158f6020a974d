"""Files: names made from report text stay inside their folder; writes are whole or absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditlib.files import atomic_path, safe_dirname

MALICIOUS = [
    "../../etc/passwd",
    "..",
    ".",
    "...",
    "/",
    "/etc",
    "a/../../b",
    "a\\..\\..\\b",
    "C:\\Windows",
    "name\x00with-nul",
    "\x1b[31mred\x1b[0m",
    "局\u202eexe.txt",  # right-to-left override
    "line\nbreak",
    "CON",
    "nul.txt",
    "-rf",
    ".hidden",
    "",
    "   ",
    "x" * 1000,
    "局" * 300,
    "../" * 100,
]


@pytest.mark.parametrize("name", MALICIOUS)
def test_safe_dirname_stays_inside(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    d = safe_dirname(name)
    assert d and d not in (".", "..")
    assert "/" not in d and "\\" not in d and ".." not in d
    assert not any(ord(ch) < 32 or ch in "\u202e\u200b\x7f" for ch in d)
    assert not d.startswith((".", "-"))
    assert len(d.encode("utf-8")) <= 120
    target = out / d
    target.mkdir()
    assert target.resolve().parent == out.resolve()


def test_safe_dirname_keeps_ordinary_names() -> None:
    for name in ["柳州市人民政府办公室", "柳州市城中区城中街道办事处", "某县（本级）财政局"]:
        assert safe_dirname(name) == name
    assert safe_dirname("a/b") != safe_dirname("a/c")
    assert safe_dirname("局" * 300) != safe_dirname("局" * 299 + "厅")  # shortened names stay apart


def test_atomic_write_interrupted_leaves_old_file(tmp_path: Path) -> None:
    target = tmp_path / "findings.xlsx"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.xlsx"]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.xlsx"]


def test_atomic_path_cleans_up_on_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError), atomic_path(tmp_path / "x.xlsx") as tmp:
        tmp.write_text("half")
        raise ValueError
    assert list(tmp_path.iterdir()) == []
