"""auditlib.layouts: the official tables' rows and columns, and 表三's outcomes."""

from __future__ import annotations

import pytest

from auditlib.layouts import (
    LAYOUTS,
    OUTCOMES,
    T3_OUTCOME,
    T3_RESULT_ROWS_2019,
    T3_RESULT_ROWS_2021,
    TABLE3_2019,
    TABLE3_2021,
    layout,
    outcome_rows,
)
from auditlib.numbers import squash


@pytest.mark.parametrize("key", sorted(LAYOUTS))
def test_every_row_matches_its_own_label(key):
    lay = layout(*key)
    assert lay.table == key[0]
    # 表四 is the same in both formats: one layout serves both.
    assert lay.format == key[1] or (key[0] == "table4" and lay is layout("table4", "2021"))
    assert len({r.key for r in lay.rows}) == len(lay.rows)
    for row in lay.rows:
        assert row.regex.search(squash(row.label)) or row.only_when_next, row.key


def test_outcomes_cover_the_result_rows_exactly():
    for lay, results in ((TABLE3_2021, T3_RESULT_ROWS_2021), (TABLE3_2019, T3_RESULT_ROWS_2019)):
        grouped = [k for o in OUTCOMES for k in outcome_rows(lay, o)]
        assert sorted(grouped) == sorted(results)
    assert outcome_rows(TABLE3_2021, "不予公开") == tuple(k for k in T3_RESULT_ROWS_2021 if k.startswith("denied_"))
    assert len(outcome_rows(TABLE3_2021, "不予公开")) == 8
    assert outcome_rows(TABLE3_2019, "其他处理") == ("other",)
    assert len(outcome_rows(TABLE3_2021, "其他处理")) == 3
    assert T3_OUTCOME["granted"] == "予以公开" and "new_received" not in T3_OUTCOME


def test_unknown_layout_is_an_error():
    with pytest.raises(KeyError):
        layout("table9", "2021")
