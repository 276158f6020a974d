"""The narrative rules: claims read from the text, checked against tables, totals and last year.

Ground truth comes from the samples as published; positive cases are the same
samples with one figure of the text (or of a made-up previous year) changed.
Convention: ``expected`` is the reference figure (the table, the stated total,
the computed share or change), ``actual`` what the sentence states.
"""

from __future__ import annotations

import pytest

from auditlib import load
from auditlib.audit import audit
from auditlib.claims import (
    CARRIED_FORWARD,
    CARRIED_OVER,
    DENIED,
    HANDLED,
    LITIGATION,
    NORMATIVE_DOCUMENTS,
    RECEIVED,
    REVIEW,
    SHARE,
    SUM,
    YOY,
    claims_of,
    extract,
)
from auditlib.rules.narrative import nearest_change, previous_report, table_figure
from tests.conftest import edited, sample_path

NARRATIVE_RULES = ["TEXT_TABLE_MISMATCH", "NARRATIVE_SUM", "NARRATIVE_PERCENT", "YOY_IMPOSSIBLE", "YOY_MISMATCH"]
S000 = "000_bebe3e000f0fa92c"
S001 = "001_0821f10813b957c3"
S002 = "002_70eac6e8a2e0d3d2"
S003 = "003_c430893fbea2ae1b"
S004 = "004_27f28e9d7369eeba"
HUAIAN = "huaian-2024"


def run(*paths, rules=NARRATIVE_RULES):
    return audit([load(p) for p in paths], rules=rules)


def only(findings, rule):
    return [f for f in findings if f.rule == rule]


# ------------------------------------------------------------------ the samples as published
@pytest.mark.parametrize("stem", [S000, S001, S002, S003, HUAIAN])
def test_samples_without_narrative_findings(stem):
    assert run(sample_path(stem)) == []


def test_004_finds_exactly_the_denied_count_and_the_impossible_change():
    found = run(sample_path(S004))
    assert sorted(f.rule for f in found) == ["TEXT_TABLE_MISMATCH", "YOY_IMPOSSIBLE"]

    (mismatch,) = only(found, "TEXT_TABLE_MISMATCH")
    assert (mismatch.expected, mismatch.actual) == (3, 1)  # 内部事务 1 + 行政查询 2; text says 1
    assert mismatch.severity == "error"
    assert "不予公开的信息1件" in mismatch.evidence
    assert "5.属于三类内部事务信息｜1" in mismatch.evidence and "8.属于行政查询事项｜2" in mismatch.evidence
    assert mismatch.location.startswith("一、总体情况")
    assert "表三" in mismatch.location and "不予公开" in mismatch.location
    assert mismatch.table == "table3" and mismatch.column == "total"
    assert "denied_administrative_query" in mismatch.extra["rows"]

    (yoy,) = only(found, "YOY_IMPOSSIBLE")
    assert yoy.actual == 400
    assert yoy.expected == 300  # the nearest a whole previous count allows (1 → 4)
    assert "申请数量同比上升400%" in yoy.evidence
    assert yoy.location == "一、总体情况 (二) 依申请公开情况"
    assert "0.80" in yoy.message


def test_004_claims_read_as_the_report_means_them():
    r = load(sample_path(S004))
    got = {(c.kind, c.value) for c in claims_of(r)}
    assert {(RECEIVED, 4), (HANDLED, 4), (DENIED, 1), (REVIEW, 1), (LITIGATION, 0), (NORMATIVE_DOCUMENTS, 7)} <= got
    shares = [c for c in claims_of(r) if c.kind == SHARE]
    assert [(c.count, c.value) for c in shares] == [(2, 50.0), (1, 25.0), (1, 25.0)]
    assert all(4 in c.bases for c in shares)
    (s,) = [c for c in claims_of(r) if c.kind == SUM]
    assert s.value == 2231 and not s.closed and sum(p.value for p in s.parts) < 2231
    # the 表四 行政复议 total is blank: no finding rests on it
    assert r.tables["table4"].get("review", "total") is None
    fig = table_figure(r, REVIEW)
    assert fig is not None and not fig.exact and fig.agrees(1)


def test_000_claims_agree_with_the_tables():
    r = load(sample_path(S000))
    got = {(c.kind, c.value) for c in claims_of(r)}
    assert {(RECEIVED, 78), (REVIEW, 6), (LITIGATION, 2)} <= got
    (s,) = [c for c in claims_of(r) if c.kind == SUM]
    assert (s.value, sum(p.value for p in s.parts), s.closed) == (164, 164, True)
    # 12345 hotline figures (反馈率99.97% …) are no claims about applications
    assert not [c for c in claims_of(r) if c.kind in (SHARE, YOY, HANDLED)]


def test_003_negations_read_as_zero():
    r = load(sample_path(S003))
    got = {(c.kind, c.value) for c in claims_of(r)}
    assert got == {(RECEIVED, 0), (REVIEW, 0), (LITIGATION, 0)}


def test_huaian_pdf_claims():
    r = load(sample_path(HUAIAN))
    got = {(c.kind, c.value) for c in claims_of(r)}
    assert {(RECEIVED, 3119), (HANDLED, 3050), (CARRIED_OVER, 34), (CARRIED_FORWARD, 103)} <= got
    assert {(REVIEW, 351), (LITIGATION, 46)} <= got
    assert not [c for c in claims_of(r) if c.kind == NORMATIVE_DOCUMENTS]  # 政策性文件 11 件 is not one
    sums = {c.value: c for c in claims_of(r) if c.kind == SUM}
    assert sums[351].ref == REVIEW and sums[351].closed
    assert sums[46].ref == LITIGATION and [p.value for p in sums[46].parts] == [25, 5, 9, 7]


def test_spans_point_into_the_narrative():
    for stem in (S000, S002, S004, HUAIAN):
        r = load(sample_path(stem))
        for c in claims_of(r):
            a, b = c.span
            assert r.narrative[a:b] == c.text
            assert c.text.strip() and c.text.strip()[:4] in c.sentence
            sa, sb = c.sentence_span
            assert r.narrative[sa:sb].strip() == c.sentence


def test_finding_ids_are_stable():
    first = [f.id for f in run(sample_path(S004))]
    second = [f.id for f in run(sample_path(S004))]
    assert first == second and len(set(first)) == len(first)


# ------------------------------------------------------------------ TEXT_TABLE_MISMATCH
def test_received_count_differs_from_table(tmp_path):
    p = edited(tmp_path, S000, ("共接到政府信息公开申请78件", "共接到政府信息公开申请80件"))
    (f,) = run(p)
    assert f.rule == "TEXT_TABLE_MISMATCH"
    assert (f.expected, f.actual) == (78, 80)
    assert (f.table, f.row, f.column) == ("table3", "new_received", "total")
    assert f.location == "一、总体情况 三是做好信息公开申请办理；表三 一、本年新收政府信息公开申请数量 / 总计"
    assert "申请80件" in f.evidence and "一、本年新收政府信息公开申请数量｜77｜1｜0｜0｜0｜0｜78" in f.evidence
    assert "80" in f.message and "78" in f.message and "(" not in f.message[:3]


def test_chinese_numerals_and_review_count(tmp_path):
    p = edited(tmp_path, S000, ("行政复议6件", "行政复议五件"))
    (f,) = run(p)
    assert (f.expected, f.actual, f.row) == (6, 5, "review")


def test_litigation_breakdown_is_checked_against_table4(tmp_path):
    p = edited(tmp_path, S000, ("行政复议6件。", "行政复议6件，其中结果维持5件，结果纠正1件。"))
    found = run(p)
    assert {(f.rule, f.expected, f.actual, f.column) for f in found} == {
        ("TEXT_TABLE_MISMATCH", 6, 5, "upheld"),
        ("TEXT_TABLE_MISMATCH", 0, 1, "corrected"),
    }


def test_policy_documents_are_not_normative_documents(tmp_path):
    p = edited(tmp_path, S004, ("公开区政府2021年行政规范性文件7个", "公开区政府2021年政策性文件9个"))
    assert not [f for f in run(p) if f.row == "normative_documents"]
    q = edited(tmp_path, S004, ("公开区政府2021年行政规范性文件7个", "公开区政府2021年行政规范性文件9个"), name="q.txt")
    (f,) = [f for f in run(q) if f.row == "normative_documents"]
    assert (f.expected, f.actual, f.table, f.column) == (7, 9, "table2", "issued")


def test_another_sentence_agreeing_silences_the_kind(tmp_path):
    # Two statements of one kind, one matching the table: the other likely counts something else.
    p = edited(
        tmp_path, S000, ("共接到政府信息公开申请78件，", "共接到政府信息公开申请78件，其中接到政府信息公开申请90件，")
    )
    assert only(run(p), "TEXT_TABLE_MISMATCH") == []


# ------------------------------------------------------------------ NARRATIVE_SUM
def test_parts_larger_than_the_total(tmp_path):
    p = edited(tmp_path, S000, ("录入主动公开信息164条", "录入主动公开信息150条"))
    (f,) = run(p)
    assert f.rule == "NARRATIVE_SUM" and (f.expected, f.actual) == (150, 164)
    assert "其他信息3条" in f.evidence and f.location.startswith("一、总体情况")


def test_closed_list_falling_short(tmp_path):
    p = edited(tmp_path, S000, ("录入主动公开信息164条", "录入主动公开信息170条"))
    (f,) = run(p)
    assert f.rule == "NARRATIVE_SUM" and (f.expected, f.actual) == (170, 164)


def test_open_list_may_fall_short_but_not_exceed(tmp_path):
    assert only(run(sample_path(S004)), "NARRATIVE_SUM") == []  # 2231, parts fewer: open list
    p = edited(tmp_path, S004, ("发布政府信息2231条", "发布政府信息500条"))
    (f,) = only(run(p), "NARRATIVE_SUM")
    assert f.expected == 500 and f.actual > 500


# ------------------------------------------------------------------ NARRATIVE_PERCENT
def test_wrong_share(tmp_path):
    p = edited(tmp_path, S004, ("不予公开的信息1件，占25%", "不予公开的信息1件，占40%"))
    (f,) = only(run(p), "NARRATIVE_PERCENT")
    assert (f.expected, f.actual) == (25, 40)
    assert "占40%" in f.evidence


@pytest.mark.parametrize("written", ["33%", "33.3%", "33.33%", "33.4%"])
def test_shares_rounded_as_written_are_right(tmp_path, written):
    p = edited(
        tmp_path,
        S004,
        ("共受理政府信息公开申请4件", "共受理政府信息公开申请3件"),
        ("不予公开的信息1件，占25%", f"不予公开的信息1件，占{written}"),
    )
    assert only(run(p), "NARRATIVE_PERCENT") == []


def test_share_of_three_written_far_off(tmp_path):
    p = edited(
        tmp_path,
        S004,
        ("共受理政府信息公开申请4件", "共受理政府信息公开申请3件"),
        ("不予公开的信息1件，占25%", "不予公开的信息1件，占30%"),
    )
    (f,) = only(run(p), "NARRATIVE_PERCENT")
    assert (f.expected, f.actual) == (33, 30)


# ------------------------------------------------------------------ YOY_IMPOSSIBLE
def test_possible_change_is_silent(tmp_path):
    p = edited(tmp_path, S004, ("同比上升400%", "同比上升300%"))  # 1 → 4
    assert only(run(p), "YOY_IMPOSSIBLE") == []


@pytest.mark.parametrize(
    ("now", "change", "unit", "decimals", "possible"),
    [
        (4, 400, "%", 0, False),
        (4, 300, "%", 0, True),
        (7, 17, "%", 0, True),  # 6 → 7 is 16.67%
        (3, 33.3, "%", 1, False),  # 2 → 3 is 50%, 3 → 3 is 0%
        (4, 33.3, "%", 1, True),  # 3 → 4
        (2, -33.3, "%", 1, True),  # 3 → 2
        (0, 50, "%", 0, False),
        (0, -100, "%", 0, True),
        (5, -100, "%", 0, False),
        (3, 5, "件", 0, False),
        (3, -5, "件", 0, True),
        (3, 0, "%", 0, True),
    ],
)
def test_nearest_change(now, change, unit, decimals, possible):
    assert nearest_change(now, change, unit, decimals)[0] is possible


# ------------------------------------------------------------------ YOY_MISMATCH
def _previous_000(tmp_path):
    return edited(
        tmp_path,
        S000,
        ("2021年政府信息公开工作年度报告\n\n一", "2020年政府信息公开工作年度报告\n\n一"),
        ("\t77\n", "\t59\n"),
        ("\t78\n", "\t60\n"),
        ("申请78件", "申请60件"),
        name="prev.txt",
    )


def test_change_matching_last_years_report(tmp_path):
    prev = _previous_000(tmp_path)
    cur = edited(tmp_path, S000, ("申请78件，", "申请78件，同比增长30%，"), name="cur.txt")  # 60 → 78
    assert run(prev, cur) == []


def test_change_disagreeing_with_last_years_report(tmp_path):
    prev = _previous_000(tmp_path)
    cur = edited(tmp_path, S000, ("申请78件，", "申请78件，同比增长20%，"), name="cur.txt")
    (f,) = run(prev, cur)
    assert f.rule == "YOY_MISMATCH" and f.year == 2021
    assert (f.expected, f.actual) == (30, 20)
    assert "2020年度报告" in f.location and "2020年：一、本年新收" in f.evidence
    assert (f.table, f.row, f.column) == ("table3", "new_received", "total")
    # alone, the change cannot be checked and is not impossible
    assert run(cur) == []


def test_change_in_cases(tmp_path):
    prev = _previous_000(tmp_path)
    cur = edited(tmp_path, S000, ("申请78件，", "申请78件，比上年增加18件，"), name="cur.txt")
    assert run(prev, cur) == []
    bad = edited(tmp_path, S000, ("申请78件，", "申请78件，比上年增加8件，"), name="bad.txt")
    (f,) = run(prev, bad)
    assert (f.rule, f.expected, f.actual) == ("YOY_MISMATCH", 18, 8)


def test_previous_report(tmp_path):
    prev = load(_previous_000(tmp_path))
    cur = load(sample_path(S000))
    other = load(sample_path(S004))
    assert previous_report(cur, [other, prev, cur]) is prev
    assert previous_report(prev, [other, prev, cur]) is None
    assert previous_report(other, [other, prev, cur]) is None


# ------------------------------------------------------------------ extraction on its own
def kinds(text, year=2021, agency="某某区人民政府办公室"):
    return [(c.kind, c.value) for c in extract(text, year, agency)]


def test_extract_numbers_as_written():
    assert (RECEIVED, 3119) in kinds("2021年，共受理政府信息公开申请 3119 件，答复 3050 件。")
    assert (HANDLED, 3050) in kinds("2021年，共受理政府信息公开申请 3119 件，答复 3050 件。")
    assert (RECEIVED, 12) in kinds("全年共收到政府信息公开申请十二件。")
    assert (RECEIVED, 2) in kinds("全年共收到政府信息公开申请两件。")
    assert (RECEIVED, 0) in kinds("2021年，我单位未收到政府信息公开申请。")


def test_extract_keeps_to_the_year_and_the_agency():
    assert kinds("2020年共收到政府信息公开申请10件。") == []
    assert kinds("自2019年以来累计收到政府信息公开申请40件。") == []
    assert kinds("全区各部门共受理政府信息公开申请120件。") == []
    assert (RECEIVED, 120) in kinds("全区各部门共受理政府信息公开申请120件。", agency="某某区人民政府")
    assert kinds("共受理行政许可申请500件。") == []
    assert kinds("因属于国家秘密不予公开1件。依申请公开工作有序。") == []


def test_extract_documents():
    assert kinds("2021年印发行政规范性文件3件。") == [(NORMATIVE_DOCUMENTS, 3)]
    assert kinds("2021年印发政策性文件3件。") == []
    assert kinds("清理规范性文件12件。") == []


def test_extract_carry_and_cases():
    text = "收到政府信息公开申请5件，上年结转2件，另有1件结转下年度办理。政府信息公开行政复议0件，没有发生行政诉讼。"
    got = kinds(text)
    assert {(RECEIVED, 5), (CARRIED_OVER, 2), (CARRIED_FORWARD, 1), (REVIEW, 0), (LITIGATION, 0)} <= set(got)
    # an outcome, not the number of cases
    assert kinds("政府信息公开工作中未发生行政复议纠错情况。") == []


def test_extract_changes():
    (y,) = [c for c in extract("共收到政府信息公开申请20件，同比下降20%。", 2021) if c.kind == YOY]
    assert (y.value, y.unit, y.subject.value, y.subject_kind) == (-20, "%", 20, RECEIVED)
    (y,) = [c for c in extract("共收到政府信息公开申请20件，与上年持平。", 2021) if c.kind == YOY]
    assert y.value == 0 and y.subject.kind == RECEIVED
    (y,) = [c for c in extract("共收到政府信息公开申请20件，较2019年增长5件。", 2021) if c.kind == YOY]
    assert y.ref_year == 2019 and y.value == 5
    # percentage points and 倍 are not counts
    assert [c for c in extract("公开率同比提高5个百分点。", 2021) if c.kind == YOY] == []


def test_changes_of_rates_or_quality_have_no_count():
    for text in (
        "受理政府信息公开申请4件，办结率同比上升10%。",
        "受理政府信息公开申请4件，依申请公开办理质量同比提升20%。",
    ):
        (y,) = [c for c in extract(text, 2021) if c.kind == YOY]
        assert y.subject is None and y.subject_kind is None


def test_rate_change_is_not_impossible(tmp_path):
    p = edited(tmp_path, S004, ("申请数量同比上升400%", "办结率同比上升10%"))
    assert only(run(p), "YOY_IMPOSSIBLE") == []


def test_year_end_is_this_year():
    assert kinds("截至2021年12月31日，本机关共收到政府信息公开申请7件。") == [(RECEIVED, 7)]
    assert kinds("截至2020年12月31日，本机关共收到政府信息公开申请7件。") == []


def test_mixed_breakdowns_are_not_summed(tmp_path):
    # 70 + 8 reach the total: what follows is another breakdown of the same 78, not more parts.
    p = edited(
        tmp_path,
        S000,
        (
            "共接到政府信息公开申请78件，",
            "共接到政府信息公开申请78件，其中网上申请70件、信函申请8件，自然人77件、法人1件，",
        ),
    )
    assert run(p) == []
