"""整改通知: the command writes one Word notice per agency with confirmed findings and an
Excel list; the files are opened with python-docx / openpyxl and a page is rendered."""

from __future__ import annotations

import shutil
import subprocess

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from auditlib.audit import audit
from auditlib.cli import main
from auditlib.corpus import load_reports
from auditlib.notices import ROW_FIELDS
from auditlib.review import ReviewStore
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    """The samples audited and synced; two agencies' findings confirmed (one also dismissed)."""
    tmp = tmp_path_factory.mktemp("notices")
    reports = load_reports(SAMPLES)
    findings = audit(reports)
    store = ReviewStore(tmp / "audit.db")
    store.sync(findings)
    by_agency: dict[str, list] = {}
    for f in findings:
        by_agency.setdefault(f.agency or "", []).append(f)
    city = by_agency["柳州市人民政府办公室"]
    huaian = by_agency["淮安市人民政府"]
    store.decide(city[0].id, "confirmed", "请补充说明信息处理费", who="李审核")
    store.decide(city[1].id, "dismissed", "不成立", who="李审核")
    store.decide(huaian[0].id, "confirmed", "核对表格后确认", who="李审核")
    return tmp, store, {"柳州市人民政府办公室": [city[0]], "淮安市人民政府": [huaian[0]]}


def cell_texts(doc) -> list[list[str]]:
    return [[c.text for c in row.cells] for t in doc.tables for row in t.rows]


def test_notices_command_writes_a_notice_per_agency(decided):
    tmp, store, confirmed = decided
    out = tmp / "out"
    res = CliRunner().invoke(
        main, ["notices", str(SAMPLES), "--out", str(out), "--db", str(store.path), "--deadline", "2027-01-15"]
    )
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in out.glob("*.docx"))
    assert files == ["整改通知_柳州市人民政府办公室.docx", "整改通知_淮安市人民政府.docx"]

    doc = docx.Document(str(out / "整改通知_柳州市人民政府办公室.docx"))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "{{" not in body and "{{" not in str(cell_texts(doc))
    assert body.splitlines()[1] == "柳州市人民政府办公室："
    assert "《柳州市人民政府办公室2021年度政府信息公开工作年度报告》存在以下 1 项问题" in body
    assert "2027年1月15日前书面回复" in body
    rows = cell_texts(doc)
    assert rows[0] == ["序号", "位置", "问题", "报告原文", "审核意见"]
    f = confirmed["柳州市人民政府办公室"][0]
    assert len(rows) == 2  # the dismissed finding is not listed
    number, place, problem, words, note = rows[1]
    assert number == "1" and place.startswith(f.location)
    # The message in Chinese only: the English gloss is left out of an official letter.
    assert problem.startswith(f.message[:12]) and "section" in f.message and "section" not in problem
    assert words == f.evidence and note == "请补充说明信息处理费"

    book = openpyxl.load_workbook(out / "整改通知清单.xlsx")
    ws = book["整改通知清单"]
    lines = [[c.value for c in row] for row in ws.iter_rows()]
    assert lines[0][:4] == ["序号", "机关", "报告年度", "确认问题数"]
    assert [(r[1], r[2], r[3], r[6], r[8]) for r in lines[1:]] == [
        ("柳州市人民政府办公室", "2021", 1, "整改通知_柳州市人民政府办公室.docx", "2027-01-15"),
        ("淮安市人民政府", "2024", 1, "整改通知_淮安市人民政府.docx", "2027-01-15"),
    ]


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftoppm")), reason="needs LibreOffice and poppler")
def test_notice_renders_as_a_page(decided, tmp_path):
    """What the agency will see: LibreOffice renders the notice; the page holds the letter and the table."""
    import pdfplumber

    tmp, store, _confirmed = decided
    out = tmp / "render"
    res = CliRunner().invoke(main, ["notices", str(SAMPLES), "--out", str(out), "--db", str(store.path)])
    assert res.exit_code == 0, res.output
    src = out / "整改通知_淮安市人民政府.docx"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(src)],
        check=True, capture_output=True, timeout=180,
    )
    pdf = tmp_path / (src.stem + ".pdf")
    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        text = page.extract_text()
        assert "政府信息公开工作年度报告整改通知" in text and "淮安市人民政府：" in text
        tables = page.find_tables()
        assert tables and len(tables[0].rows) == 2 and len(tables[0].rows[0].cells) == 5
        grid = tables[0].extract()
        assert grid[0][0] == "序号" and grid[1][0] == "1"  # the columns are wide enough for their heads
        assert grid[1][4].replace("\n", "") == "核对表格后确认"
        table_top = tables[0].bbox[1]
        title = page.search("整改通知")[0]
        assert title["top"] < table_top  # the letter comes before the table
        width = float(page.width)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    from PIL import Image

    img = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    scale = img.width / width
    # The table's rules are drawn: a dark horizontal line runs across its top edge.
    y = round(table_top * scale)
    band = [img.getpixel((x, yy)) for yy in range(max(0, y - 1), y + 2) for x in range(img.width // 4, img.width * 3 // 4)]
    assert sum(v < 128 for v in band) > img.width // 3


def test_own_template_and_a_bad_one(decided, tmp_path):
    _tmp, store, _ = decided
    own = docx.Document()
    p = own.add_paragraph()
    for piece in ("致", "{{", "机关", "}}", "：请于{{回复期限}}前整改。"):  # Word splits typed text into runs
        p.add_run(piece)
    t = own.add_table(rows=1, cols=3)
    for cell, field in zip(t.rows[0].cells, ("{{序号}}", "{{规则}}", "{{审核意见}}"), strict=True):
        cell.text = field
    own.save(str(tmp_path / "own.docx"))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        ["notices", str(SAMPLES), "--out", str(out), "--db", str(store.path), "--template", str(tmp_path / "own.docx"),
         "--reply-days", "10"],
    )
    assert res.exit_code == 0, res.output
    doc = docx.Document(str(out / "整改通知_淮安市人民政府.docx"))
    assert doc.paragraphs[0].text.startswith("致淮安市人民政府：请于") and "{{" not in doc.paragraphs[0].text
    assert cell_texts(doc)[0][2] == "核对表格后确认"

    bad = docx.Document()
    bad.add_paragraph("{{机关}}")
    bad.save(str(tmp_path / "bad.docx"))
    res = CliRunner().invoke(
        main, ["notices", str(SAMPLES), "--out", str(tmp_path / "o2"), "--db", str(store.path), "--template",
               str(tmp_path / "bad.docx")],
    )
    assert res.exit_code != 0 and "模板" in res.output
    assert set(ROW_FIELDS) >= {"位置", "原文", "审核意见"}
