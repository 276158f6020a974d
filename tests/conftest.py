from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "reports_in"
EXPECTED = ROOT / "tests" / "expected"
SAMPLE_STEMS = sorted(p.stem for p in EXPECTED.glob("*.json"))
S000, S001, S002, S003, S004 = (
    "000_bebe3e000f0fa92c",
    "001_0821f10813b957c3",
    "002_70eac6e8a2e0d3d2",
    "003_c430893fbea2ae1b",
    "004_27f28e9d7369eeba",
)


def sample_path(stem: str) -> Path:
    return next(SAMPLES.glob(stem + ".*"))


def expected(stem: str) -> dict:
    return json.loads((EXPECTED / f"{stem}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def parsed_samples():
    from auditlib import load

    return {stem: load(sample_path(stem)) for stem in SAMPLE_STEMS}


def edited(tmp_path: Path, stem: str, *replacements: tuple[str, str], name: str | None = None) -> Path:
    """A copy of a text sample with some of its words changed (each must occur)."""
    text = sample_path(stem).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} not in {stem}"
        text = text.replace(old, new, 1)
    out = tmp_path / (name or f"{stem}.txt")
    out.write_text(text, encoding="utf-8")
    return out


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read a parse cache left by an earlier run or by the user's own runs."""
    import os

    os.environ["AUDITLIB_CACHE"] = str(tmp_path_factory.mktemp("auditlib-cache"))


@pytest.fixture(autouse=True, scope="session")
def _no_user_deadlines(tmp_path_factory):
    """Tests apply the packaged deadline table, never the one the machine's user configured."""
    import os

    os.environ.pop("AUDITLIB_DEADLINES", None)
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
