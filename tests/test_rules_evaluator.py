"""Narrative rules as an evaluator applies them (issue 12): blank 表三 totals, exhaustive lists,
the bases a share can mean, and 表三's fee notices against section 六. Each case is a real sample
with a few words changed (tests/conftest.py `edited`): one that must trigger, one that must not."""

from __future__ import annotations

from auditlib import load
from auditlib.audit import audit
from tests.conftest import S000, S002, edited, sample_path

SECTION_3 = "三、收到和处理政府信息公开申请情况\n"


def fired(path, rule):
    return audit([load(path)], rules=[rule])


# ------------------------------------------------------------------ blank 总计 column
def _blank_totals(tmp_path, sentence):
    """000 with the 总计 cells of （一）予以公开 (16), （二）部分公开 (9) and 本机关不掌握 (38) left blank."""
    return edited(
        tmp_path,
        S000,
        ("\t16 \n", "\t\n"),
        ("\t   9\n", "\t\n"),
        ("\t0\xa0\n\t38\n", "\t0\xa0\n\t\n"),
        (SECTION_3, SECTION_3 + sentence + "\n"),
    )


def test_text_against_blank_totals_uses_the_filled_columns(tmp_path):
    p = _blank_totals(tmp_path, "本年度政府信息公开申请中，予以公开及部分公开30件，无法提供30件。")
    t3 = load(p).tables["table3"]
    assert [t3.get(r, "total") for r in ("granted", "partially_granted", "unable_not_held")] == [None, None, None]
    fs = fired(p, "TEXT_TABLE_MISMATCH")
    assert sorted((f.actual, f.expected) for f in fs) == [(30, 25), (30, 38)]
    assert all("总计栏空白" in f.message for f in fs)


def test_text_agreeing_with_the_filled_columns_is_silent(tmp_path):
    p = _blank_totals(tmp_path, "本年度政府信息公开申请中，予以公开及部分公开25件，无法提供38件。")
    assert fired(p, "TEXT_TABLE_MISMATCH") == []


# ------------------------------------------------------------------ fee notices: 表三 （六）2 against section 六
_UNPAID_ROW = "缴纳费用、行政机关不再处理其政府信息公开申请\n\t\xa00\n\t\xa00\n\t\xa00\n\t\xa00\n\t0\xa0\n\t0\xa0\n\t\xa00\n"
_ONE_UNPAID = "缴纳费用、行政机关不再处理其政府信息公开申请\n\t\xa01\n\t\xa00\n\t\xa00\n\t\xa00\n\t0\xa0\n\t0\xa0\n\t\xa01\n"


def _section_6(tmp_path, text, unpaid=True):
    rows = [(_UNPAID_ROW, _ONE_UNPAID)] if unpaid else []
    return edited(tmp_path, S000, *rows, ("事项\n\n无\n", f"事项\n\n{text}\n"))


def test_section_6_denying_fee_notices_that_table_3_counts(tmp_path):
    p = _section_6(tmp_path, "本年度未收取信息处理费，未向申请人发出收费通知。")
    assert load(p).tables["table3"].get("other_unpaid_fee", "total") == 1
    fs = fired(p, "TEXT_TABLE_MISMATCH")
    assert [(f.row, f.expected, f.actual) for f in fs] == [("other_unpaid_fee", 1, 0)]
    assert "收费通知" in fs[0].evidence and "六、其他需要报告的事项" in fs[0].location


def test_fee_statements_that_agree_with_table_3_are_silent(tmp_path):
    # Nothing collected is no contradiction: the notice went out and was not paid.
    assert fired(_section_6(tmp_path, "本年度发出收费通知1件，申请人逾期未缴纳，未收取信息处理费。"), "TEXT_TABLE_MISMATCH") == []
    assert fired(_section_6(tmp_path, "本年度未收取信息处理费。"), "TEXT_TABLE_MISMATCH") == []
    assert fired(_section_6(tmp_path, "申请人逾期未按收费通知要求缴纳费用1件，未收取费用。"), "TEXT_TABLE_MISMATCH") == []
    # No notice, and 表三 counts none.
    assert fired(_section_6(tmp_path, "本年度未发出收费通知。", unpaid=False), "TEXT_TABLE_MISMATCH") == []


# ------------------------------------------------------------------ exhaustive lists (NARRATIVE_SUM)
LIST_002 = "2022年度累计主动公开政府信息共16704条"


def test_a_long_exhaustive_list_that_falls_short_is_flagged(tmp_path):
    # 002's 18 categories of 主动公开 add up to 16704 exactly; the total made 16714.
    assert audit([load(sample_path(S002))], rules=["NARRATIVE_SUM"]) == []
    p = edited(tmp_path, S002, (LIST_002, LIST_002.replace("16704", "16714")))
    fs = fired(p, "NARRATIVE_SUM")
    assert [(f.expected, f.actual) for f in fs] == [(16714, 16704)]
    assert "18项" in fs[0].message


def test_an_open_list_stays_silent(tmp_path):
    # The same list ending in 等 gives examples: a shortfall says nothing.
    p = edited(tmp_path, S002, (LIST_002, LIST_002.replace("16704", "16714")), ("总结和计划类信息1条。", "总结和计划类信息1条等。"))
    assert fired(p, "NARRATIVE_SUM") == []
    # A short 其中 list of some items is open too.
    p = edited(tmp_path, S000, (SECTION_3, SECTION_3 + "本年度共收到政府信息公开申请78件，其中网上申请50件。\n"))
    assert fired(p, "NARRATIVE_SUM") == []


def test_lists_given_with_fenbiewei_or_every_category(tmp_path):
    said = "本年度共收到政府信息公开申请78件，{}自然人申请70件、法人或其他组织申请1件。\n"
    for head in ("分别为", "其中"):  # 分别为; every applicant category named
        p = edited(tmp_path, S000, (SECTION_3, SECTION_3 + said.format(head)))
        fs = fired(p, "NARRATIVE_SUM")
        assert [(f.expected, f.actual) for f in fs] == [(78, 71)], head
        p = edited(tmp_path, S000, (SECTION_3, SECTION_3 + said.format(head).replace("70件", "77件")))
        assert fired(p, "NARRATIVE_SUM") == [], head


# ------------------------------------------------------------------ NARRATIVE_PERCENT: every base the sentence can mean
def _share(tmp_path, pct):
    # 000: 78 received, 81 handled (表三). The report states 60 answered elsewhere; 30 of those is 50%.
    text = f"本年度共答复政府信息公开申请60件。\n予以公开申请30件，占答复总数的{pct}。\n"
    return edited(tmp_path, S000, (SECTION_3, SECTION_3 + text))


def test_a_share_of_the_applications_answered_is_not_a_share_of_those_received(tmp_path):
    # 30 ÷ 78 = 38.5% and 30 ÷ 81 = 37.0%: only the 60 answered gives 50%.
    assert fired(_share(tmp_path, "50%"), "NARRATIVE_PERCENT") == []


def test_a_share_no_base_gives_is_flagged(tmp_path):
    fs = fired(_share(tmp_path, "70%"), "NARRATIVE_PERCENT")
    assert len(fs) == 1 and fs[0].actual == 70
    for base in ("60", "78", "81"):
        assert base in fs[0].message
