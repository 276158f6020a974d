"""Reports made the way agencies make them, with KNOWN numbers put in, then changed the way
real documents differ: mixed formats, misprinted labels, amounts in 元, titles and crawler
fields, crawler text on one line, Word-exported HTML, pages split by the site, tables as images.

Every cell must come out as put in, or null with a warning that names it; a clean variant
gives no finding at all; a defect put in is still found.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import pytest

from auditlib.audit import audit
from auditlib.ingest import find_reports
from auditlib.report import load
from tests.conftest import ROOT, edited, expected, sample_path
from tests.fixtures import make_docx, make_html, make_text
from tests.variants import (
    AGENCY,
    COLUMN_STYLES,
    NARRATIVE,
    cell_problems,
    crawler_one_line,
    edit_docx,
    edit_text,
    html_split_files,
    html_split_pages,
    html_table_as_image,
    known,
    mixed_text,
    mso_html,
    soffice_html,
    text_with_columns,
)

TITLE = f"{AGENCY}2021年政府信息公开工作年度报告"
MISPRINTS = [
    ("2.其他法律行政法规禁止公开", "2.其他法律行政止公开"),  # a character dropped: matches no row
    ("1.属于国家秘密", "1.1.属于国家秘密"),  # numbering doubled
    ("7.属于行政执法案卷", "属于行政执法案卷"),  # numbering missing
    ("（七）总计", "(七)总计"),  # half-width brackets
    ("（一）予以公开", "(一)予以公开"),
    ("社会公益组织", "社会组织"),  # a column header shortened
]


def rules(findings: list) -> list[tuple[str, str]]:
    return sorted((f.rule, f.location) for f in findings)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("variants")
    k = known()
    docx_clean = make_docx(k, NARRATIVE, d / "clean.docx")
    text_clean = make_text(k, NARRATIVE, d / "clean.txt")
    html_clean = make_html(k, NARRATIVE, d / "clean.html")
    out = {
        "docx": docx_clean,
        "text": text_clean,
        "html": html_clean,
        "mso-html": mso_html(k, NARRATIVE, d / "mso.html"),
        "docx-misprint": edit_docx(docx_clean, d / "misprint.docx", MISPRINTS),
    }
    if shutil.which("soffice") or shutil.which("libreoffice"):
        # Word-HTML made by a real engine: LibreOffice saves the filled template as a web page.
        out["lo-html"] = soffice_html(docx_clean, d / "lo")
        out["lo-html-misprint"] = soffice_html(out["docx-misprint"], d / "lo")
    return out


CLEAN = ["docx", "text", "html", "mso-html", "lo-html"]


@pytest.mark.parametrize("kind", CLEAN)
def test_clean_variants_every_cell_and_no_finding(made, kind):
    if kind not in made:
        pytest.skip("LibreOffice (soffice) is not installed")
    r = load(made[kind])
    assert cell_problems(r, known()) == []
    j = r.to_json()
    assert (j["agency"], j["year"], j["format"], j["signed_on"]) == (AGENCY, 2021, "2021", "2022-01-20")
    assert j["sections"] == ["一", "二", "三", "四", "五", "六"]
    assert j["table_formats"] == {"table2": "2021", "table3": "2021", "table4": "2021"}
    assert j["warnings"] == []
    assert rules(audit([r])) == []


def test_clean_2019_format_report(tmp_path):
    k = known("2019")
    k.update(year=2020, signed_on="2021-01-20")
    r = load(make_text(k, NARRATIVE, tmp_path / "r2019.txt"))
    assert cell_problems(r, k) == []
    assert r.to_json()["table_formats"] == {"table2": "2019", "table3": "2019", "table4": "2021"}
    assert rules(audit([r])) == []


# ------------------------------------------------------------------ class 2: format per table
def test_mixed_formats_read_per_table(tmp_path):
    path, want = mixed_text(tmp_path / "mixed.txt")
    r = load(path)
    assert cell_problems(r, want) == []
    j = r.to_json()
    assert j["table_formats"] == {"table2": "2021", "table3": "2019", "table4": "2021"}
    assert j["table2"]["regulations"] == {"issued": 0, "repealed": 0, "in_force": 3}
    assert j["table3"]["other"]["total"] == 1
    assert any("表二为2021版" in w and "表三为2019版" in w for w in j["warnings"])
    fs = audit([r])
    assert rules(fs) == [("FORMAT_OUTDATED", "表三")]
    assert "（六）其他处理" in fs[0].message and fs[0].evidence.startswith("（六）其他处理")


def test_mixed_formats_defect_still_found(tmp_path):
    path, _ = mixed_text(tmp_path / "mixed.txt")
    # （七）总计 of the 2019 表三: 自然人 10 → 11 (the row's 总计 stays 13).
    bad = edit_text(path, tmp_path / "bad.txt", [("（七）总计\t10\t", "（七）总计\t11\t")])
    fs = audit([load(bad)])
    got = {(f.rule, f.location) for f in fs}
    assert ("T3_RESULTS_SUM", "表三 （七）总计 / 自然人") in got
    assert ("T3_ROW_TOTAL", "表三 （七）总计 / 总计") in got
    assert ("T3_BALANCE", "表三 自然人列") in got
    assert not {r for r, _ in got} & {"TABLE_CELL_MISSING", "TABLE_SHAPE"}


def test_2019_table2_in_a_2021_report_named(tmp_path):
    new, old = known("2021"), known("2019")
    a, b = make_text(new, NARRATIVE, tmp_path / "a.txt"), make_text(old, NARRATIVE, tmp_path / "b.txt")
    la, lb = a.read_text(encoding="utf-8").split("\n"), b.read_text(encoding="utf-8").split("\n")

    def t2(lines: list[str]) -> tuple[int, int]:
        return lines.index("二、主动公开政府信息情况") + 1, lines.index("三、收到和处理政府信息公开申请情况")

    (i, j), (m, n) = t2(la), t2(lb)
    a.write_text("\n".join(la[:i] + lb[m:n] + la[j:]), encoding="utf-8")
    r = load(a)
    want = copy.deepcopy(new)
    want["table2"] = old["table2"]
    assert cell_problems(r, want) == []
    assert r.to_json()["table_formats"] == {"table2": "2019", "table3": "2021", "table4": "2021"}
    fs = audit([r])
    assert rules(fs) == [("FORMAT_OUTDATED", "表二")]
    assert "本年新制作数量" in fs[0].evidence


# ------------------------------------------------------------------ class 3: misprinted labels
@pytest.mark.parametrize("kind", ["text", "docx-misprint", "lo-html-misprint"])
def test_misprinted_labels_placed_with_a_warning(made, tmp_path, kind):
    if kind not in made:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = made[kind] if kind != "text" else edit_text(made["text"], tmp_path / "m.txt", MISPRINTS)
    r = load(path)
    assert cell_problems(r, known()) == []
    placed = [w for w in r.warnings if "印作" in w]
    # The one label that matches no row is placed by its neighbours, quoting the label as printed.
    assert len(placed) == 1 and "“2.其他法律行政止公开”" in placed[0] and "2.其他法律行政法规禁止公开" in placed[0]
    assert r.tables["table3"].labels["denied_prohibited_by_law"] == "2.其他法律行政止公开"
    assert rules(audit([r])) == []


def test_misprinted_row_defect_found_in_its_own_words(made, tmp_path):
    bad = edit_text(
        made["text"],
        tmp_path / "bad.txt",
        [("2.其他法律行政法规禁止公开\t0\t0\t0\t0\t0\t0\t0", "2.其他法律行政法规禁止公开\t0\t0\t0\t0\t0\t0\t1"), *MISPRINTS],
    )
    fs = audit([load(bad)])
    assert ("T3_ROW_TOTAL", "表三 2.其他法律行政止公开 / 总计") in rules(fs)


def test_unanchorable_label_is_null_with_a_warning_and_nothing_shifts(made, tmp_path):
    # Two neighbouring rows misprinted; one still resembles its official label, one does not.
    k = known()
    k["table3"]["denied_internal_affairs"]["natural_person"] = 1  # non-zero so a shift would show
    k["table3"]["denied_internal_affairs"]["total"] = 1
    k["table3"]["denied_process_info"]["commercial"] = 2
    k["table3"]["denied_process_info"]["total"] = 2
    base = make_text(k, NARRATIVE, tmp_path / "k.txt")
    path = edit_text(base, tmp_path / "amb.txt", [("5.属于三类内部事务信息", "5.其他情形"), ("2.重复申请", "2.重复的")])
    r = load(path)
    assert cell_problems(r, k) == []
    assert all(r.value("table3", "denied_internal_affairs", c.key) is None for c in r.tables["table3"].layout.columns)
    assert r.value("table3", "denied_process_info", "commercial") == 2  # not shifted up
    assert r.value("table3", "rejected_duplicate", "natural_person") == 1  # anchored
    assert any("5.属于三类内部事务信息" in w and "“5.其他情形”" in w for w in r.warnings)
    fs = audit([r])
    # Once, for the row that cannot be placed; no sum rule speaks of the null row.
    assert rules(fs) == [("TABLE_SHAPE", "表三 5.属于三类内部事务信息")]


# ------------------------------------------------------------------ class 4: units
@pytest.mark.parametrize(
    "change",
    [
        [("\t25.1\n", "\t251000元\n")],
        [("本年收费金额（单位：万元）", "本年收费金额（单位：元）"), ("\t25.1\n", "\t251000\n")],
    ],
    ids=["cell-yuan", "header-yuan"],
)
def test_amounts_in_yuan_become_wan(made, tmp_path, change):
    r = load(edit_text(made["text"], tmp_path / "yuan.txt", change))
    assert cell_problems(r, known()) == []
    assert r.value("table2", "fees", "amount") == 25.1
    assert any("已换算为25.1万元" in w for w in r.warnings)
    assert rules(audit([r])) == []


def test_wan_amount_untouched_and_procurement_in_yuan(tmp_path):
    k = known("2019")
    k.update(year=2020, signed_on="2021-01-20")
    base = make_text(k, NARRATIVE, tmp_path / "k.txt")
    r = load(edit_text(base, tmp_path / "y.txt", [("\t4\t138.5\n", "\t4\t1385000元\n")]))
    assert r.value("table2", "procurement", "amount") == 138.5
    assert r.value("table2", "procurement", "projects") == 4


# ------------------------------------------------------------------ class 5: titles and chrome
@pytest.mark.parametrize(
    "title",
    [f"2021年{AGENCY}政府信息公开工作年度报告", f"{AGENCY}2021年政府信息\n公开工作年度报告", f"{AGENCY}\n2021年政府信息公开工作年度报告",
     f"{AGENCY}关于2021年政府信息公开工作的年度报告", f"{AGENCY}政府信息公开工作2021年度报告",
     f"{AGENCY}2021年度政府信息公开工作报告", f"《{AGENCY}2021年政府信息公开工作年度报告》",
     f"关于{AGENCY}2021年政府信息公开工作年度报告的公告", f"{AGENCY}2021年政府信息公开工作年度报告（全文）"],
    ids=["year-first", "wrapped-mid", "wrapped-after-agency", "guanyu", "year-after", "work-report", "book-marks",
         "notice", "full-text"],
)
def test_title_variants(made, tmp_path, title):
    r = load(edit_text(made["text"], tmp_path / "t.txt", [(TITLE, title)]))
    assert (r.meta.agency, r.meta.year, r.meta.title_agency) == (AGENCY, 2021, AGENCY)
    assert cell_problems(r, known()) == []
    assert rules(audit([r])) == []


@pytest.mark.parametrize(
    "signed",
    [f"{AGENCY}  2022年1月20日", f"{AGENCY}\n日期：2022年1月20日", f"{AGENCY}\n2022-01-20",
     f"{AGENCY}\n\u2002\u2002\u20022022年1月20日\u2002", f"{AGENCY}\n2022年1月20日\n（此件公开发布）"],
    ids=["same-line", "labelled", "iso", "en-spaces", "note-after"],
)
def test_signing_date_variants(made, tmp_path, signed):
    r = load(edit_text(made["text"], tmp_path / "d.txt", [(f"{AGENCY}\n2022年1月20日", signed)]))
    assert (r.meta.agency, r.meta.signed_on) == (AGENCY, dt.date(2022, 1, 20))
    assert rules(audit([r])) == []


def test_title_without_its_agency_in_another_wording(made, tmp_path):
    r = load(edit_text(made["text"], tmp_path / "t.txt", [(TITLE, "关于2021年政府信息公开工作的年度报告")]))
    assert (r.meta.agency, r.meta.year, r.meta.title_agency) == (AGENCY, 2021, None)
    assert [rule for rule, _ in rules(audit([r]))] == ["TITLE_AGENCY_MISSING"]


def test_year_first_title_of_a_government_office(tmp_path):
    from auditlib.blocks import Paragraph
    from auditlib.meta import find_title

    got = find_title([Paragraph("2019年上海市人民政府办公厅政府信息公开工作年度报告")])
    assert got is not None and got[2:] == ("上海市人民政府办公厅", 2019)


@pytest.mark.parametrize("repeat_title", [True, False])
def test_crawler_fields(made, tmp_path, repeat_title):
    url = "http://www.yufeng.gov.cn/zwgk/ndbg/202201/t20220125_123.shtml"
    head = f"标题:{TITLE}\n发布时间:2022-01-25 10:12:00\n原文链接:{url}\n" + (f"\n{TITLE}" if repeat_title else "")
    r = load(edit_text(made["text"], tmp_path / "c.txt", [(TITLE, head)]))
    j = r.to_json()
    assert (j["agency"], j["year"], j["published_on"], r.meta.url) == (AGENCY, 2021, "2022-01-25", url)
    assert not j["agency"].startswith("标题")
    assert cell_problems(r, known()) == []
    assert rules(audit([r])) == []


def test_crawler_publication_date_defect_found(made, tmp_path):
    head = f"标题:{TITLE}\n发布时间:2022-03-05 10:12:00\n原文链接:http://x.gov.cn/a.html\n"
    fs = audit([load(edit_text(made["text"], tmp_path / "c.txt", [(TITLE, head)]))])
    assert [f.rule for f in fs] == ["LATE_PUBLICATION"]


# ------------------------------------------------------------------ class 6: one-line crawler text
def test_crawler_body_on_one_line(made, tmp_path):
    url = "http://www.yufeng.gov.cn/a.html"
    r = load(crawler_one_line(made["text"], tmp_path / "one.txt", url, "2022-01-25 09:00"))
    j = r.to_json()
    assert j["sections"] == ["一", "二", "三", "四", "五", "六"]
    assert (j["agency"], j["year"], j["signed_on"], j["published_on"], r.meta.url) == (
        AGENCY, 2021, "2022-01-20", "2022-01-25", url,
    )  # fmt: skip
    assert cell_problems(r, known()) == []
    for t in ("table2", "table3", "table4"):
        assert all(v is None for row in j[t].values() for v in row.values())
    fs = audit([r])
    # Once per table, that it is there but cannot be separated; nothing else.
    assert sorted((f.rule, f.table) for f in fs) == [("TABLE_SHAPE", t) for t in ("table2", "table3", "table4")]
    assert all("连在一起" in f.message for f in fs)


def test_crawler_body_on_one_line_with_spaces(made, tmp_path):
    """get_text(" "): one line, one space between every two pieces of text; cut at the spaces,
    the tables read as any other, and say how they were read."""
    r = load(crawler_one_line(made["text"], tmp_path / "one.txt", "http://x.gov.cn/a.html", "2022-01-25", sep=" "))
    assert cell_problems(r, known()) == []
    assert sum("已按空格拆分读取" in w for w in r.to_json()["warnings"]) == 3
    assert rules(audit([r])) == []
    bad = edit_text(made["text"], tmp_path / "bad.txt", [("（七）总计\t10\t2\t0\t1\t0\t0\t13", "（七）总计\t10\t2\t0\t1\t0\t0\t14")])
    r = load(crawler_one_line(bad, tmp_path / "bad1.txt", "http://x.gov.cn/a.html", "2022-01-25", sep=" "))
    assert {rule for rule, _ in rules(audit([r]))} == {"T3_ROW_TOTAL", "T3_RESULTS_SUM", "T3_BALANCE"}


def test_one_line_body_keeps_narrative_defects(made, tmp_path):
    src = edit_text(
        made["text"],
        tmp_path / "n.txt",
        [(NARRATIVE[0], NARRATIVE[0] + "全年录入主动公开信息150条，其中文件29件、规范性文件18件、动态信息96件、政策解读18条，其他信息3条。")],
    )
    fs = audit([load(crawler_one_line(src, tmp_path / "one.txt", "http://x.gov.cn/a.html", "2022-01-25"))])
    assert "NARRATIVE_SUM" in {f.rule for f in fs}
    assert "SECTION_MISSING" not in {f.rule for f in fs}


# ------------------------------------------------------------------ class 8: CMS HTML
@pytest.mark.parametrize("kind", ["html", "mso-html"])
def test_report_split_over_pages_with_repeated_chrome(made, tmp_path, kind):
    r = load(html_split_pages(made[kind], tmp_path / "split.html"))
    assert cell_problems(r, known()) == []
    assert r.to_json()["sections"] == ["一", "二", "三", "四", "五", "六"]
    assert not any("首页" in t or "上一页" in t for t in r.narrative.split("\n"))
    assert rules(audit([r])) == []


@pytest.mark.parametrize("kind,style", [("html", "links"), ("mso-html", "links"), ("html", "trs")])
def test_report_split_over_page_files_is_read_as_one(made, tmp_path, kind, style):
    """Three saved pages of one article, 表三 cut between two rows: one report, every cell
    right, no finding; the later pages are not reports of their own."""
    pages = html_split_files(made[kind], tmp_path / "site", style=style)
    assert find_reports([tmp_path / "site"]) == [pages[0]]
    r = load(pages[0])
    assert cell_problems(r, known()) == []
    assert r.to_json()["sections"] == ["一", "二", "三", "四", "五", "六"]
    assert (r.meta.agency, r.meta.year) == (AGENCY, 2021)
    text = r.narrative
    assert "上一页" not in text and "共3页" not in text
    assert text.count("当前位置") <= 1  # the chrome of the later pages is not in the report
    assert any("报告分3页发布" in w and pages[2].name in w for w in r.warnings)
    assert rules(audit([r])) == []
    # Same content as the page in one file (the chrome aside): the sections read the same.
    whole = load(made[kind])
    assert r.section_texts == whole.section_texts


def test_page_files_are_joined_only_on_evidence(made, tmp_path):
    """a.html and a_1.html that are two reports (no pager, no link) stay two; a later page that
    is a link is never followed; a change in a later page is a change in the report."""
    site = tmp_path / "site"
    site.mkdir()
    one = site / "ndbg.html"
    one.write_bytes(made["html"].read_bytes())
    other = site / "ndbg_1.html"
    other.write_bytes(made["mso-html"].read_bytes())
    assert find_reports([site]) == [one, other]
    assert "报告分" not in " ".join(load(one).warnings)

    pages = html_split_files(made["html"], tmp_path / "linked")
    pages[1].unlink()
    pages[1].symlink_to(made["html"])
    assert find_reports([tmp_path / "linked"]) == [pages[0], pages[2]]
    assert not any("报告分" in w for w in load(pages[0]).warnings)

    from auditlib.cache import Cache

    pages = html_split_files(made["html"], tmp_path / "cached")
    cache = Cache(tmp_path / "cache")
    before = load(pages[0], cache)
    pages[2].write_text(pages[2].read_text(encoding="utf-8").replace("其他需要报告的事项", "其他需要报告事项"), encoding="utf-8")
    after = load(pages[0], cache)
    assert before.digest != after.digest


@pytest.mark.parametrize("which,name", [(0, "表二"), (1, "表三"), (2, "表四")])
def test_table_given_as_an_image(made, tmp_path, which, name):
    r = load(html_table_as_image(made["html"], tmp_path / "img.html", which))
    assert cell_problems(r, known()) == []
    assert any(w.startswith(f"{name}: 表格以图片形式发布") and ".png" in w for w in r.warnings)
    fs = audit([r])
    assert [(f.rule, f.location) for f in fs] == [("TABLE_SHAPE", name)]
    assert "图片" in fs[0].message and "OCR" in fs[0].message


def test_word_html_defect_found(made, tmp_path):
    k = known()
    k["table4"]["review"]["total"] = 4  # 2 + 1 + 0 + 0 ≠ 4
    r = load(mso_html(k, NARRATIVE, tmp_path / "bad.html"))
    assert r.value("table4", "review", "total") == 4
    assert rules(audit([r])) == [("T4_TOTAL", "表四 行政复议 / 总计")]


# ------------------------------------------------------------------ columns set off by spaces or pipes
@pytest.mark.parametrize("style", sorted(COLUMN_STYLES))
def test_columns_without_tabs_every_cell_and_no_finding(made, tmp_path, style):
    """pdftotext's runs of spaces, a crawler's single spaces, full-width padding, a Markdown table."""
    r = load(text_with_columns(made["text"], tmp_path / f"{style}.txt", style))
    assert cell_problems(r, known()) == []
    assert r.to_json()["warnings"] == []
    assert rules(audit([r])) == []


@pytest.mark.parametrize("style", sorted(COLUMN_STYLES))
def test_columns_without_tabs_keep_defects(tmp_path, style):
    k = known()
    k["table3"]["granted"]["total"] += 1  # the row's total, and （七）总计's sum under it, now disagree
    k["table4"]["review"]["total"] = 4
    tabs = make_text(k, NARRATIVE, tmp_path / "tabs.txt")
    r = load(text_with_columns(tabs, tmp_path / f"{style}.txt", style))
    assert r.value("table3", "granted", "total") == k["table3"]["granted"]["total"]
    assert rules(audit([r])) == rules(audit([load(tabs)]))
    assert {rule for rule, _ in rules(audit([r]))} == {"T3_ROW_TOTAL", "T3_RESULTS_SUM", "T4_TOTAL"}


@pytest.mark.parametrize("style", ["markdown", "bold", "part"])
def test_headings_as_converters_and_authors_write_them(made, tmp_path, style):
    """An html-to-text converter's Markdown (# title, ## headings or **headings**, pipe tables),
    and headings worded 第一部分 总体情况."""
    from tests.fixtures import SECTION_TITLES

    mark = {"markdown": ("# {}", "## {}"), "bold": ("**{}**", "**{}**"), "part": ("{}", None)}[style]
    edits = [(TITLE, mark[0].format(TITLE))]
    for head in SECTION_TITLES.values():
        new = mark[1].format(head) if mark[1] else f"第{head[0]}部分 {head[2:]}"
        edits.append((f"\n{head}\n", f"\n{new}\n"))
    src = text_with_columns(made["text"], tmp_path / "t.txt", "markdown" if style != "part" else "spaces")
    r = load(edit_text(src, tmp_path / f"{style}.txt", edits))
    assert (r.meta.agency, r.meta.year, r.meta.title_agency) == (AGENCY, 2021, AGENCY)
    assert r.to_json()["sections"] == ["一", "二", "三", "四", "五", "六"]
    assert cell_problems(r, known()) == []
    assert rules(audit([r])) == []


def test_running_text_ending_in_figures_stays_text(made, tmp_path):
    """Only a row is made a row: sentences that end in numbers keep their claims."""
    lines = ["联系电话：0772 2819123", "全年共受理政府信息公开申请 13 件", "本年度收到申请13件，办结 13"]
    src = edit_text(made["text"], tmp_path / "n.txt", [(NARRATIVE[0], NARRATIVE[0] + "\n" + "\n".join(lines))])
    r = load(text_with_columns(src, tmp_path / "spaces.txt", "spaces"))
    paragraphs = {b.text for b in r.document.blocks if type(b).__name__ == "Paragraph"}
    assert set(lines) <= paragraphs
    assert cell_problems(r, known()) == []


_OVERDUE = "（六）其他处理  1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请  0  1  0  0  0  0  1"


def test_label_over_three_lines_numbers_beside_the_middle(made, tmp_path):
    """pdftotext breaks a long label over lines and prints the numbers beside the middle one."""
    spaced = text_with_columns(made["text"], tmp_path / "s.txt", "spaces")
    broken = "（六）其他处理  1.申请人无正当理由逾期不补正\n、行政机关不再处理其政府信息  0  1  0  0  0  0  1\n公开申请"
    r = load(edit_text(spaced, tmp_path / "b.txt", [(_OVERDUE, broken)]))
    assert cell_problems(r, known()) == []
    assert any("分行印作" in w and "逾期不补正" in w for w in r.to_json()["warnings"])
    assert rules(audit([r])) == []


def test_numbers_after_an_unknown_line_are_nobodys(made, tmp_path):
    """A row with nothing after its label and numbers after a line that is not the rest of it:
    the numbers are not used, and the row is not taken as left blank (no sum rule speaks)."""
    spaced = text_with_columns(made["text"], tmp_path / "s.txt", "spaces")
    broken = "（六）其他处理  1.申请人无正当理由逾期不补正\n另行处理的申请  0  1  0  0  0  0  1"
    r = load(edit_text(spaced, tmp_path / "b.txt", [(_OVERDUE, broken)]))
    row = r.tables["table3"]
    assert all(row.get("other_overdue_correction", c.key) is None for c in row.layout.row("other_overdue_correction").columns)
    assert [c for c in row.uncertain if c[0] == "other_overdue_correction"]
    found = {f.rule for f in audit([r])}
    assert "TABLE_SHAPE" in found
    assert not found & {"T3_BALANCE", "T3_ROW_TOTAL", "T3_RESULTS_SUM", "TABLE_CELL_MISSING"}


# ------------------------------------------------------------------ the real samples, changed
TEXT_SAMPLES = ["000_bebe3e000f0fa92c", "001_0821f10813b957c3", "002_70eac6e8a2e0d3d2", "003_c430893fbea2ae1b", "004_27f28e9d7369eeba"]
# Rules that read the tables' cells: they have nothing to say when a table cannot be separated.
TABLE_RULES = {"T3_BALANCE", "T3_ROW_TOTAL", "T3_RESULTS_SUM", "T4_TOTAL", "TABLE_CELL_MISSING", "TABLE_SHAPE", "TEXT_TABLE_MISMATCH"}


def _real_cells(r, stem: str) -> list[str]:
    return cell_problems(r, expected(stem))


@pytest.mark.parametrize("stem", TEXT_SAMPLES)
def test_real_sample_on_one_line(tmp_path, stem):
    """A crawler's dump of a real report: every line joined, cells run together."""
    text = sample_path(stem).read_text(encoding="utf-8")
    flat = tmp_path / f"{stem}.txt"
    flat.write_text("".join(cell.strip() for ln in text.split("\n") for cell in ln.split("\t")), encoding="utf-8")
    orig, r = load(sample_path(stem)), load(flat)
    want = expected(stem)
    j = r.to_json()
    for key in ("agency", "year", "format", "signed_on", "published_on", "sections"):
        assert j[key] == want[key], key
    assert _real_cells(r, stem) == []
    before, after = audit([orig]), audit([r])
    shapes = [f for f in after if f.rule == "TABLE_SHAPE"]
    assert sorted(f.table for f in shapes) == ["table2", "table3", "table4"]
    assert all("连在一起" in f.message for f in shapes)
    # No new kind of alarm; every alarm of the original that does not read the tables remains.
    assert {f.rule for f in after} - {"TABLE_SHAPE"} <= {f.rule for f in before}
    assert {f.rule for f in before} - TABLE_RULES <= {f.rule for f in after}


def test_real_sample_misprinted_labels(tmp_path):
    stem = "000_bebe3e000f0fa92c"
    p = edited(
        tmp_path,
        stem,
        ("\t2.其他法律行政法规禁止公开", "\t2.其他法律行政止公开"),
        ("\t1.属于国家秘密", "\t1.1.属于国家秘密"),
        ("\t（七）总计", "\t(七)总计"),
        ("\t社会公益组织", "\t社会组织"),
    )
    r = load(p)
    assert _real_cells(r, stem) == []
    assert any("“2.其他法律行政止公开”" in w for w in r.warnings)
    assert sorted(f.rule for f in audit([r])) == sorted(f.rule for f in audit([load(sample_path(stem))]))


def test_real_sample_2019_misprint(tmp_path):
    stem = "001_0821f10813b957c3"
    p = edited(tmp_path, stem, ("\n1.属于国家秘密\n", "\n属于国家秘密\n"), ("\n2.重复申请\n", "\n2.重复的申请\n"))
    r = load(p)
    assert _real_cells(r, stem) == []
    assert any("“2.重复的申请”" in w for w in r.warnings)


def test_real_sample_fee_in_yuan(tmp_path):
    stem = "002_70eac6e8a2e0d3d2"
    p = edited(tmp_path, stem, ("\t行政事业性收费\n\t0\n", "\t行政事业性收费\n\t12500元\n"))
    r = load(p)
    want = expected(stem)
    want["table2"]["fees"]["amount"] = 1.25
    assert cell_problems(r, want) == []


def test_real_sample_year_first_title_and_crawler_fields(tmp_path):
    stem = "002_70eac6e8a2e0d3d2"
    url = "http://www.liujiang.gov.cn/xxgk/ndbg/t5000.shtml"
    p = edited(
        tmp_path,
        stem,
        (
            "柳州市柳江区发展和改革局\n2022年政府信息公开工作年度报告",
            f"标题:2022年柳州市柳江区发展和改革局政府信息公开工作年度报告\n发布时间:2023-01-16\n原文链接:{url}\n",
        ),
    )
    r = load(p)
    want = expected(stem)
    j = r.to_json()
    assert (j["agency"], j["year"], j["published_on"], r.meta.url) == (want["agency"], want["year"], "2023-01-16", url)
    assert _real_cells(r, stem) == []
    # The sample has no signing date; the crawler's 发布时间 now dates it.
    assert "DATE_MISSING" not in {f.rule for f in audit([r])}


@pytest.mark.parametrize("style", sorted(COLUMN_STYLES))
def test_real_sample_columns_without_tabs(tmp_path, style):
    """A real report's tab-separated rows laid out with spaces or as a Markdown table: the same
    cells, the same findings in the same places."""
    stem = "004_27f28e9d7369eeba"
    r = load(text_with_columns(sample_path(stem), tmp_path / f"{stem}.txt", style))
    assert _real_cells(r, stem) == []
    assert rules(audit([r])) == rules(audit([load(sample_path(stem))]))


def test_real_pdf_as_pdftotext_layout_text(tmp_path):
    """The real PDF turned into text by ``pdftotext -layout`` (poppler 22.12; kept in tests/data):
    columns set off by spaces, the 办理结果 labels printed downwards one character a line, long
    labels broken over lines. Every cell as read from the PDF itself, and the same findings."""
    r = load(ROOT / "tests" / "data" / "huaian-2024.pdftotext-layout.txt")
    assert cell_problems(r, expected("huaian-2024")) == []
    assert {f.rule for f in audit([r])} == {f.rule for f in audit([load(sample_path("huaian-2024"))])}


@pytest.mark.parametrize("stem", TEXT_SAMPLES)
def test_real_sample_on_one_line_with_spaces(tmp_path, stem):
    """A real report as get_text(" ") leaves it: every cell as read from the file, or null
    with a warning naming its row (a blank cell leaves no trace, so its row cannot be placed)."""
    text = sample_path(stem).read_text(encoding="utf-8")
    flat = tmp_path / f"{stem}.txt"
    flat.write_text(" ".join(c.strip() for ln in text.split("\n") for c in ln.split("\t") if c.strip()), encoding="utf-8")
    orig, r = load(sample_path(stem)), load(flat)
    assert _real_cells(r, stem) == []
    j, want = r.to_json(), expected(stem)
    for key in ("agency", "year", "format", "sections"):
        assert j[key] == want[key], key
    read = sum(v is not None for t in ("table3", "table4") for row in j[t].values() for v in row.values())
    assert read >= 0.9 * sum(v is not None for t in ("table3", "table4") for row in want[t].values() for v in row.values())
    before, after = audit([orig]), audit([r])
    assert {f.rule for f in after} - {"TABLE_SHAPE"} <= {f.rule for f in before}
    assert {f.rule for f in before} - TABLE_RULES <= {f.rule for f in after}
