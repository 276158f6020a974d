"""Next year's follow-up: FOLLOWUP_OPEN (an auditor's confirmed finding again) and
PROBLEM_REPEATED (section 五 copied from last year), on reports made from the samples."""

from __future__ import annotations

from auditlib import load
from auditlib.audit import audit
from auditlib.review import ReviewStore
from tests.conftest import edited, sample_path

S000, S003, S004 = "000_bebe3e000f0fa92c", "003_c430893fbea2ae1b", "004_27f28e9d7369eeba"


def last_year_of_004(tmp_path):
    return edited(tmp_path, S004, ("政府办公室2021年", "政府办公室2020年"), name="prev004.txt")


def test_followup_open_quotes_last_years_decision(tmp_path):
    prev = load(last_year_of_004(tmp_path))
    assert prev.meta.year == 2020
    store = ReviewStore(tmp_path / "audit.db")
    last = audit([prev])
    store.sync(last)
    total = next(f for f in last if f.rule == "T3_RESULTS_SUM" and f.column == "total")
    store.decide(total.id, "confirmed", "总计少填一件，已电话告知", who="王审核")
    cell = next(f for f in last if f.rule == "TABLE_CELL_MISSING")
    store.decide(cell.id, "dismissed", "原件如此", who="王审核")

    # This year's report alone is audited: last year's report need not be in the batch.
    now = load(sample_path(S004))
    fs = [f for f in audit([now], decisions=store.decided_findings()) if f.rule == "FOLLOWUP_OPEN"]
    assert len(fs) == 1
    f = fs[0]
    assert (f.year, f.location, f.table, f.row, f.column) == (2021, total.location, "table3", total.row, "total")
    assert (f.expected, f.actual) == (4, 3)
    assert "2020年度" in f.message and "王审核确认" in f.message and "总计少填一件，已电话告知" in f.message
    # Times are shown in Beijing time, whatever the machine's zone.
    decided = store.decisions().set_index("finding_id").loc[total.id, "decided_at"]
    assert decided.endswith("+08:00")
    assert decided[:16].replace("T", " ") in f.message
    assert f.evidence == next(g for g in audit([now]) if g.rule == "T3_RESULTS_SUM" and g.column == "total").evidence

    # Without decisions, or when last year's finding was dismissed, nothing follows up.
    assert [g for g in audit([now]) if g.rule == "FOLLOWUP_OPEN"] == []
    store.decide(total.id, "dismissed", "复核后不成立", who="王审核")
    assert [g for g in audit([now], decisions=store.decided_findings()) if g.rule == "FOLLOWUP_OPEN"] == []


def test_followup_open_needs_the_previous_year(tmp_path):
    now = load(sample_path(S004))
    store = ReviewStore(tmp_path / "audit.db")
    found = audit([now])
    store.sync(found)
    total = next(f for f in found if f.rule == "T3_RESULTS_SUM")
    store.decide(total.id, "confirmed", "同年的决定", who="王审核")
    # A decision on this very report is not last year's.
    assert [g for g in audit([now], decisions=store.decided_findings()) if g.rule == "FOLLOWUP_OPEN"] == []


def test_problem_repeated(tmp_path):
    prev = edited(tmp_path, S000, ("2021年政府信息公开工作年度报告\n\n一", "2020年政府信息公开工作年度报告\n\n一"), name="prev.txt")
    fs = [f for f in audit([load(prev), load(sample_path(S000))], rules=["PROBLEM_REPEATED"])]
    assert len(fs) == 1 and fs[0].year == 2021 and fs[0].actual == 1
    assert fs[0].evidence.startswith("存在主要问题：各科室工作人员政府信息公开意识有待进一步加强")
    assert "五" in fs[0].location

    # Last year named other problems: the improvements may repeat, the problems do not.
    other = edited(
        tmp_path,
        S000,
        ("2021年政府信息公开工作年度报告\n\n一", "2020年政府信息公开工作年度报告\n\n一"),
        ("意识有待进一步加强", "制度建设滞后于工作要求"),
        name="prev2.txt",
    )
    assert audit([load(other), load(sample_path(S000))], rules=["PROBLEM_REPEATED"]) == []
    # Another agency's words are not this agency's past.
    stranger = edited(tmp_path, S003, ("城中街道办2021年", "柳州市城中区城中街道办事处2020年"), name="s.txt")
    assert audit([load(stranger), load(sample_path(S000))], rules=["PROBLEM_REPEATED"]) == []
