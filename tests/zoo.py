"""A layout zoo made by real engines: the official template filled with known numbers,
then turned by LibreOffice into the PDFs and containers that agencies publish.

Every document is made from a report dict (shaped like ``tests/expected/*.json``)
whose numbers are drawn from a seed and keep every 勾稽 relation true, so a clean
document deserves no finding. The expected values are the numbers put in, never
what the parser says.

Variants (Word documents first, then LibreOffice makes the rest in one call per
target format):

- ``plain``       narrative before each table: tables start partway down a page
- ``repeat``      表三's three header rows repeated on each page (Word's 标题行重复)
- ``landscape``   the whole document on landscape pages
- ``borderless``  every ruling line removed: cells are placed by word position alone
- ``hrules``      only horizontal rules left (no vertical lines)
- ``frame``       only the outer frame of each table left
- ``boxed-rows``  the frame and horizontal rules, no vertical ones (each row a box)
- ``lastrow``     表三's last row alone at the head of the next page
- ``2019``        the 2019 format (a template made here from the 2021 one)

and ``.doc``, ``.odt``, ``.rtf``, Word-HTML (``.html``), a single-file web page
(``.mht``) and a ``.wps`` (WPS saves the Word 97 container) of the plain 2021 and
2019 documents.

The zoo is cached under ``.cache/zoo/<hash of this generator>``: LibreOffice is slow.
Usage: python tests/zoo.py [OUT_DIR]   (prints what it made)
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import _Cell

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditlib.layouts import TABLE2_2019, TABLE2_2021, TABLE3_2019, TABLE3_2021, TABLE4  # noqa: E402
from tests.fixtures import (  # noqa: E402
    SECTION_TITLES,
    SECTION_TITLES_2019,
    _fmt,
    make_docx,
    template_path,
    write_cell,
)

AGENCIES = ["江川市交通运输局", "临河县人民政府办公室", "北湖区市场监督管理局", "东城街道办事处", "南江市教育局"]
SOFFICE_TIMEOUT = 600


# ------------------------------------------------------------------ numbers


def make_report(seed: int, fmt: str = "2021") -> dict[str, Any]:
    """A report with seeded numbers whose every 勾稽 relation holds."""
    rng = random.Random(seed)
    year = 2020 if fmt == "2019" else rng.choice([2021, 2022, 2023])
    t2l = TABLE2_2019 if fmt == "2019" else TABLE2_2021
    t3l = TABLE3_2019 if fmt == "2019" else TABLE3_2021
    table2: dict[str, dict[str, Any]] = {}
    for row in t2l.rows:
        cells: dict[str, Any] = {}
        for col in row.columns:
            if col.key == "amount":
                cells[col.key] = round(rng.uniform(0, 900), 2) if rng.random() < 0.5 else rng.randint(0, 40)
            elif col.key == "change":
                cells[col.key] = rng.randint(-5, 9)
            else:
                cells[col.key] = rng.choice([0, rng.randint(1, 30), rng.randint(30, 3000)])
        table2[row.key] = cells
    if fmt == "2021":
        for key in ("regulations", "normative_documents"):
            c = table2[key]
            c["in_force"] = c["issued"] + rng.randint(0, 300)
    cols = [c.key for c in t3l.columns if c.key != "total"]
    results = [r.key for r in t3l.rows[2:-2]]
    table3: dict[str, dict[str, int]] = {r.key: {} for r in t3l.rows}
    for col in cols:
        busy = col == "natural_person" or rng.random() < 0.5
        for key in results:
            table3[key][col] = rng.randint(0, 60 if key in ("granted", "unable_not_held") else 9) if busy else 0
        handled = sum(table3[k][col] for k in results)
        table3["total_handled"][col] = handled
        carried_over = rng.randint(0, min(handled, 8))
        forward = rng.randint(0, 12) if busy else 0
        table3["carried_over"][col] = carried_over
        table3["new_received"][col] = handled + forward - carried_over
        table3["carried_forward"][col] = forward
    for cells in table3.values():
        cells["total"] = sum(cells[c] for c in cols)
    table4: dict[str, dict[str, int]] = {}
    for row in TABLE4.rows:
        parts = [rng.choice([0, 0, rng.randint(1, 12)]) for _ in range(4)]
        table4[row.key] = dict(zip(("upheld", "corrected", "other", "pending"), parts, strict=True))
        table4[row.key]["total"] = sum(parts)
    return {
        "agency": AGENCIES[seed % len(AGENCIES)],
        "year": year,
        "format": fmt,
        "signed_on": f"{year + 1}-01-{rng.randint(10, 28):02d}",
        "published_on": None,
        "sections": list(SECTION_TITLES),
        "table2": table2,
        "table3": table3,
        "table4": table4,
    }


def narrative(report: dict[str, Any], long: bool = False, bare: bool = False) -> dict[str, list[str]]:
    """Section texts that say only true things about the tables (no false alarm is deserved)."""
    t3 = report["table3"]
    agency = report["agency"]
    one = [
        f"{report['year']}年，{agency}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国"
        "政府信息公开条例》，持续深化政务公开，推进决策、执行、管理、服务、结果公开，回应社会关切。",
        "（一）主动公开。围绕中心工作，及时公开机构职能、政策文件、规划计划、财政预决算等信息，"
        "通过门户网站、政务新媒体等渠道发布，方便公众查阅。",
        f"（二）依申请公开。本年度新收政府信息公开申请{t3['new_received']['total']}件，"
        f"上年结转{t3['carried_over']['total']}件，均在法定期限内答复。",
        "（三）政府信息管理。严格落实公开前保密审查制度，动态调整主动公开基本目录，规范信息发布流程。",
        "（四）平台建设。优化门户网站政府信息公开专栏，完善栏目设置，提升检索和查阅的便利程度。",
        "（五）监督保障。将政务公开纳入年度绩效考核，组织业务培训，加强对公开工作的日常监督检查。",
    ]
    if long:
        one += [
            "（六）政策解读。坚持政策文件与解读材料同步起草、同步审签、同步发布，采用图文、视频等多种形式解读，"
            "帮助群众准确理解政策内容。" * 2,
            "（七）回应关切。畅通咨询渠道，对群众关心的热点问题及时回应，做到件件有回音、事事有着落。" * 2,
        ]
    # Most agencies fill the template as it is: a table straight under its heading.
    lead = (lambda text: []) if bare else (lambda text: [text])
    return {
        "一": one,
        "二": lead("本年度主动公开政府信息情况如下表。"),
        "三": lead("本年度收到和处理政府信息公开申请情况如下表。"),
        "四": lead("本年度政府信息公开行政复议、行政诉讼情况如下表。"),
        "五": [
            "（一）存在的主要问题：政策解读形式较为单一，信息发布的及时性有待提高。",
            "（二）改进情况：进一步丰富解读形式，加强信息发布审核，提高公开质量。",
        ],
        "六": ["本年度未收取政府信息公开信息处理费。"],
    }


# ------------------------------------------------------------------ Word edits


def _tables(document: Any) -> list[Any]:
    return document.tables[:3]


def _repeat_header(document: Any, rows: int = 3) -> None:
    t3 = _tables(document)[1]
    for tr in list(t3._tbl.iterchildren(qn("w:tr")))[:rows]:
        trpr = tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        trpr.append(el)


def _tight(document: Any) -> None:
    """No empty paragraph around the tables: the next heading follows a table's last row."""
    body = document.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        prev, nxt = p.getprevious(), p.getnext()
        near_table = (prev is not None and prev.tag == qn("w:tbl")) or (nxt is not None and nxt.tag == qn("w:tbl"))
        if near_table and not "".join(p.itertext()).strip():
            body.remove(p)


def _landscape(document: Any) -> None:
    for section in document.sections:
        w, h = section.page_width, section.page_height
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = max(w, h), min(w, h)


def _border(side: str, drawn: bool) -> Any:
    """One side's rule: a thin black line, or none."""
    el = OxmlElement(f"w:{side}")
    if drawn:
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:color"), "000000")
    else:
        el.set(qn("w:val"), "nil")
    return el


def _set_borders(document: Any, keep: tuple[str, ...]) -> None:
    """Keep only the named rules (top/bottom/insideH …) on every table and cell."""
    sides = ("top", "left", "bottom", "right", "insideH", "insideV")
    for table in _tables(document):
        tbl_pr = table._tbl.tblPr
        for old in tbl_pr.findall(qn("w:tblBorders")):
            tbl_pr.remove(old)
        borders = OxmlElement("w:tblBorders")
        for side in sides:
            borders.append(_border(side, side in keep))
        tbl_pr.append(borders)
        for tc in table._tbl.iter(qn("w:tc")):
            tc_pr = tc.get_or_add_tcPr()
            for old in tc_pr.findall(qn("w:tcBorders")):
                tc_pr.remove(old)
            if "insideH" not in keep:
                continue  # the table's own borders (or none) apply to every cell
            siblings = list(tc.getparent().iterchildren(qn("w:tc")))
            # The frame's sides only on the row's first and last cells: a cell's border wins over the table's.
            outer = {"left": tc is siblings[0], "right": tc is siblings[-1]}
            cell_borders = OxmlElement("w:tcBorders")
            for side in ("top", "left", "bottom", "right"):
                cell_borders.append(_border(side, side in ("top", "bottom") or (side in keep and outer[side])))
            tc_pr.append(cell_borders)


def _spacer_before_table3(document: Any, points: float) -> None:
    """表三's heading on a new page, straight above the table, ``points`` apart."""
    heading = next(p for p in document.paragraphs if p.text.strip() == SECTION_TITLES["三"])
    heading.paragraph_format.page_break_before = True
    t3 = _tables(document)[1]
    between = heading._p.getnext()
    while between is not None and between is not t3._tbl:
        after = between.getnext()
        if between.tag == qn("w:p"):
            between.getparent().remove(between)
        between = after
    heading.paragraph_format.space_after = Pt(points)


def _rows_cannot_split(document: Any) -> None:
    for table in _tables(document):
        for tr in table._tbl.iterchildren(qn("w:tr")):
            trpr = tr.get_or_add_trPr()
            trpr.append(OxmlElement("w:cantSplit"))


# ------------------------------------------------------------------ the 2019 template


def _merge_row(table: Any, r: int, first: int, last: int, text: str) -> None:
    cell = table.cell(r, first).merge(table.cell(r, last))
    write_cell(cell, text)


def _grid(document: Any, rows: int, cols: int, anchor: Any) -> Any:
    table = document.add_table(rows=rows, cols=cols)
    _set_all_borders(table)
    anchor.addnext(table._tbl)
    return table


def _set_all_borders(table: Any) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def _table2_2019(document: Any, report: dict[str, Any], anchor: Any) -> Any:
    groups = [
        ("第二十条第（一）项", ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"], ["regulations", "normative_documents"]),
        ("第二十条第（五）项", ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"], ["licensing", "other_services"]),
        ("第二十条第（六）项", ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"], ["punishment", "coercion"]),
        ("第二十条第（八）项", ["信息内容", "上一年项目数量", "本年增/减"], ["fees"]),
        ("第二十条第（九）项", ["信息内容", "采购项目数量", "采购总金额"], ["procurement"]),
    ]
    n_rows = sum(2 + len(keys) for _, _, keys in groups)
    table = _grid(document, n_rows, 4, anchor)
    r = 0
    for group, header, keys in groups:
        _merge_row(table, r, 0, 3, group)
        r += 1
        for c, text in enumerate(header[:3]):
            write_cell(table.cell(r, c), text)
        if len(header) == 4:
            write_cell(table.cell(r, 3), header[3])
        else:
            _merge_row(table, r, 2, 3, header[2])
        r += 1
        for key in keys:
            row = TABLE2_2019.row(key)
            write_cell(table.cell(r, 0), row.label)
            values = [_fmt(report["table2"][key][c.key], c.key in row.signed) for c in row.columns]
            if len(values) == 3:
                for c, text in enumerate(values, start=1):
                    write_cell(table.cell(r, c), text)
            else:
                write_cell(table.cell(r, 1), values[0])
                _merge_row(table, r, 2, 3, values[1])
            r += 1
    return table


def _to_2019_table3(table: Any, report: dict[str, Any]) -> None:
    """The 2021 表三 with （六） made one row, “（六）其他处理”, as in the 2019 format."""
    trs = list(table._tbl.iterchildren(qn("w:tr")))
    six = trs[3 + 20 : 3 + 23]  # the three （六） rows of the 2021 template
    for tr in six[1:]:
        tr.getparent().remove(tr)
    tcs = list(six[0].iterchildren(qn("w:tc")))
    label_tc, item_tc = tcs[1], tcs[2]
    for tc in (label_tc, item_tc):
        pr = tc.get_or_add_tcPr()
        for vm in pr.findall(qn("w:vMerge")):
            pr.remove(vm)
    label_tc.get_or_add_tcPr().grid_span = sum(tc.get_or_add_tcPr().grid_span for tc in (label_tc, item_tc))
    six[0].remove(item_tc)
    write_cell(_Cell(label_tc, table), "（六）其他处理")
    data = list(table._tbl.iterchildren(qn("w:tr")))[3:]
    for tr, row in zip(data, TABLE3_2019.rows, strict=True):
        tcs = list(tr.iterchildren(qn("w:tc")))
        for tc, col in zip(tcs[-len(row.columns) :], row.columns, strict=True):
            write_cell(_Cell(tc, table), _fmt(report["table3"][row.key][col.key]))


def make_docx_2019(report: dict[str, Any], sections: dict[str, list[str]], path: Path) -> Path:
    """A 2019-format report: the 2021 template with the 2019 表二, （六）其他处理 and headings."""
    as_2021 = dict(report, format="2021")
    as_2021["table2"] = {r.key: {c.key: 0 for c in r.columns} for r in TABLE2_2021.rows}
    as_2021["table3"] = {r.key: {c.key: 0 for c in r.columns} for r in TABLE3_2021.rows}
    make_docx(as_2021, sections, path)
    document = docx.Document(str(path))
    t2, t3 = _tables(document)[:2]
    _table2_2019(document, report, t2._tbl)
    t2._tbl.getparent().remove(t2._tbl)
    _to_2019_table3(t3, report)
    for p in document.paragraphs:
        if p.text.strip() == SECTION_TITLES["五"]:
            p.runs[0].text = SECTION_TITLES_2019["五"]
            for run in p.runs[1:]:
                run.text = ""
    document.save(str(path))
    return path


# ------------------------------------------------------------------ the zoo


@dataclass
class ZooDoc:
    name: str  # e.g. "2021-landscape.pdf"
    path: Path
    expected: dict[str, Any]
    variant: str
    container: str  # pdf | doc | odt | rtf | html | mht | wps | docx

    @property
    def deserved(self) -> list[str]:
        """The findings a document made this way truly deserves: one per blank cell."""
        return ["TABLE_CELL_MISSING"] * sum(
            v is None for t in ("table2", "table3", "table4") for row in self.expected[t].values() for v in row.values()
        )


@dataclass(frozen=True)
class _Variant:
    name: str
    fmt: str
    seed: int
    edit: Callable[[Any], None] | None = None
    long: bool = False
    bare: bool = False  # no sentence between a section heading and its table
    blanks: int = 0  # 表三 cells left blank (expected null, each deserving TABLE_CELL_MISSING)


_VARIANTS = (
    _Variant("plain", "2021", 1, bare=True),
    _Variant("lead", "2021", 11),
    _Variant("tight", "2021", 12, _tight, bare=True),
    _Variant("2019-tight", "2019", 13, _tight, bare=True),
    _Variant("tight-borderless", "2021", 18, lambda d: (_tight(d), _set_borders(d, ())), bare=True),
    _Variant("2019-tight-borderless", "2019", 19, lambda d: (_tight(d), _set_borders(d, ())), bare=True),
    _Variant("repeat", "2021", 2, lambda d: _repeat_header(d), long=True),
    _Variant("landscape", "2021", 3, _landscape),
    _Variant("borderless", "2021", 4, lambda d: _set_borders(d, ()), bare=True),
    _Variant("hrules", "2021", 5, lambda d: _set_borders(d, ("top", "bottom", "insideH"))),
    _Variant("landscape-borderless", "2021", 6, lambda d: (_landscape(d), _set_borders(d, ()))),
    _Variant("2019", "2019", 7, bare=True),
    _Variant("2019-borderless", "2019", 8, lambda d: _set_borders(d, ())),
    _Variant("2019-landscape", "2019", 9, _landscape),
    _Variant("frame", "2021", 16, lambda d: _set_borders(d, ("top", "left", "bottom", "right"))),
    _Variant("boxed-rows", "2019", 17, lambda d: _set_borders(d, ("top", "left", "bottom", "right", "insideH"))),
    _Variant("blanks", "2021", 14, blanks=3),
    _Variant("blanks-borderless", "2021", 15, lambda d: _set_borders(d, ()), blanks=3),
)
# Containers made from these variants' Word files.
_CONTAINER_SOURCES = ("plain", "2019")
_CONTAINERS = {
    "doc": "doc:MS Word 97",
    "odt": "odt",
    "rtf": "rtf",
    "html": "html:HTML (StarWriter)",
}


def _hash_sources() -> str:
    h = hashlib.sha256()
    for f in (Path(__file__), _HERE / "fixtures.py", template_path()):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


# Taken when this module is imported: the cache key is the code that runs, even if
# the file is edited while a long test session is under way.
_GENERATOR_HASH = _hash_sources()


def generator_hash() -> str:
    return _GENERATOR_HASH


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _convert(files: list[Path], target: str, outdir: Path) -> None:
    """One soffice run converts every file (start-up is most of the cost)."""
    office = soffice()
    assert office is not None, "LibreOffice (soffice) is needed to build the zoo"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                office,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                str(outdir),
                *map(str, files),
            ],
            check=True,
            capture_output=True,
            timeout=SOFFICE_TIMEOUT,
            env=dict(os.environ, HOME=profile),
        )


def _table3_tail(pdf_path: Path) -> tuple[int, float, float] | None:
    """Page of 表三's last row, its top, and the row pitch above it, from the PDF itself."""
    import pdfplumber

    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            lines = page.extract_text_lines()
            for k, line in enumerate(lines):
                if line["text"].replace(" ", "").startswith("四、结转下年度"):
                    pitch = line["top"] - lines[k - 1]["top"] if k else 0.0
                    return page.page_number, float(line["top"]), float(pitch)
    return None


def _mht(page: bytes) -> bytes:
    """A single-file web page (.mht) as Word and IE save it: MIME, GB18030, quoted-printable
    (while the page's own <meta> still says UTF-8, as LibreOffice wrote it)."""
    import quopri
    from email.mime.multipart import MIMEMultipart
    from email.mime.nonmultipart import MIMENonMultipart

    msg = MIMEMultipart("related", type="text/html")
    part = MIMENonMultipart("text", "html", charset="gb18030")
    part.set_payload(quopri.encodestring(page.decode("utf-8").encode("gb18030")).decode("ascii"))
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part["Content-Location"] = "file:///C:/report.htm"
    msg.attach(part)
    return msg.as_bytes()


def _text_bottom(path: Path) -> float:
    section = docx.Document(str(path)).sections[0]
    return float(section.page_height.pt - section.bottom_margin.pt)


def _blank_out(report: dict[str, Any], n: int, seed: int) -> None:
    # Zeros left blank, as agencies often do: the printed sums still hold.
    rng = random.Random(seed)
    cells = [(r, c) for r, cols in report["table3"].items() for c, v in cols.items() if v == 0]
    for r, c in rng.sample(cells, n):
        report["table3"][r][c] = None


def _write_docx(v: _Variant, path: Path, spacer: float | None = None) -> dict[str, Any]:
    report = make_report(v.seed, v.fmt)
    if v.blanks:
        _blank_out(report, v.blanks, v.seed)
    sections = narrative(report, v.long, v.bare)
    if v.fmt == "2019":
        make_docx_2019(report, sections, path)
    else:
        make_docx(report, sections, path)
    document = docx.Document(str(path))
    if v.edit is not None:
        v.edit(document)
    if spacer is not None:
        _rows_cannot_split(document)
        _spacer_before_table3(document, spacer)
    document.save(str(path))
    return report


def build(out: Path) -> list[ZooDoc]:
    """Make the whole zoo in ``out`` (a fresh folder)."""
    out.mkdir(parents=True, exist_ok=True)
    words = out / "docx"
    words.mkdir(exist_ok=True)
    docs: list[ZooDoc] = []
    expected: dict[str, dict[str, Any]] = {}
    for v in _VARIANTS:
        expected[v.name] = _write_docx(v, words / f"{v.name}.docx")
    # 表三's last row alone on the next page: lay the table out once, measure
    # where its last row falls, then push the table down by just that much.
    lastrow = _Variant("lastrow", "2021", 10, None)
    probe = words / "lastrow.docx"
    _write_docx(lastrow, probe, spacer=1.0)
    _convert([words / f"{v.name}.docx" for v in _VARIANTS] + [probe], "pdf", out)
    tail = _table3_tail(out / "lastrow.pdf")
    assert tail is not None, "probe: 表三's last row not found"
    page, top, pitch = tail
    text_bottom = _text_bottom(probe)
    # Down by half a row more than the last row's room: it alone crosses the page's foot.
    expected["lastrow"] = _write_docx(lastrow, probe, spacer=1.0 + text_bottom - top - pitch / 2)
    _convert([probe], "pdf", out)
    tail2 = _table3_tail(out / "lastrow.pdf")
    assert tail2 is not None and tail2[0] == page + 1, f"lastrow: last row on page {tail2} (wanted {page + 1})"

    for name in [v.name for v in _VARIANTS] + ["lastrow"]:
        docs.append(ZooDoc(f"{name}.pdf", out / f"{name}.pdf", expected[name], name, "pdf"))
    sources = [words / f"{name}.docx" for name in _CONTAINER_SOURCES]
    for ext, target in _CONTAINERS.items():
        _convert(sources, target, out)
        for name in _CONTAINER_SOURCES:
            docs.append(ZooDoc(f"{name}.{ext}", out / f"{name}.{ext}", expected[name], name, ext))
    for name in _CONTAINER_SOURCES:
        mht = out / f"{name}.mht"
        mht.write_bytes(_mht((out / f"{name}.html").read_bytes()))
        docs.append(ZooDoc(f"{name}.mht", mht, expected[name], name, "mht"))
        wps = out / f"{name}.wps"
        shutil.copyfile(out / f"{name}.doc", wps)
        docs.append(ZooDoc(f"{name}.wps", wps, expected[name], name, "wps"))
        docs.append(ZooDoc(f"{name}.docx", words / f"{name}.docx", expected[name], name, "docx"))
    (out / "zoo.json").write_text(
        json.dumps(
            [{"name": d.name, "path": str(d.path.relative_to(out)), "variant": d.variant, "container": d.container, "expected": d.expected} for d in docs],
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    return docs


def zoo(cache_root: Path | None = None) -> list[ZooDoc]:
    """The zoo, from the cache when this generator made it before."""
    root = (cache_root or ROOT / ".cache" / "zoo") / generator_hash()
    index = root / "zoo.json"
    if not index.exists():
        tmp = Path(tempfile.mkdtemp(prefix="zoo-", dir=root.parent if root.parent.exists() else None))
        try:
            build(tmp)
            root.parent.mkdir(parents=True, exist_ok=True)
            if root.exists():
                shutil.rmtree(tmp)
            else:
                tmp.rename(root)  # atomic: a half-built zoo is never used
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    items = json.loads(index.read_text(encoding="utf-8"))
    return [ZooDoc(i["name"], root / i["path"], i["expected"], i["variant"], i["container"]) for i in items]


def edited_pdfs(name: str, variants: Iterable[str], edit: Callable[[Path, Path], dict[str, str]]) -> list[tuple[str, Path, dict[str, str]]]:
    """Zoo variants' Word files changed by ``edit(src, out)`` and printed again by LibreOffice, cached.

    ``edit`` writes the changed copy to ``out`` and returns what it printed (the
    values a test then looks for). ``name`` keys the cache with the generator's
    hash: bump it when the edit changes. Returns (variant, PDF, printed) per variant.
    """
    docs = {d.variant: d for d in zoo() if d.container == "pdf"}
    words = docs["plain"].path.parent / "docx"
    root = ROOT / ".cache" / name / generator_hash()
    if not (root / "done").exists():
        tmp = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root.parent if root.parent.exists() else None))
        try:
            done = {v: edit(words / f"{v}.docx", tmp / f"{v}.docx") for v in variants}
            _convert([tmp / f"{v}.docx" for v in done], "pdf", tmp)
            (tmp / "done").write_text(json.dumps(done, ensure_ascii=False), encoding="utf-8")
            root.parent.mkdir(parents=True, exist_ok=True)
            if root.exists():
                shutil.rmtree(root)
            tmp.rename(root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    done = json.loads((root / "done").read_text(encoding="utf-8"))
    return [(v, root / f"{v}.pdf", printed) for v, printed in done.items()]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        made = build(Path(sys.argv[1]))
    else:
        made = zoo()
    for d in made:
        print(d.name, d.path)
