"""Narrative rules as an evaluator applies them (issue 12): blank 表三 totals, exhaustive lists,
the bases a share can mean, and 表三's fee notices against section 六. Each case is a real sample
with a few words changed (tests/conftest.py `edited`): one that must trigger, one that must not."""

from __future__ import annotations

from auditlib import load
from auditlib.audit import audit
from tests.conftest import edited, sample_path

S000, S002, S003 = "000_bebe3e000f0fa92c", "002_70eac6e8a2e0d3d2", "003_c430893fbea2ae1b"
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
