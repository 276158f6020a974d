"""COPY_OF_PEER: another agency's report of the same year, copied; standard sentences learnt and left out."""

from __future__ import annotations

import pytest

from auditlib import load
from auditlib.audit import audit
from auditlib.rules.peers import COMMON_CAP, COMMON_MIN, common_threshold, shingles
from tests.conftest import S000, S001, S002, S003, S004, edited, sample_path


def peers(*paths):
    return audit([load(p) for p in paths], rules=["COPY_OF_PEER"])


def _copy_of_000(tmp_path, name="柳州市鱼峰区人民政府办公室", year="2021", numbers=True):
    """Sample 000 published again by another agency, its own figures put in."""
    swaps = [("柳州市人民政府办公室\n\n2021", f"{name}\n\n{year}")]
    if numbers:
        swaps.append(("\t77\n", "\t70\n"))
    return edited(tmp_path, S000, *swaps, name="copy.txt")


def test_a_copy_of_another_agencys_report_is_flagged_on_both(tmp_path):
    copy = _copy_of_000(tmp_path)
    assert load(copy).meta.agency == "柳州市鱼峰区人民政府办公室"
    fs = peers(sample_path(S000), copy, sample_path(S003), sample_path(S004))
    assert sorted((f.agency, f.extra["peer_agency"]) for f in fs) == [
        ("柳州市人民政府办公室", "柳州市鱼峰区人民政府办公室"),
        ("柳州市鱼峰区人民政府办公室", "柳州市人民政府办公室"),
    ]
    assert all(f.actual > 0.9 and "两份报告相同的一句" in f.evidence for f in fs)
    # Ids are stable: the same corpus gives the same findings again.
    assert [f.id for f in fs] == [f.id for f in peers(sample_path(S000), copy, sample_path(S003), sample_path(S004))]


def test_samples_of_one_year_are_no_copies_of_each_other():
    assert peers(*(sample_path(s) for s in (S000, S003, S004))) == []
    assert peers(*(sample_path(s) for s in (S000, S001, S002, S003, S004)), sample_path("huaian-2024")) == []


def test_other_years_and_the_same_agency_are_not_peers(tmp_path):
    # Another year: COPY_OF_PREVIOUS's business if it is the same agency, nobody's otherwise.
    assert peers(sample_path(S000), _copy_of_000(tmp_path, year="2020")) == []
    # The same agency under a shorter name is not its own peer.
    assert peers(sample_path(S000), _copy_of_000(tmp_path, name="柳州市政府办公室")) == []


def _with_standard_text(tmp_path, stem, heading, standard, *extra):
    return edited(tmp_path, stem, (heading, heading + "\n" + standard + "\n"), *extra, name=f"{stem}-std.txt")


def test_standard_text_shared_by_many_agencies_is_left_out(tmp_path):
    # 001's section 一 (a real district government's text) printed by four more agencies of 2021:
    # with five agencies printing it, it is standard and nothing is a copy.
    standard = load(sample_path(S001)).section_texts["一"]
    s001 = edited(tmp_path, S001, ("城中区人民政府2020年", "城中区人民政府2021年"), name="001-2021.txt")
    others = [
        _with_standard_text(tmp_path, S000, "一、总体情况", standard),
        _with_standard_text(
            tmp_path, S002, "一、总体情况", standard, ("2022年政府信息公开工作年度报告", "2021年政府信息公开工作年度报告")
        ),
        _with_standard_text(tmp_path, S003, "\n总体情况", standard),
        # 004's title names no agency: name it, or the text put in would make it look like 000's.
        _with_standard_text(tmp_path, S004, "一、总体情况", standard, ("\n政府办公室2021年", "\n石龙区人民政府办公室2021年")),
    ]
    assert {load(p).meta.year for p in [s001, *others]} == {2021}
    assert len({load(p).meta.agency for p in [s001, *others]}) == 5
    assert common_threshold(5) == COMMON_MIN == 5
    assert peers(s001, *others) == []
    # Printed by two agencies only, the same text is a copy.
    fs = peers(s001, others[0])
    assert {f.agency for f in fs} == {"柳州市城中区人民政府", "柳州市人民政府办公室"}


def test_thresholds_and_shingles():
    assert common_threshold(100_000) == COMMON_CAP and common_threshold(1_000) == 10
    a = shingles("本机关高度重视政府信息公开工作，认真贯彻落实条例")
    assert a == shingles("本机关高度重视政府信息公开工作，认真贯彻落实条例") and a
    assert shingles("短文") == frozenset()


@pytest.mark.parametrize("stem", [S000, S003])
def test_a_report_alone_has_no_peer(stem):
    assert peers(sample_path(stem)) == []


def test_a_shorter_name_with_its_own_place_is_not_a_districts_office():
    from auditlib.agencies import resolve

    names = resolve(["柳州市人民政府办公室", "柳州市鱼峰区人民政府办公室", "城中街道办", "柳州市城中区城中街道办事处", "柳州市政府办公室"])
    assert names["柳州市人民政府办公室"] == "柳州市人民政府办公室"  # the city's office, not 鱼峰区's
    assert names["城中街道办"] == "柳州市城中区城中街道办事处"  # a leading place dropped: still an abbreviation
    assert names["柳州市政府办公室"] == "柳州市人民政府办公室"
