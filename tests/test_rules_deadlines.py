"""LATE_PUBLICATION by the agency's kind (条例第四十九条) and by a region's own deadline table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from auditlib import load
from auditlib.agencies import DEPARTMENT, GOVERNMENT, TOWNSHIP, agency_kind
from auditlib.audit import audit
from auditlib.rules.deadlines import ENV, Deadlines, DeadlineTableError, read_table
from tests.conftest import ROOT, S000, S001, S003, edited, sample_path


@pytest.fixture(autouse=True)
def _no_user_tables(monkeypatch, tmp_path):
    """The packaged table only, whatever the machine's user has configured."""
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def late(*paths):
    return audit([load(p) for p in paths], rules=["LATE_PUBLICATION"])


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("柳州市城中区人民政府", GOVERNMENT),  # sample 001: the district government's own report
        ("淮安市人民政府", GOVERNMENT),  # huaian-2024
        ("柳州市人民政府办公室", DEPARTMENT),  # sample 000: the office reports on its own work
        ("石龙区人民政府办公室", DEPARTMENT),
        ("柳州市柳江区发展和改革局", DEPARTMENT),
        ("城中街道办", TOWNSHIP),  # sample 003's title
        ("柳州市城中区城中街道办事处", TOWNSHIP),
        ("某某镇人民政府", TOWNSHIP),
        ("某县乡村振兴局", DEPARTMENT),  # 乡 inside a department's name
    ],
)
def test_agency_kind_from_the_name(name, kind):
    assert agency_kind(name) == kind


def _published_001(tmp_path, date):
    # 001 is 柳州市城中区人民政府's report on 2020, published 2021-01-29 (its signing date, 2020年1月29日,
    # is impossible and says nothing of lateness).
    return edited(tmp_path, S001, ("发布日期:2021-01-29", f"发布日期:{date}"))


def test_a_district_governments_own_report_has_until_31_march(tmp_path):
    assert late(_published_001(tmp_path, "2021-02-20")) == []  # a department's date would be 31 January
    assert late(_published_001(tmp_path, "2021-03-31")) == []
    fs = late(_published_001(tmp_path, "2021-04-02"))
    assert len(fs) == 1
    f = fs[0]
    assert "2天" in f.message and "2021年3月31日" in f.message and "县级以上地方人民政府" in f.message
    assert f.extra["agency_kind"] == GOVERNMENT and f.extra["deadline"] == "2021-03-31"


def test_a_department_has_until_31_january(tmp_path):
    fs = late(edited(tmp_path, S000, ("2022年1月26日", "2022年2月20日")))
    assert len(fs) == 1
    assert "20天" in fs[0].message and "2022年1月31日" in fs[0].message and "部门" in fs[0].message
    assert late(sample_path(S000)) == []


def test_township_default_and_a_regions_own_rule(tmp_path, monkeypatch):
    # 003 (城中街道办, signed 二〇二二年一月十四日) is on time by the default 31 January.
    assert late(sample_path(S003)) == []
    table = tmp_path / "guangxi.csv"
    table.write_text(
        "region,kind,deadline,basis\n柳州市,township,01-10,柳州市规定乡镇街道1月10日前公布（测试）\n", encoding="utf-8"
    )
    monkeypatch.setenv(ENV, str(table))
    fs = late(sample_path(S003))
    assert len(fs) == 1
    # The title says only 城中街道办: the region is found in the name the corpus knows it by.
    assert "4天" in fs[0].message and "柳州市" in fs[0].message and "1月10日" in fs[0].message
    assert fs[0].extra["deadline_region"] == "柳州市"
    # The regional row applies to 柳州市's 乡镇/街道 only; its departments keep 31 January.
    assert late(sample_path(S000)) == []


def test_the_most_specific_region_wins(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(
        "region,kind,deadline\n柳州市,department,01-20\n柳州市城中区,department,02-15\n*,government,04-30\n",
        encoding="utf-8",
    )
    d = Deadlines.load([table])
    assert (d.for_agency("柳州市城中区财政局").month, d.for_agency("柳州市城中区财政局").day) == (2, 15)
    assert d.for_agency("柳州市财政局").day == 20
    assert d.for_agency("南宁市财政局").day == 31  # the packaged default
    assert d.for_agency("淮安市人民政府").month == 4  # a user's * row replaces the packaged one


def test_bad_tables_are_refused_with_the_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("region,kind,deadline\n*,department,02-30\n", encoding="utf-8")
    with pytest.raises(DeadlineTableError, match="第2行"):
        read_table(bad)
    bad.write_text("region,kind,deadline\n*,council,01-31\n", encoding="utf-8")
    with pytest.raises(DeadlineTableError, match="council"):
        read_table(bad)
    bad.write_text("where,when\n", encoding="utf-8")
    with pytest.raises(DeadlineTableError, match="region,kind,deadline"):
        read_table(bad)


def test_cli_deadlines_option(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("region,kind,deadline\n*,township,01-10\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "auditlib", "audit", str(sample_path(S003)), "--json", "--no-cache"]
    out = subprocess.run([*cmd, "--deadlines", str(table)], capture_output=True, text=True, cwd=ROOT, check=True)
    rules = [json.loads(line)["rule"] for line in out.stdout.splitlines()]
    assert "LATE_PUBLICATION" in rules
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
    assert "LATE_PUBLICATION" not in out.stdout
    table.write_text("region,kind,deadline\n*,township,13-01\n", encoding="utf-8")
    bad = subprocess.run([*cmd, "--deadlines", str(table)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "13-01" in bad.stderr and bad.stdout == ""
