"""Each rule on a report that must trigger it and one that must not, built from the samples."""

from __future__ import annotations

import pytest

from auditlib import load
from auditlib.audit import audit
from tests.conftest import S000, S001, S002, S003, S004, edited, sample_path


def fired(paths, rule):
    items = [load(p) for p in paths]
    return [f for f in audit(items, rules=[rule])]


def test_t3_results_sum_counts_filled_cells_and_reports_shortfall():
    fs = fired([sample_path(S004)], "T3_RESULTS_SUM")
    total = next(f for f in fs if f.column == "total")
    assert (total.expected, total.actual) == (4, 3)
    assert "(七)总计" in total.location and "空白" in total.message
    assert fired([sample_path(S000)], "T3_RESULTS_SUM") == []


def test_t3_balance(tmp_path):
    # 000: carried over 3 in 总计; make it 4 so that 一+二 = 82 ≠ 81 + 0.
    p = edited(tmp_path, S000, ("\t⍽3\n".replace("⍽", "\xa0"), "\t\xa04\n"))
    fs = fired([p], "T3_BALANCE")
    assert [(f.column, f.expected, f.actual) for f in fs] == [("total", 82, 81)]
    assert fired([sample_path(S000), sample_path("huaian-2024")], "T3_BALANCE") == []


def test_t3_row_total(tmp_path):
    p = edited(tmp_path, S000, ("\t77\n", "\t76\n"))  # natural persons 76 + 1 ≠ 78
    fs = [f for f in fired([p], "T3_ROW_TOTAL") if f.row == "new_received"]
    assert len(fs) == 1 and (fs[0].expected, fs[0].actual) == (77, 78)
    assert fired([sample_path(S000), sample_path(S001)], "T3_ROW_TOTAL") == []


def test_t4_total(tmp_path):
    p = edited(tmp_path, S000, ("\t6\xa0\n", "\t5\xa0\n"))  # 行政复议 维持 5, 总计 6
    fs = fired([p], "T4_TOTAL")
    assert [(f.row, f.expected, f.actual) for f in fs] == [("review", 5, 6)]
    assert fired([sample_path("huaian-2024"), sample_path(S004)], "T4_TOTAL") == []


def test_table_cell_missing():
    fs = fired([sample_path(S000)], "TABLE_CELL_MISSING")
    assert [(f.table, f.row, f.column) for f in fs] == [("table2", "coercion", "decisions")]
    fs = fired([sample_path(S004)], "TABLE_CELL_MISSING")
    assert {f.row for f in fs} == {"granted", "partially_granted", "denied_state_secret"}
    assert fired([sample_path(S003), sample_path("huaian-2024")], "TABLE_CELL_MISSING") == []


def test_table_shape():
    fs = fired([sample_path(S004)], "TABLE_SHAPE")
    assert len(fs) == 1 and fs[0].table == "table4" and "16" in fs[0].message
    assert fired([sample_path(s) for s in (S000, S001, S002, S003)], "TABLE_SHAPE") == []


def test_section_missing(tmp_path):
    p = edited(tmp_path, S002, ("五、政府信息公开工作存在的主要问题及改进情况", "工作中的问题"))
    fs = fired([p], "SECTION_MISSING")
    assert [f.location for f in fs] == ["五、存在的主要问题及改进情况"]
    assert fired([sample_path(S003), sample_path(S001)], "SECTION_MISSING") == []


def test_format_outdated(tmp_path):
    p = edited(tmp_path, S001, ("柳州市城中区人民政府2020年", "柳州市城中区人民政府2021年"))
    assert len(fired([p], "FORMAT_OUTDATED")) == 1
    assert fired([sample_path(S001), sample_path(S000)], "FORMAT_OUTDATED") == []


def test_date_implausible_late_and_missing(tmp_path):
    assert [f.location for f in fired([sample_path(S001)], "DATE_IMPLAUSIBLE")] == ["落款日期"]
    assert fired([sample_path(S000), sample_path(S003)], "DATE_IMPLAUSIBLE") == []
    late = edited(tmp_path, S000, ("2022年1月26日", "2022年3月2日"))
    fs = fired([late], "LATE_PUBLICATION")
    assert len(fs) == 1 and "30天" in fs[0].message
    assert fired([sample_path(S000), sample_path(S001), sample_path(S003)], "LATE_PUBLICATION") == []
    assert {f.agency for f in fired([sample_path(S002), sample_path(S004)], "DATE_MISSING")} == {
        "柳州市柳江区发展和改革局",
        "石龙区人民政府办公室",
    }
    assert fired([sample_path(S000), sample_path(S001), sample_path(S003)], "DATE_MISSING") == []


def test_date_in_chinese_numerals():
    assert str(load(sample_path(S003)).meta.signed_on) == "2022-01-14"


def test_fee_not_reported():
    assert {f.agency for f in fired([sample_path(s) for s in (S000, S002, S003, S004)], "FEE_NOT_REPORTED")} == {
        "柳州市人民政府办公室",
        "柳州市城中区城中街道办事处",
    }
    assert fired([sample_path("huaian-2024"), sample_path(S001)], "FEE_NOT_REPORTED") == []


def test_title_agency_missing():
    fs = fired([sample_path(S004)], "TITLE_AGENCY_MISSING")
    assert len(fs) == 1 and "石龙区人民政府办公室" in fs[0].message
    # An abbreviated name still names the agency.
    assert fired([sample_path(S003), sample_path(S000)], "TITLE_AGENCY_MISSING") == []


def _previous_year(tmp_path, stem, year, *extra):
    """The same agency's report of the year before, made from the sample."""
    nxt = str(year + 1)
    return edited(
        tmp_path,
        stem,
        (f"{nxt}年政府信息公开工作年度报告", f"{year}年政府信息公开工作年度报告"),
        *extra,
        name=f"{stem}-{year}.txt",
    )


def test_carryover_mismatch(tmp_path):
    # 003 2021 carried 0 over; a 2020 report of the same agency that carried 2 forward.
    prev = edited(
        tmp_path,
        S003,
        ("城中街道办2021年", "柳州市城中区城中街道办事处2020年"),
        ("→四、结转下年度继续办理\n→0\n".replace("→", "\t"), "\t四、结转下年度继续办理\n\t2\n"),
        name="prev.txt",
    )
    fs = fired([prev, sample_path(S003)], "CARRYOVER_MISMATCH")
    assert [(f.year, f.column, f.expected, f.actual) for f in fs] == [(2021, "natural_person", 2, 0)]
    same = edited(tmp_path, S003, ("城中街道办2021年", "柳州市城中区城中街道办事处2020年"), name="prev0.txt")
    assert fired([same, sample_path(S003)], "CARRYOVER_MISMATCH") == []


def test_stock_mismatch(tmp_path):
    prev = edited(tmp_path, S004, ("政府办公室2021年", "政府办公室2020年"), ("行政规范性文件\t7\t0\t7", "行政规范性文件\t0\t0\t0"), name="p.txt")
    assert fired([prev, sample_path(S004)], "STOCK_MISMATCH") == []  # 0 + 7 − 0 = 7
    prev_bad = edited(tmp_path, S004, ("政府办公室2021年", "政府办公室2020年"), ("行政规范性文件\t7\t0\t7", "行政规范性文件\t3\t0\t5"), name="q.txt")
    fs = fired([prev_bad, sample_path(S004)], "STOCK_MISMATCH")
    assert [(f.row, f.expected, f.actual) for f in fs] == [("normative_documents", 12, 7)]


def test_copy_of_previous(tmp_path):
    prev = edited(tmp_path, S000, ("2021年政府信息公开工作年度报告\n\n一", "2020年政府信息公开工作年度报告\n\n一"), name="prev.txt")
    fs = fired([prev, sample_path(S000)], "COPY_OF_PREVIOUS")
    assert len(fs) == 1 and fs[0].year == 2021 and fs[0].actual > 0.9
    other = edited(tmp_path, S003, ("城中街道办2021年", "柳州市人民政府办公室2020年"), name="other.txt")
    assert fired([other, sample_path(S000)], "COPY_OF_PREVIOUS") == []


@pytest.fixture()
def corpus(tmp_path):
    """Ten agencies from sample 000 with 不予公开 around 7%, and one that refuses 60%."""
    paths = []
    for i in range(10):
        paths.append(edited(tmp_path, S000, ("柳州市人民政府办公室\n\n2021", f"第{i}号测试机关办公室\n\n2021"), name=f"a{i}.txt"))
    odd = edited(
        tmp_path,
        S000,
        ("柳州市人民政府办公室\n\n2021", "异常测试局\n\n2021"),
        ("\t5\xa0\n", "\t60\n"),  # 三类内部事务信息, 总计 column: 61 of 81 refused
        name="odd.txt",
    )
    return paths, odd


def test_outlier_rate(corpus):
    paths, odd = corpus
    items = [load(p) for p in [*paths, odd]]
    fs = audit(items, rules=["OUTLIER_RATE"])
    assert [(f.agency, f.location) for f in fs] == [("异常测试局", "表三 （七）总计 / 不予公开")]
    assert fs[0].actual == round(61 / 81, 4)
    assert audit([load(p) for p in paths], rules=["OUTLIER_RATE"]) == []
