"""auditlib.tables: cells into the format's columns, or a clear warning and no value."""

from __future__ import annotations

from auditlib.tables import kind, label_key, place


def test_kind_of_a_cell():
    assert [kind(x) for x in ["", "0", "12", "—", "合计", "/"]] == ["blank", "value", "value", "junk", "text", "junk"]


def test_label_key():
    assert label_key("（七）总计") == "(七)总计"
    # A sentence with a figure is narrative, not a row label.
    assert label_key("本年新收申请31件") is None


def test_place_keeps_values_only_where_certain():
    assert place(["1", "2", "3"], 3) == (["1", "2", "3"], None)
    assert place(["", "1", "2", "3", ""], 3) == (["1", "2", "3"], None)
    assert place(["", "", ""], 3) == ([None, None, None], None)
    values, msg = place(["1", "2"], 3)
    assert values == [None, None, None] and "只见到2个" in msg


def test_parsed_tables_of_a_sample(parsed_samples):
    r = parsed_samples["000_bebe3e000f0fa92c"]
    t3 = r.tables["table3"]
    assert t3.layout.format == "2021" and not t3.warnings
    assert t3.get("new_received", "total") == 78 and t3.get("granted", "total") == 16
    assert r.tables["table4"].get("review", "total") == 6
    # A blank cell is None, never 0.
    assert parsed_samples["004_27f28e9d7369eeba"].tables["table3"].get("granted", "total") is None
