"""The rule catalogue: every identifier of the contract is in `auditlib rules`, and the README's
rule list is the registry's."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from auditlib.rules import load_all
from auditlib.rules.catalogue import readme_block, readme_block_of
from tests.conftest import ROOT

CONTRACT = ROOT.parent / "shared" / "CONTRACT.md"
# Identifiers the contract names whose rules belong to other open issues. Strict: the day one lands,
# its test passes, xfail(strict) turns that into a failure, and the entry must go.
PENDING: dict[str, str] = {}


def contract_rules() -> list[str]:
    if not CONTRACT.is_file():
        pytest.skip(f"{CONTRACT} is not here (the contract lives beside the repository, in ../shared/)")
    text = CONTRACT.read_text(encoding="utf-8")
    table = text.split("### Rule identifiers", 1)[1]
    return re.findall(r"^\|\s*`([A-Z0-9_]+)`\s*\|", table, re.M)


@pytest.fixture(scope="module")
def cli_rules() -> str:
    out = subprocess.run([sys.executable, "-m", "auditlib", "rules"], capture_output=True, text=True, cwd=ROOT, check=True)
    return out.stdout


def _ids() -> list:
    try:
        ids = contract_rules()
    except pytest.skip.Exception:
        return []
    return [pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=PENDING[i])) if i in PENDING else i for i in ids]


def test_the_contract_table_is_read():
    ids = contract_rules()
    assert len(ids) >= 27 and ids[0] == "T3_BALANCE" and "INPUT_UNREADABLE" in ids and "COPY_OF_PEER" in ids


@pytest.mark.parametrize("rule_id", _ids())
def test_every_contract_rule_is_in_the_catalogue(rule_id, cli_rules):
    listed = {line.split()[0] for line in cli_rules.splitlines() if line and not line[0].isspace()}
    assert rule_id in listed, f"{rule_id} is in ../shared/CONTRACT.md but not in `auditlib rules`"


def test_the_catalogue_names_only_contract_rules_or_new_ones_with_both_titles():
    for r in load_all().values():
        assert r.severity in ("error", "warning", "info") and r.title_zh and r.title_en, r.id
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", r.id)


def test_input_unreadable_is_listed_and_made_by_the_pipeline(tmp_path):
    from auditlib.audit import audit
    from auditlib.corpus import load_reports

    r = load_all()["INPUT_UNREADABLE"]
    assert r.scope == "input" and r.check is None
    (tmp_path / "x.txt").write_bytes(b"\x00\x01\x02" * 50)
    fs = audit(load_reports(tmp_path))
    assert [f.rule for f in fs] == ["INPUT_UNREADABLE"] and fs[0].severity == r.severity


def test_readme_rule_list_is_generated_from_the_registry():
    got = readme_block_of(ROOT / "README.md")
    assert got is not None, "README.md has no generated rule list"
    assert got == readme_block(), "README.md's rule list is stale: run scripts/readme-rules"
    for r in load_all().values():
        assert f"`{r.id}`" in got
