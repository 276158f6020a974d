"""The .pdf, .docx and .html readers on real and generated inputs, and on broken files."""

from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile
from pathlib import Path

import pdfplumber
import pytest

from auditlib.blocks import Document, IngestError, Paragraph, Table
from auditlib.ingest.docx import read_docx
from auditlib.ingest.html import read_html
from auditlib.ingest.pdf import _continue_table, _TableItem, read_pdf
from auditlib.layouts import TABLE3_2021, TABLE4
from tests.fixtures import make_docx, make_html, make_text, template_path

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected"
HUAIAN_PDF = next(
    (
        p
        for p in (ROOT / "reports_in" / "huaian-2024.pdf", ROOT.parent / "shared" / "samples" / "huaian-2024.pdf")
        if p.exists()
    ),
    None,
)
NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def expected(stem: str) -> dict:
    return json.loads((EXPECTED / f"{stem}.json").read_text(encoding="utf-8"))


def tables(doc: Document) -> list[Table]:
    return [b for b in doc.blocks if isinstance(b, Table)]


def paragraphs(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks if isinstance(b, Paragraph)]


def table_with(doc: Document, word: str) -> Table:
    found = [t for t in tables(doc) if any(word in (c or "") for row in t.rows for c in row)]
    assert len(found) == 1, f"{word!r} in {len(found)} tables"
    return found[0]


def row_with(table: Table, word: str) -> list[str | None]:
    return next(row for row in table.rows if any(word in (c or "") for c in row))


def numbers(row: list[str | None]) -> list[int | float]:
    return [float(c) if "." in c else int(c) for c in row if c and NUMBER.match(c)]


def t3_data_rows(table: Table) -> list[list[int | float]]:
    return [numbers(r) for r in table.rows if len(numbers(r)) == 7]


# ------------------------------------------------------------------ the real PDF


@pytest.fixture(scope="module")
def huaian() -> Document:
    if HUAIAN_PDF is None:
        pytest.skip("huaian-2024.pdf not available")
    return read_pdf(HUAIAN_PDF.read_bytes(), str(HUAIAN_PDF))


def test_pdf_has_three_tables_and_no_framed_text_tables(huaian):
    assert huaian.kind == "pdf"
    ts = tables(huaian)
    assert len(ts) == 3  # 表二, 表三, 表四; the two framed paragraphs became text
    assert all(max(len(r) for r in t.rows) > 1 for t in ts)


def test_pdf_table3_joined_across_pages_in_one_table(huaian):
    t3 = table_with(huaian, "不掌握")
    assert t3.line == 4
    assert all(len(r) == 10 for r in t3.rows)
    data = t3_data_rows(t3)
    assert len(data) == 25
    want = expected("huaian-2024")["table3"]
    for values, row in zip(data, TABLE3_2021.rows, strict=True):
        assert values == [want[row.key][c.key] for c in row.columns], row.key
    assert numbers(row_with(t3, "本机关不掌握")) == [746, 12, 0, 0, 10, 1, 769]
    assert numbers(row_with(t3, "结转下年度")) == [103, 0, 0, 0, 0, 0, 103]


def test_pdf_table3_merged_label_cells(huaian):
    t3 = table_with(huaian, "不掌握")
    first = row_with(t3, "予以公开")
    assert first[0] == "三、本年度办理结果"  # the vertical label, one character per line in the PDF
    # The page break cut the merged cell （四）无法提供 in two; it is whole again.
    row = row_with(t3, "本机关不掌握")
    assert row[:3] == [None, "（四）无法提供", "1.本机关不掌握相关政府信息"]
    assert row_with(t3, "没有现成信息")[:2] == [None, None]
    assert row_with(t3, "部分公开")[1] == "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    header = t3.rows[2]
    assert header[4:9] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]


def test_pdf_table2_joined_across_pages(huaian):
    t2 = table_with(huaian, "规章")
    assert numbers(row_with(t2, "规章")) == [1, 0, 11]
    assert numbers(row_with(t2, "行政处罚")) == [3985758]
    assert numbers(row_with(t2, "行政许可")) == [447228]
    assert numbers(row_with(t2, "行政事业性收费")) == [96171.6]


def test_pdf_table4(huaian):
    t4 = table_with(huaian, "行政复议")
    want = expected("huaian-2024")["table4"]
    assert numbers(t4.rows[-1]) == [want[r.key][c.key] for r in TABLE4.rows for c in r.columns]


def test_pdf_paragraphs(huaian):
    texts = paragraphs(huaian)
    assert texts[0] == "淮安市人民政府2024年政府信息公开工作年度报告"
    for heading in ("一、总体情况", "二、主动公开政府信息情况", "六、其他需要报告的事项"):
        assert heading in texts
    # Lines joined without spaces; spaces beside CJK removed; page footers gone.
    assert any("全市共受理政府信息公开申请3119件，答复3050件" in t for t in texts)
    assert not any(re.fullmatch(r"-\s*\d+\s*-", t) for t in texts)
    # A paragraph continued over a page break is one paragraph.
    assert any("“建设‘四最’一流营商环境高质量推进产业发展”" in t for t in texts)
    # The framed introduction is text, and kept its last characters.
    assert any(t.startswith("本报告由淮安市人民政府办公室") and "2024年12月31日。" in t for t in texts)
    assert (
        texts[-1] == "2024年，市政府严格落实《政府信息公开信息处理费管理办法》，全年收取政府信息公开信息处理费3940元。"
    )


def test_pdf_blocks_in_reading_order(huaian):
    kinds = []
    for b in huaian.blocks:
        if isinstance(b, Table):
            kinds.append("T")
        elif re.match(r"^[一二三四五六]、", b.text):
            kinds.append(b.text[0])
    assert kinds == ["一", "二", "T", "三", "T", "四", "T", "五", "六"]


# ------------------------------------------------------------------ broken and unreadable PDFs


def _build_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def scanned_pdf() -> bytes:
    """One page holding only an image, as a scanner makes it."""
    content = b"q 400 0 0 600 100 100 cm /Im1 Do Q"
    image = bytes(range(0, 256, 16))
    return _build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /XObject /Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(image) + image + b"\nendstream",
        ]
    )


def encrypted_pdf() -> bytes:
    """Standard security handler whose empty user password does not open it."""
    return _build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [] /Count 0 >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>",
        ],
        trailer_extra=b"/Encrypt 3 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] ",
    )


def test_scanned_pdf_has_no_text():
    data = scanned_pdf()
    with pdfplumber.open(io.BytesIO(data)) as pdf:  # a valid PDF, with its image
        assert len(pdf.pages) == 1 and len(pdf.pages[0].images) == 1
    with pytest.raises(IngestError) as err:
        read_pdf(data, "scan.pdf")
    assert err.value.code == "PDF_NO_TEXT"
    assert "OCR" in err.value.message and "扫描件" in err.value.message


def test_encrypted_pdf():
    with pytest.raises(IngestError) as err:
        read_pdf(encrypted_pdf(), "locked.pdf")
    assert err.value.code == "PDF_ENCRYPTED"


@pytest.mark.parametrize(
    "data",
    [os.urandom(4096), b"%PDF-1.7\n" + os.urandom(4096), b"", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog"],
    ids=["random", "pdf-header-then-garbage", "empty", "truncated-tiny"],
)
def test_corrupt_pdf(data):
    with pytest.raises(IngestError) as err:
        read_pdf(data, "bad.pdf")
    assert err.value.code == "PDF_CORRUPT"


def test_truncated_real_pdf():
    if HUAIAN_PDF is None:
        pytest.skip("huaian-2024.pdf not available")
    data = HUAIAN_PDF.read_bytes()
    with pytest.raises(IngestError) as err:
        read_pdf(data[: len(data) // 2], "half.pdf")
    assert err.value.code == "PDF_CORRUPT"


def test_table_continuation_rules():
    # A row cut in two by the page break: label continues, numbers on one side only.
    top = _TableItem([["1.本机关不掌握", "3", "4"], ["5.要求行政机关确认或重新出", "", ""]], 0, 0, 1)
    _continue_table(top, _TableItem([["具已获取信息", "1", "0"], ["6.下一行", "2", "2"]], 0, 0, 2))
    assert top.rows == [
        ["1.本机关不掌握", "3", "4"],
        ["5.要求行政机关确认或重新出具已获取信息", "1", "0"],
        ["6.下一行", "2", "2"],
    ]
    # Header rows repeated on the new page are kept once; distinct rows are never merged.
    top = _TableItem([["信息内容", "数量"], ["规章", "1"]], 0, 0, 1)
    _continue_table(top, _TableItem([["信息内容", "数量"], ["行政许可", "2"]], 0, 0, 2))
    assert top.rows == [["信息内容", "数量"], ["规章", "1"], ["行政许可", "2"]]
    # Rows of different widths are appended as they are.
    top = _TableItem([["规章", "1", "0", "11"]], 0, 0, 1)
    _continue_table(top, _TableItem([["行政处罚", "3985758"]], 0, 0, 2))
    assert top.rows == [["规章", "1", "0", "11"], ["行政处罚", "3985758"]]


# ------------------------------------------------------------------ docx


NARRATIVE = [
    "2021年，本机关认真贯彻落实《条例》，全年共收到政府信息公开申请78件。",
    "（一）主动公开情况。全年主动公开政府信息1200条。",
]


@pytest.fixture(scope="module")
def docx_000(tmp_path_factory) -> Document:
    report = expected("000_bebe3e000f0fa92c")
    path = make_docx(report, NARRATIVE, tmp_path_factory.mktemp("docx") / "000.docx")
    return read_docx(path.read_bytes(), str(path))


def test_template_copy_exists():
    assert template_path().exists()
    assert (ROOT / "tests" / "data" / "format-2021-blank.docx").exists()


def test_docx_blocks_in_body_order(docx_000):
    doc = docx_000
    assert doc.kind == "docx"
    texts = paragraphs(doc)
    assert texts[0] == "柳州市人民政府办公室2021年政府信息公开工作年度报告"
    assert texts[-2:] == ["柳州市人民政府办公室", "2022年1月26日"]
    assert NARRATIVE[0] in texts and "（文字描述）" not in texts
    order = [
        "T" if isinstance(b, Table) else b.text[:2] for b in doc.blocks if isinstance(b, Table) or b.text[1:2] == "、"
    ]
    assert order == ["一、", "二、", "T", "三、", "T", "四、", "T", "五、", "六、"]


def test_docx_merged_cells_are_none(docx_000):
    want = expected("000_bebe3e000f0fa92c")
    t2, t3, t4 = tables(docx_000)
    # gridSpan: the group title spans all four columns; 本年处理决定数量 spans three.
    assert t2.rows[0] == ["第二十条第（一）项", None, None, None]
    assert row_with(t2, "规章") == ["规章", "2", "0", "5"]
    assert row_with(t2, "行政处罚") == ["行政处罚", "0", None, None]
    assert row_with(t2, "行政强制") == ["行政强制", "", None, None]  # None in the json: left blank
    # vMerge: 三、本年度办理结果 stands once, in its top cell.
    assert t3.rows[0][:4] == [
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
        None,
        None,
        "申请人情况",
    ]
    assert t3.rows[1][:4] == [None, None, None, "自然人"]
    assert row_with(t3, "予以公开")[:3] == ["三、本年度办理结果", "（一）予以公开", None]
    assert row_with(t3, "国家秘密")[:2] == [None, "（三）不予公开"]
    assert row_with(t3, "禁止公开")[:2] == [None, None]
    assert t3.rows[2][4] == "商业\n企业"  # cell paragraphs joined with \n
    data = t3_data_rows(t3)
    assert len(data) == 25
    for values, row in zip(data, TABLE3_2021.rows, strict=True):
        assert values == [want["table3"][row.key][c.key] for c in row.columns], row.key
    assert sum(1 for c in t3.rows[3] if c is None) == 2
    assert t4.rows[0][:6] == ["行政复议", None, None, None, None, "行政诉讼"]
    assert t4.rows[2][:5] == [None] * 5
    assert numbers(t4.rows[3]) == [want["table4"][r.key][c.key] for r in TABLE4.rows for c in r.columns]


def test_make_docx_refuses_2019_format(tmp_path):
    with pytest.raises(ValueError):
        make_docx(expected("001_0821f10813b957c3"), [], tmp_path / "x.docx")


def _docx_bytes(tmp_path: Path) -> bytes:
    return make_docx(expected("000_bebe3e000f0fa92c"), NARRATIVE, tmp_path / "ok.docx").read_bytes()


def test_corrupt_docx(tmp_path):
    good = _docx_bytes(tmp_path)
    for bad in (b"PK\x03\x04" + os.urandom(2000), good[: len(good) // 2], good[:100], b"not a zip at all"):
        with pytest.raises(IngestError) as err:
            read_docx(bad, "bad.docx")
        assert err.value.code == "DOCX_CORRUPT"


def test_docx_without_document_part(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("hello.txt", "hi")
    with pytest.raises(IngestError) as err:
        read_docx(buf.getvalue(), "empty.docx")
    assert err.value.code == "DOCX_CORRUPT"


def test_legacy_doc_is_refused_with_advice():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "WordDocument".encode("utf-16-le") + b"\x00" * 1000
    with pytest.raises(IngestError) as err:
        read_docx(data, "old.doc")
    assert err.value.code == "DOC_LEGACY"
    assert ".docx" in err.value.message


def test_encrypted_docx():
    # Word saves a password-protected .docx as an OLE container with these streams.
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 50
        + "EncryptedPackage".encode("utf-16-le")
        + b"\x00" * 1000
    )
    with pytest.raises(IngestError) as err:
        read_docx(data, "locked.docx")
    assert err.value.code == "DOCX_ENCRYPTED"


# ------------------------------------------------------------------ html


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_html_tables_with_rowspan_and_colspan(tmp_path, encoding):
    report = expected("000_bebe3e000f0fa92c")
    path = make_html(report, NARRATIVE, tmp_path / "r.html", encoding=encoding)
    doc = read_html(path.read_bytes(), str(path))
    assert doc.kind == "html"
    assert doc.encoding == ("utf-8" if encoding == "utf-8" else "gb18030")
    t2, t3, t4 = tables(doc)
    assert t2.rows[0] == ["第二十条第（一）项", None, None, None]
    assert row_with(t2, "行政处罚") == ["行政处罚", "0", None, None]
    assert row_with(t2, "行政强制") == ["行政强制", "", None, None]  # &nbsp; → ""
    # 表三: three label columns; rowspan/colspan positions are None.
    assert (
        t3.rows[0]
        == ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", None, None, "申请人情况"]
        + [None] * 6
    )
    assert t3.rows[1] == [None, None, None, "自然人", "法人或其他组织", None, None, None, None, "总计"]
    assert t3.rows[2][:4] == [None, None, None, None]
    assert row_with(t3, "予以公开")[:3] == ["三、本年度办理结果", "（一）予以公开", None]
    assert row_with(t3, "本机关不掌握")[:3] == [None, "（四）无法提供", "1.本机关不掌握相关政府信息"]
    assert row_with(t3, "重复申请")[:3] == [None, None, "2.重复申请"]
    assert row_with(t3, "结转下年度")[:3] == ["四、结转下年度继续办理", None, None]
    want = report["table3"]
    data = t3_data_rows(t3)
    assert len(data) == 25
    for values, row in zip(data, TABLE3_2021.rows, strict=True):
        assert values == [want[row.key][c.key] for c in row.columns], row.key
    # 表四: two-level header with colspan; values padded with &nbsp;.
    assert t4.rows[0] == ["行政复议", None, None, None, None, "行政诉讼"] + [None] * 9
    assert t4.rows[1][5:11] == ["未经复议直接起诉", None, None, None, None, "复议后起诉"]
    assert t4.rows[2][:5] == [None] * 5
    assert t4.rows[3] == ["6", "0", "0", "0", "6", "0", "0", "0", "0", "0", "2", "0", "0", "0", "2"]


def test_html_chrome_dropped_article_kept(tmp_path):
    report = expected("000_bebe3e000f0fa92c")
    path = make_html(report, NARRATIVE, tmp_path / "r.html")
    doc = read_html(path.read_bytes(), str(path))
    texts = paragraphs(doc)
    joined = "\n".join(texts)
    for chrome in ("首页", "网站地图", "分享到", "版权所有", "当前位置", "var _hmt", "访问量统计代码", "body {"):
        assert chrome not in joined, chrome
    assert texts[0] == "柳州市人民政府办公室2021年政府信息公开工作年度报告"
    assert any("发布日期：2022-01-26" in t for t in texts)
    assert NARRATIVE[0] in texts  # &nbsp; indent stripped
    assert texts[-1] == "2022年1月26日"


def test_html_2019_format(tmp_path):
    report = expected("001_0821f10813b957c3")
    path = make_html(report, ["x"], tmp_path / "r.html")
    doc = read_html(path.read_bytes(), str(path))
    t2, t3, _ = tables(doc)
    assert row_with(t2, "行政许可") == ["行政许可", "184", "减3", "2982"]
    assert row_with(t2, "集中采购") == ["政府集中采购", "868", "2694.35", None]
    assert len(t3.rows) == 3 + 23  # header rows, then the 2019 format's 23 data rows
    assert row_with(t3, "行政查询")[3:] == ["0", "0", "0", "0", "", "0", "0"]  # null in the json: blank
    assert row_with(t3, "其他处理")[:3] == [None, "（六）其他处理", None]


def test_html_wrong_declared_charset_and_bare_gbk():
    body = "<p>本年度共收到申请12件。</p><table><tr><td>规章</td><td>1</td></tr></table>"
    lying = f'<html><head><meta charset="utf-8"></head><body>{body}</body></html>'.encode("gbk")
    doc = read_html(lying, "x.html")
    assert paragraphs(doc) == ["本年度共收到申请12件。"]
    assert doc.warnings
    bare = f"<html><body>{body * 20}</body></html>".encode("gbk")
    assert paragraphs(read_html(bare, "y.html"))[0] == "本年度共收到申请12件。"


def test_html_layout_tables_and_line_breaks():
    page = """<html><body><table width="100%"><tr><td class="left">栏目</td><td>
    <p>报告标题</p>本年度共收到<b>申请</b>
    12件。<br>第二行&nbsp;<br/>
    <table border="1"><tr><th>项目</th><th>数量</th></tr><tr><td>规章</td><td>&nbsp;</td></tr></table>
    <ul><li>一、总体情况</li><li>二、主动公开</li></ul>
    </td></tr></table><div>政府
信息公开</div></body></html>"""
    doc = read_html(page.encode("utf-8"), "layout.html")
    assert paragraphs(doc) == [
        "栏目",
        "报告标题",
        "本年度共收到申请 12件。",
        "第二行",
        "一、总体情况",
        "二、主动公开",
        "政府信息公开",
    ]
    (table,) = tables(doc)
    assert table.rows == [["项目", "数量"], ["规章", ""]]


def test_html_malformed_spans_do_not_explode():
    page = (
        '<table><tr><td rowspan="0">a</td><td colspan="99999">b</td><td rowspan="x">c</td></tr>'
        '<tr><td colspan="-3">d</td></tr><tr><td>e<td>f</tr></table>'
    )
    (table,) = tables(read_html(page.encode(), "m.html"))
    assert table.rows[0][0] == "a" and table.rows[1][0] is None and table.rows[2][0] is None
    assert len(table.rows[0]) <= 1002


def test_deeply_nested_html_is_read_quickly():
    depth = 100_000
    page = b"<html><body>" + b"<div>" * depth + b"<p>deep text</p>" + b"</div>" * depth + b"<p>after</p></body></html>"
    start = time.monotonic()
    doc = read_html(page, "deep.html")
    assert time.monotonic() - start < 30
    assert paragraphs(doc) == ["deep text", "after"]
    unclosed = b"<html><body>" + b"<font>x" * 20_000 + b"<p>tail</p></body></html>"
    assert paragraphs(read_html(unclosed, "unclosed.html"))[-1] == "tail"


def test_make_text_writes_requested_encoding(tmp_path):
    report = expected("000_bebe3e000f0fa92c")
    path = make_text(report, NARRATIVE, tmp_path / "r.txt", "utf-16")
    text = path.read_bytes().decode("utf-16")
    assert text.startswith("柳州市人民政府办公室2021年政府信息公开工作年度报告")
    assert "1.本机关不掌握相关政府信息\t38\t0\t0\t0\t0\t0\t38" in text


def test_docx_frames_nested_tables_and_hidden_text():
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    d = docx.Document()
    p = d.add_paragraph("标题")
    p.runs[0].add_break()
    p.add_run("第二行")
    # A one-cell table framing text and a data table: its content is read as blocks.
    frame = d.add_table(rows=1, cols=1)
    cell = frame.cell(0, 0)
    cell.paragraphs[0].text = "框内文字"
    inner = cell.add_table(rows=2, cols=2)
    inner.cell(0, 0).text = "规章"
    inner.cell(0, 1).text = "1"
    inner.cell(1, 0).merge(inner.cell(1, 1)).text = "合并"
    # A table inside a data cell is kept as that cell's text.
    data = d.add_table(rows=2, cols=2)
    data.cell(0, 0).text = "A"
    nested = data.cell(1, 1).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "x"
    nested.cell(0, 1).text = "y"
    body = d.element.body
    body.insert(
        len(body) - 1,
        parse_xml(f"<w:sdt {w}><w:sdtContent><w:p><w:r><w:t>控件内</w:t></w:r></w:p></w:sdtContent></w:sdt>"),
    )
    tracked = d.add_paragraph()
    tracked._p.append(parse_xml(f'<w:del {w} w:id="1" w:author="a"><w:r><w:delText>删掉</w:delText></w:r></w:del>'))
    tracked._p.append(parse_xml(f"<w:r {w}><w:instrText>PAGE</w:instrText></w:r>"))
    tracked.add_run("保留")
    buf = io.BytesIO()
    d.save(buf)

    doc = read_docx(buf.getvalue(), "tricky.docx")
    assert paragraphs(doc) == ["标题", "第二行", "框内文字", "控件内", "保留"]
    assert [t.rows for t in tables(doc)] == [[["规章", "1"], ["合并", None]], [["A", ""], ["", "x\ty"]]]


def test_xhtml_page_with_word_markup():
    page = """<?xml version="1.0" encoding="gb2312"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:o="urn:schemas-microsoft-com:office:office"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" /></head>
<body><!--[if gte mso 9]><xml><o:DocumentProperties><o:Author>x</o:Author></o:DocumentProperties></xml><![endif]-->
<p class=MsoNormal align=center><b><span style='font-size:22.0pt'>某局2021年政府信息公开
工作年度报告<o:p></o:p></span></b></p>
<p class=MsoNormal><span>　　本年度收到申请<span lang=EN-US>12</span>件。<o:p></o:p></span></p>
<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>
</body></html>"""
    doc = read_html(page.encode("gbk"), "word.html")
    assert doc.encoding == "gb18030"
    assert paragraphs(doc) == ["某局2021年政府信息公开工作年度报告", "本年度收到申请12件。"]
