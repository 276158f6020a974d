"""The audit of the six real samples: their real defects, and no false alarm.

Each expected finding was checked by reading the report (see FORMAT.md).
"""

from __future__ import annotations

from collections import Counter

import pytest

from auditlib import load_reports
from auditlib.audit import audit
from auditlib.findings import findings_frame
from tests.conftest import SAMPLES

EXPECTED = {
    "000_bebe3e000f0fa92c": {"FEE_NOT_REPORTED": 1, "TABLE_CELL_MISSING": 1},  # 六 says 无; 行政强制 blank
    "001_0821f10813b957c3": {"DATE_IMPLAUSIBLE": 1, "TABLE_CELL_MISSING": 1},  # signed 2020年1月29日 on 2020
    "002_70eac6e8a2e0d3d2": {"DATE_MISSING": 1},
    "003_c430893fbea2ae1b": {"FEE_NOT_REPORTED": 1},  # 六 says 无。
    "004_27f28e9d7369eeba": {
        "T3_RESULTS_SUM": 2,  # 自然人 and 总计: results account for 3 of 4
        "TABLE_CELL_MISSING": 3,  # 予以公开, 部分公开, 国家秘密 rows blank
        "TABLE_SHAPE": 1,  # 表四 has 16 numbers
        "YOY_IMPOSSIBLE": 1,  # 4 applications 同比上升400%
        "TEXT_TABLE_MISMATCH": 1,  # 不予公开 1件 in the text, 3 in 表三
        "TITLE_AGENCY_MISSING": 1,  # title says only 政府办公室
        "DATE_MISSING": 1,
    },
    "huaian-2024": {"DATE_MISSING": 1},
}


@pytest.fixture(scope="module")
def findings():
    return audit(load_reports(SAMPLES))


def test_real_defects_and_no_false_alarm(findings):
    got: dict[str, Counter] = {}
    for f in findings:
        stem = f.source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        got.setdefault(stem, Counter())[f.rule] += 1
    for stem, want in EXPECTED.items():
        assert dict(got.get(stem, {})) == want, stem


def test_findings_quote_the_report(findings):
    for f in findings:
        assert (f.location and f.message and "(" in f.message) or "（" in f.message
        if f.rule in ("T3_RESULTS_SUM", "TABLE_CELL_MISSING", "TABLE_SHAPE"):
            assert f.evidence, f


def test_finding_ids_are_stable_across_runs(findings):
    again = audit(load_reports(SAMPLES))
    assert [f.id for f in findings] == [f.id for f in again]
    assert len({f.id for f in findings}) == len(findings)


def test_findings_frame(findings):
    df = findings_frame(findings)
    assert {"id", "rule", "severity", "location", "evidence"} <= set(df.columns)
    assert len(df) == len(findings)
    assert df.loc[df.rule == "T3_RESULTS_SUM", "expected"].tolist() == [4, 4]
