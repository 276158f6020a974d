"""Text files in the encodings reports come in, and files that are not reports."""

from __future__ import annotations

import os

import pytest

from auditlib import IngestError, load, load_one
from auditlib.ingest import read_bytes
from auditlib.ingest.text import decode
from tests.conftest import expected, sample_path

STEM = "000_bebe3e000f0fa92c"


@pytest.mark.parametrize(
    "encoding", ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-8"]
)
def test_encodings_give_the_same_tables(tmp_path, encoding):
    text = sample_path(STEM).read_text(encoding="utf-8")
    # GBK has no NBSP or the ﹝ bracket; the report reads the same without them.
    if encoding.startswith("gb"):
        text = text.replace("\xa0", " ").replace("﹝", "〔").replace("﹞", "〕")
    p = tmp_path / "r.txt"
    p.write_bytes(text.encode(encoding))
    r = load(p)
    want = expected(STEM)
    assert r.meta.agency == want["agency"]
    for table in ("table2", "table3", "table4"):
        assert r.to_json()[table] == want[table]


def test_gbk_is_not_guessed_as_utf8():
    data = "柳州市人民政府办公室2021年政府信息公开工作年度报告".encode("gbk")
    text, enc = decode(data)
    assert text.startswith("柳州市") and enc == "gb18030"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EMPTY"),
        (b"   \n\n  ", "EMPTY"),
        (os.urandom(4096) + b"\x00\x00", "BINARY"),
        ("这是一份会议通知，与信息公开无关。\n".encode() * 20, "NOT_A_REPORT"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "DOC_LEGACY"),
    ],
)
def test_unreadable_inputs_give_clear_errors(tmp_path, data, code):
    p = tmp_path / "bad.txt"
    p.write_bytes(data)
    item = load_one(p)
    assert item.code == code
    assert item.message and "(" in item.message  # Chinese with an English gloss


def test_read_bytes_raises_ingest_error():
    with pytest.raises(IngestError):
        read_bytes(b"", "x.txt")


def test_a_row_split_over_three_lines_keeps_its_label_and_column_order():
    """pdftotext -layout may print one row's numbers on three lines: the label stays as printed."""
    from auditlib.ingest.text import order_split_rows

    lines = [
        "      （二）部分公开（区分处理的，只计这一情                                         17",
        "                             5       3      0",
        "",
        "                                                    0    9     0",
        "      形，不计其他情形）",
    ]
    assert order_split_rows(lines) == [
        "      （二）部分公开（区分处理的，只计这一情  5  3  0  0  9  0  17",
        "",
        "      形，不计其他情形）",
    ]
