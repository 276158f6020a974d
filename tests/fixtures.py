"""Test reports in other formats, made from a dict shaped like ``tests/expected/*.json``.

``make_docx`` fills the official blank Word template (real merged cells),
``make_html`` writes a government-site page (chrome, rowspan/colspan, &nbsp;),
``make_text`` a flattened text version with tab-separated rows.

``paragraphs`` is either a list of narrative paragraphs, which go to section
一 (sections 五 and 六 then get stock text, 六 stating that no fee was charged),
or a mapping from section numeral ("一" … "六") to that section's paragraphs,
used exactly as given.
"""

from __future__ import annotations

import copy
import html as htmlmod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from auditlib.layouts import TABLE2_2019, TABLE2_2021, TABLE3_2019, TABLE3_2021, TABLE4, Layout

_HERE = Path(__file__).resolve().parent
TEMPLATE_COPY = _HERE / "data" / "format-2021-blank.docx"
TEMPLATE_SHARED = Path(__file__).resolve().parents[2] / "shared" / "templates" / "format-2021-blank.docx"

SECTION_TITLES = {
    "一": "一、总体情况",
    "二": "二、主动公开政府信息情况",
    "三": "三、收到和处理政府信息公开申请情况",
    "四": "四、政府信息公开行政复议、行政诉讼情况",
    "五": "五、存在的主要问题及改进情况",
    "六": "六、其他需要报告的事项",
}
SECTION_TITLES_2019 = {**SECTION_TITLES, "五": "五、政府信息公开工作存在的主要问题及改进情况"}

_DEFAULT_FIVE = [
    "（一）存在的主要问题：政策解读形式较为单一，信息发布的及时性有待提高。",
    "（二）改进情况：进一步丰富解读形式，加强信息发布审核，提高公开质量。",
]
_DEFAULT_SIX = ["本年度未收取政府信息公开信息处理费。"]


def template_path() -> Path:
    """The blank 2021 template: the copy in tests/data if present, else the shared one."""
    return TEMPLATE_COPY if TEMPLATE_COPY.exists() else TEMPLATE_SHARED


def title(report: Mapping[str, Any]) -> str:
    return f"{report['agency']}{report['year']}年政府信息公开工作年度报告"


def _sections(paragraphs: Sequence[str] | Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    if isinstance(paragraphs, Mapping):
        return {k: list(paragraphs.get(k, [])) for k in SECTION_TITLES}
    return {"一": list(paragraphs), "二": [], "三": [], "四": [], "五": list(_DEFAULT_FIVE), "六": list(_DEFAULT_SIX)}


def _intro(report: Mapping[str, Any]) -> str:
    return (
        f"本报告由{report['agency']}根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制。"
        f"报告所列数据的统计期限自{report['year']}年1月1日起至{report['year']}年12月31日止。"
    )


def _date_cn(iso: str) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{y}年{m}月{d}日"


def _fmt(value: Any, signed: bool = False) -> str:
    """A number as a report prints it; ``None`` is a blank cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    else:
        text = str(value)
    if signed and isinstance(value, (int, float)) and value:
        return f"增{text}" if value > 0 else f"减{text.lstrip('-')}"
    return text


def _t2_layout(report: Mapping[str, Any]) -> Layout:
    return TABLE2_2019 if str(report.get("format")) == "2019" else TABLE2_2021


def _t3_layout(report: Mapping[str, Any]) -> Layout:
    return TABLE3_2019 if str(report.get("format")) == "2019" else TABLE3_2021


def _value(report: Mapping[str, Any], table: str, row: str, col: str) -> Any:
    return ((report.get(table) or {}).get(row) or {}).get(col)


# ------------------------------------------------------------------ docx


def _set_text(paragraph: DocxParagraph, text: str) -> None:
    runs = paragraph.runs
    if runs:
        runs[0].text = text
        for run in runs[1:]:
            run._r.getparent().remove(run._r)
    else:
        paragraph.add_run(text)


def _set_cell(tc: Any, text: str, table: Any) -> None:
    write_cell(_Cell(tc, table), text)


def write_cell(cell: _Cell, text: str) -> None:
    """Replace a Word table cell's text, keeping its first paragraph's formatting."""
    first, *rest = cell.paragraphs
    for p in rest:
        p._p.getparent().remove(p._p)
    for run in first.runs:
        run._r.getparent().remove(run._r)
    if text:
        first.add_run(text)


def _insert_after(
    anchor: DocxParagraph, texts: Sequence[str], align_right: bool = False, like: DocxParagraph | None = None
) -> DocxParagraph:
    """New paragraphs after ``anchor``, formatted like ``like`` (default: like the anchor)."""
    last = anchor
    for text in texts:
        new = copy.deepcopy((like or anchor)._p)
        last._p.addnext(new)
        last = DocxParagraph(new, anchor._parent)
        _set_text(last, text)
        if align_right:
            last.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return last


def _tcs(tr: Any) -> list[Any]:
    return list(tr.iterchildren(qn("w:tc")))


def make_docx(report: Mapping[str, Any], paragraphs: Sequence[str] | Mapping[str, Sequence[str]], path: Path) -> Path:
    """Fill the official 2021 Word template with the report's numbers and text."""
    if str(report.get("format")) != "2021":
        raise ValueError("make_docx only makes 2021-format reports (the template is the 2021 format)")
    path = Path(path)
    document = docx.Document(str(template_path()))
    sections = _sections(paragraphs)

    paras = document.paragraphs
    title_p = next(p for p in paras if "年度报告" in p.text)
    _set_text(title_p, title(report))
    placeholder = next(p for p in paras if p.text.strip().startswith("（文字描述"))
    _insert_after(title_p, [_intro(report)], like=placeholder)

    # The template holds a "（文字描述…）" placeholder under 一, 五 and 六.
    heading = None
    for p in paras:
        text = p.text.strip()
        for key, label in SECTION_TITLES.items():
            if text == label:
                heading = key
        if text.startswith("（文字描述") and heading in ("一", "五", "六"):
            body = sections[heading]
            if body:
                _set_text(p, body[0])
                last = _insert_after(p, body[1:])
            else:
                p._p.getparent().remove(p._p)
                last = None
            if heading == "六" and report.get("signed_on"):
                anchor = last or next(q for q in document.paragraphs if q.text.strip() == SECTION_TITLES["六"])
                _insert_after(anchor, [report["agency"], _date_cn(report["signed_on"])], align_right=True)
    for key in ("二", "三", "四"):
        if sections[key]:
            anchor = next(q for q in document.paragraphs if q.text.strip() == SECTION_TITLES[key])
            _insert_after(anchor, sections[key], like=placeholder)

    t2, t3, t4 = document.tables[:3]
    for tr in t2._tbl.iterchildren(qn("w:tr")):
        tcs = _tcs(tr)
        label = _Cell(tcs[0], t2).text.strip()
        for row in TABLE2_2021.rows:
            if row.regex.search(label):
                for tc, col in zip(tcs[1:], row.columns, strict=False):
                    _set_cell(tc, _fmt(_value(report, "table2", row.key, col.key)), t2)
    data_rows = list(t3._tbl.iterchildren(qn("w:tr")))[3:]
    for tr, row in zip(data_rows, TABLE3_2021.rows, strict=True):
        tcs = _tcs(tr)
        for tc, col in zip(tcs[-len(row.columns) :], row.columns, strict=True):
            _set_cell(tc, _fmt(_value(report, "table3", row.key, col.key)), t3)
    values_tr = list(t4._tbl.iterchildren(qn("w:tr")))[3]
    cells4 = [(row.key, col.key) for row in TABLE4.rows for col in row.columns]
    for tc, (rk, ck) in zip(_tcs(values_tr), cells4, strict=True):
        _set_cell(tc, _fmt(_value(report, "table4", rk, ck)), t4)

    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


# ------------------------------------------------------------------ html


def _td(text: str, rowspan: int = 1, colspan: int = 1, tag: str = "td") -> str:
    attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (f' colspan="{colspan}"' if colspan > 1 else "")
    body = htmlmod.escape(text) if text else "&nbsp;"
    return f"<{tag}{attrs}>{body}</{tag}>"


def _html_table2(report: Mapping[str, Any]) -> str:
    layout = _t2_layout(report)
    width = 1 + max(len(r.columns) for r in layout.rows)
    out = ['<table class="MsoTableGrid" border="1" cellspacing="0" cellpadding="0">']
    group = None
    for row in layout.rows:
        if row.group != group:
            group = row.group
            out.append(f"<tr>{_td(group, colspan=width)}</tr>")
            heads = [_td("信息内容")] + [
                _td(c.label, colspan=width - len(row.columns) if i == len(row.columns) - 1 else 1)
                for i, c in enumerate(row.columns)
            ]
            out.append(f"<tr>{''.join(heads)}</tr>")
        cells = [_td(row.label)]
        for i, col in enumerate(row.columns):
            text = _fmt(_value(report, "table2", row.key, col.key), signed=col.key in row.signed)
            cells.append(_td(text, colspan=width - len(row.columns) if i == len(row.columns) - 1 else 1))
        out.append(f"<tr>{''.join(cells)}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _html_table3(report: Mapping[str, Any]) -> str:
    layout = _t3_layout(report)
    rows = layout.rows
    result_rows = rows[2:-1]
    out = ['<table border="1" cellspacing="0" style="border-collapse:collapse">']
    out.append(
        "<tr>"
        + _td("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=3)
        + _td("申请人情况", colspan=7)
        + "</tr>"
    )
    out.append("<tr>" + _td("自然人", rowspan=2) + _td("法人或其他组织", colspan=5) + _td("总计", rowspan=2) + "</tr>")
    out.append("<tr>" + "".join(_td(c.label) for c in layout.columns[1:6]) + "</tr>")  # type: ignore[index]
    group_sizes: dict[str, int] = {}
    for row in result_rows:
        group_sizes[row.group] = group_sizes.get(row.group, 0) + 1
    seen: set[str] = set()
    for row in rows:
        values = "".join(_td(_fmt(_value(report, "table3", row.key, c.key))) for c in row.columns)
        if row not in result_rows:
            out.append(f"<tr>{_td(row.label, colspan=3)}{values}</tr>")
            continue
        cells = ""
        if row is result_rows[0]:
            cells += _td("三、本年度办理结果", rowspan=len(result_rows))
        if row.group and row.group != "三、本年度办理结果":
            if row.group not in seen:
                seen.add(row.group)
                cells += _td(row.group, rowspan=group_sizes[row.group])
            cells += _td(row.label)
        else:
            cells += _td(row.label, colspan=2)
        out.append(f"<tr>{cells}{values}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _html_table4(report: Mapping[str, Any]) -> str:
    parts = [c.label for c in TABLE4.columns]  # type: ignore[union-attr]
    out = ['<table border="1" cellspacing="0">']
    out.append("<tr>" + _td("行政复议", colspan=5, tag="th") + _td("行政诉讼", colspan=10, tag="th") + "</tr>")
    out.append(
        "<tr>"
        + "".join(_td(p, rowspan=2, tag="th") for p in parts)
        + _td("未经复议直接起诉", colspan=5, tag="th")
        + _td("复议后起诉", colspan=5, tag="th")
        + "</tr>"
    )
    out.append("<tr>" + "".join(_td(p, tag="th") for p in parts * 2) + "</tr>")
    values = []
    for row in TABLE4.rows:
        for col in row.columns:
            text = _fmt(_value(report, "table4", row.key, col.key))
            # Sites often pad numbers with &nbsp;
            values.append(f"<td>&nbsp;{htmlmod.escape(text)}&nbsp;</td>" if text else "<td>&nbsp;</td>")
    out.append("<tr>" + "".join(values) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def make_html(
    report: Mapping[str, Any],
    paragraphs: Sequence[str] | Mapping[str, Sequence[str]],
    path: Path,
    encoding: str = "utf-8",
) -> Path:
    """A report as a government web page: chrome around an article with real merged cells."""
    path = Path(path)
    sections = _sections(paragraphs)
    heads = SECTION_TITLES_2019 if str(report.get("format")) == "2019" else SECTION_TITLES
    esc = htmlmod.escape
    agency = esc(report["agency"])
    date = report.get("published_on") or report.get("signed_on")
    body: list[str] = [f'<p style="text-indent:2em">{esc(_intro(report))}</p>']
    tables = {"二": _html_table2(report), "三": _html_table3(report), "四": _html_table4(report)}
    for key, label in heads.items():
        body.append(f"<p><strong>{esc(label)}</strong></p>")
        body.extend(f'<p style="text-indent:2em">&nbsp;&nbsp;{esc(t)}</p>' for t in sections[key])
        if key in tables:
            body.append(tables[key])
    if report.get("signed_on"):
        body.append(f'<p style="text-align:right">{agency}</p>')
        body.append(f'<p style="text-align:right">{esc(_date_cn(report["signed_on"]))}</p>')
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="{encoding}">
<title>{esc(title(report))}_{agency}</title>
<style>body {{ font-family: SimSun; }} td {{ border: 1px solid #000; }}</style>
<script type="text/javascript">var _hmt = _hmt || []; function share() {{ return "分享"; }}</script>
</head>
<body>
<div class="header"><div class="logo">{agency}门户网站</div><div class="search"><input type="text" value="请输入关键字"><button>搜索</button></div></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/bsfw/">办事服务</a></li><li><a href="/hdjl/">互动交流</a></li><li><a href="/ndbg/">政府信息公开年度报告</a></li></ul></div>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 年度报告</div>
<div class="article">
<h1 class="article-title">{esc(title(report))}</h1>
<div class="article-info">信息来源：{agency}&nbsp;&nbsp;发布日期：{esc(date or "")}&nbsp;&nbsp;【字体：<a>大</a> <a>中</a> <a>小</a>】</div>
<div class="article-content">
{chr(10).join(body)}
</div>
</div>
<div class="share">分享到：<a>微信</a> <a>微博</a></div>
<div class="footer"><p>主办单位：{agency}　　版权所有</p><p>网站标识码：4502000001　　<a href="/sitemap">网站地图</a>　<a href="/contact">联系我们</a></p></div>
<script>document.write("访问量统计代码");</script>
</body>
</html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(page.encode(encoding, errors="xmlcharrefreplace"))
    return path


# ------------------------------------------------------------------ text


def _text_table_rows(report: Mapping[str, Any]) -> dict[str, list[list[str]]]:
    layout2, layout3 = _t2_layout(report), _t3_layout(report)
    t2: list[list[str]] = []
    group = None
    for row in layout2.rows:
        if row.group != group:
            group = row.group
            t2.append([group])
            t2.append(["信息内容", *(c.label for c in row.columns)])
        t2.append(
            [row.label]
            + [_fmt(_value(report, "table2", row.key, c.key), signed=c.key in row.signed) for c in row.columns]
        )
    t3: list[list[str]] = [
        ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"],
        ["自然人", "法人或其他组织", "总计"],
        [c.label for c in layout3.columns[1:6]],  # type: ignore[index]
    ]
    group = None
    for row in layout3.rows:
        labels = [row.label]
        if row.group != group:
            group = row.group
            if group.startswith("（"):
                labels.insert(0, group)
        t3.append(labels + [_fmt(_value(report, "table3", row.key, c.key)) for c in row.columns])
    parts = [c.label for c in TABLE4.columns]  # type: ignore[union-attr]
    t4 = [
        ["行政复议", "行政诉讼"],
        [*parts, "未经复议直接起诉", "复议后起诉"],
        parts * 2,
        [_fmt(_value(report, "table4", r.key, c.key)) for r in TABLE4.rows for c in r.columns],
    ]
    return {"二": t2, "三": t3, "四": t4}


def make_text(
    report: Mapping[str, Any],
    paragraphs: Sequence[str] | Mapping[str, Sequence[str]],
    path: Path,
    encoding: str = "utf-8",
) -> Path:
    """A flattened text report: paragraphs one per line, table rows tab-separated."""
    path = Path(path)
    sections = _sections(paragraphs)
    heads = SECTION_TITLES_2019 if str(report.get("format")) == "2019" else SECTION_TITLES
    tables = _text_table_rows(report)
    lines = [title(report), "", _intro(report), ""]
    for key, label in heads.items():
        lines.append(label)
        lines.extend(sections[key])
        if key in tables:
            lines.extend("\t".join(row) for row in tables[key])
        lines.append("")
    if report.get("signed_on"):
        lines += [report["agency"], _date_cn(report["signed_on"])]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding, errors="replace"))
    return path
