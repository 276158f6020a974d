"""Write the default 整改通知 template (auditlib/templates/notice.docx).

Run once when the default wording changes; the .docx is shipped in the package.
An office replaces it with its own (same placeholders) via ``auditlib notices --template``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

OUT = Path(__file__).resolve().parent.parent / "auditlib" / "templates" / "notice.docx"


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.rPr.rFonts.set(qn("w:eastAsia"), name)


def _para(doc, text: str, size: float = 14, bold: bool = False, align=None, indent: bool = False, font="仿宋"):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.space_after = Pt(4)
    _font(p.add_run(text), font, size, bold)
    return p


def build(path: Path) -> Path:
    doc = docx.Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)  # A4, as 公文 are printed
    sec.left_margin = sec.right_margin = Cm(2.6)
    sec.top_margin, sec.bottom_margin = Cm(3.0), Cm(2.5)
    _para(doc, "政府信息公开工作年度报告整改通知", 20, True, WD_ALIGN_PARAGRAPH.CENTER, font="黑体")
    _para(doc, "{{机关}}：", 14)
    _para(
        doc,
        "经审核，你单位《{{报告}}》存在以下 {{问题数}} 项问题，不符合《中华人民共和国政府信息公开条例》"
        "和政府信息公开工作年度报告格式的要求。请逐项核实整改，于{{回复期限}}前书面回复整改情况，"
        "并在政府网站重新发布更正后的年度报告。",
        14,
        indent=True,
    )
    table = doc.add_table(rows=2, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Cm(1.5), Cm(3.2), Cm(4.5), Cm(4.4), Cm(2.4))
    for cell, head in zip(table.rows[0].cells, ("序号", "位置", "问题", "报告原文", "审核意见"), strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(head), "黑体", 11, True)
    for cell, field in zip(table.rows[1].cells, ("序号", "位置", "问题", "原文", "审核意见"), strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run("{{" + field + "}}"), "仿宋", 10.5)
    # Fixed widths (Word and LibreOffice otherwise share the width out evenly).
    table.autofit = False
    for col, w in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        col.w = w
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = w
    _para(doc, "", 14)
    _para(doc, "回复期限：{{回复期限}}", 14, indent=True)
    _para(doc, "{{发文机关}}", 14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, "{{发文日期}}", 14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
