"""Every cell and every piece of metadata of the real samples, against the reports themselves.

The expected values in tests/expected/ were read off the reports by hand; see
FORMAT.md. A blank cell is None, never 0.
"""

from __future__ import annotations

import pandas as pd
import pytest

from auditlib import tidy
from tests.conftest import SAMPLE_STEMS, expected


@pytest.mark.parametrize("stem", SAMPLE_STEMS)
def test_metadata(parsed_samples, stem):
    got, want = parsed_samples[stem].to_json(), expected(stem)
    for key in ("agency", "year", "format", "signed_on", "published_on", "sections"):
        assert got[key] == want[key], key


@pytest.mark.parametrize("stem", SAMPLE_STEMS)
@pytest.mark.parametrize("table", ["table2", "table3", "table4"])
def test_every_cell(parsed_samples, stem, table):
    got, want = parsed_samples[stem].to_json()[table], expected(stem)[table]
    assert set(got) == set(want)
    for row, cols in want.items():
        assert got[row] == cols, f"{table} {row}"


def test_table3_shapes(parsed_samples):
    assert parsed_samples["000_bebe3e000f0fa92c"].table3.shape == (25, 7)
    assert parsed_samples["001_0821f10813b957c3"].table3.shape == (23, 7)  # 2019 format
    assert parsed_samples["huaian-2024"].table4.shape == (3, 5)


def test_dataframes_carry_keys_and_own_labels(parsed_samples):
    df = parsed_samples["004_27f28e9d7369eeba"].table3
    assert df.index.names == ["key", "label"]
    # The report's own wording of the row, as printed (half-width parentheses here).
    assert ("total_handled", "(七)总计") in df.index
    assert df.loc[("total_handled", "(七)总计"), ("total", "总计")] == 4
    # Blank rows are missing values, not zeros.
    assert df.xs("granted", level="key").isna().all(axis=None)


def test_blank_cells_are_null_not_zero(parsed_samples):
    r = parsed_samples["000_bebe3e000f0fa92c"]
    assert r.value("table2", "coercion", "decisions") is None
    r = parsed_samples["001_0821f10813b957c3"]
    # The web page shows the empty cell as an extra blank line: exactly that column is null.
    assert r.value("table3", "denied_administrative_query", "legal_service") is None
    assert r.value("table3", "denied_administrative_query", "other_org") == 0


def test_signed_values_2019(parsed_samples):
    t2 = parsed_samples["001_0821f10813b957c3"].to_json()["table2"]
    assert t2["licensing"]["change"] == -3  # 减3项
    assert t2["punishment"]["change"] == 1945  # 增1945
    assert t2["procurement"]["amount"] == 2694.35  # 2694.35万元


def test_extra_value_in_table4_is_not_shifted(parsed_samples):
    r = parsed_samples["004_27f28e9d7369eeba"]
    # 16 numbers for 15 cells: only cells on which every alignment agrees are kept.
    assert r.value("table4", "review", "pending") == 1
    assert r.value("table4", "review", "total") is None
    assert any("表四" in w and "16" in w for w in r.warnings)


def test_tidy_frame(parsed_samples):
    df = tidy(parsed_samples.values())
    assert list(df.columns) == ["source", "agency", "year", "format", "table", "row", "column", "label", "value"]
    huaian = df[(df.agency == "淮安市人民政府") & (df.table == "table3")]
    assert huaian.set_index(["row", "column"]).loc[("new_received", "total"), "value"] == 3119
    assert pd.isna(df[(df.agency == "柳州市人民政府办公室") & (df.row == "coercion")]["value"]).all()
