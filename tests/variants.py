"""Report variants with KNOWN values: the official template filled with numbers put in, then
changed the way agencies' documents really differ (misprinted labels, 元, titles, crawler text,
Word-exported HTML, mixed formats).

The expected values are the numbers put in (``KNOWN``), never what the parser says.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import docx

from auditlib.layouts import TABLE2_2019, TABLE2_2021, TABLE3_2019, TABLE3_2021
from auditlib.report import Report

AGENCY = "柳州市鱼峰区发展和改革局"
YEAR = 2021


def _t3(rows: dict[str, list[int]], keys: Iterable[str]) -> dict[str, dict[str, int]]:
    cols = [c.key for c in TABLE3_2021.columns]  # type: ignore[union-attr]
    out = {}
    for key in keys:
        values = rows.get(key, [0] * 6)
        out[key] = dict(zip(cols, [*values, sum(values)], strict=True))
    return out


_RESULTS = {
    "granted": [4, 1, 0, 0, 0, 0],
    "partially_granted": [2, 0, 0, 0, 0, 0],
    "denied_third_party": [1, 0, 0, 0, 0, 0],
    "unable_not_held": [2, 0, 0, 1, 0, 0],
    "rejected_duplicate": [1, 0, 0, 0, 0, 0],
}
_NEW = [10, 2, 0, 1, 0, 0]
_OLD = [1, 0, 0, 0, 0, 0]


def _consistent_t3(other_rows: dict[str, list[int]], layout3: Any) -> dict[str, dict[str, int]]:
    rows = {**_RESULTS, **other_rows, "new_received": _NEW, "carried_over": _OLD}
    result_keys = [r.key for r in layout3.rows[2:-2]]
    handled = [sum(rows.get(k, [0] * 6)[c] for k in result_keys) for c in range(6)]
    rows["total_handled"] = handled
    rows["carried_forward"] = [_NEW[c] + _OLD[c] - handled[c] for c in range(6)]
    return _t3(rows, [r.key for r in layout3.rows])


def known(fmt: str = "2021") -> dict[str, Any]:
    """A report whose every figure agrees with every other: a clean audit has nothing to say."""
    if fmt == "2021":
        t2 = {
            "regulations": {"issued": 0, "repealed": 0, "in_force": 3},
            "normative_documents": {"issued": 5, "repealed": 1, "in_force": 20},
            "licensing": {"decisions": 120},
            "punishment": {"decisions": 45},
            "coercion": {"decisions": 3},
            "fees": {"amount": 25.1},
        }
        t3 = _consistent_t3({"other_overdue_correction": [0, 1, 0, 0, 0, 0]}, TABLE3_2021)
    else:
        t2 = {
            "regulations": {"made": 0, "published": 0, "total_published": 3},
            "normative_documents": {"made": 5, "published": 5, "total_published": 20},
            "licensing": {"previous_items": 40, "change": -3, "decisions": 120},
            "other_services": {"previous_items": 12, "change": 2, "decisions": 30},
            "punishment": {"previous_items": 60, "change": 0, "decisions": 45},
            "coercion": {"previous_items": 8, "change": 1, "decisions": 3},
            "fees": {"previous_items": 2, "change": 0},
            "procurement": {"projects": 4, "amount": 138.5},
        }
        t3 = _consistent_t3({"other": [0, 1, 0, 0, 0, 0]}, TABLE3_2019)
    t4 = {
        "review": {"upheld": 2, "corrected": 1, "other": 0, "pending": 0, "total": 3},
        "litigation_direct": {"upheld": 1, "corrected": 0, "other": 0, "pending": 1, "total": 2},
        "litigation_after_review": {"upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0},
    }
    return {
        "agency": AGENCY,
        "year": YEAR,
        "format": fmt,
        "signed_on": "2022-01-20",
        "published_on": None,
        "table2": t2,
        "table3": t3,
        "table4": t4,
    }


NARRATIVE = [
    "本机关坚持以公开为常态、不公开为例外，依法做好政府信息公开工作。",
    "本年度进一步完善了政府信息公开制度，规范了依申请公开办理流程。",
]

_T2_LAYOUTS = {"2021": TABLE2_2021, "2019": TABLE2_2019}


# ------------------------------------------------------------------ checking
def cell_problems(report: Report, want: dict[str, Any], tables: Iterable[str] = ("table2", "table3", "table4")) -> list[str]:
    """Every cell right, or null with a warning that names its row (or its table, when the whole
    table could not be read). Returns what is wrong; a wrong value is always a problem."""
    got = report.to_json()
    warnings = "\n".join(got["warnings"])
    problems = []
    for table in tables:
        pt = report.tables[table]
        lay = pt.layout
        for row in lay.rows:
            for col in row.columns:
                have = got[table][row.key][col.key]
                expect = want[table][row.key][col.key]
                if have == expect:
                    continue
                if have is not None:
                    problems.append(f"WRONG {table} {row.key}.{col.key}: {have!r} != {expect!r}")
                    continue
                names = {row.label, pt.labels.get(row.key) or row.label}
                named = any(f"{_NAMES[table]} {n}" in warnings for n in names) or (
                    pt.unreadable and f"{_NAMES[table]}: {pt.unreadable}" in warnings
                )
                if not named:
                    problems.append(f"NULL WITHOUT WARNING {table} {row.key}.{col.key} (expected {expect!r})")
    return problems


_NAMES = {"table2": "表二", "table3": "表三", "table4": "表四"}


# ------------------------------------------------------------------ editing documents
def edit_docx(src: Path, dst: Path, replacements: list[tuple[str, str]]) -> Path:
    """Replace whole paragraph texts (body and table cells) in a filled template."""
    document = docx.Document(str(src))
    todo = list(replacements)

    def paragraphs() -> Iterable[Any]:
        yield from document.paragraphs
        for t in document.tables:
            for r in t.rows:
                seen = set()
                for c in r.cells:
                    if id(c._tc) in seen:
                        continue
                    seen.add(id(c._tc))
                    yield from c.paragraphs

    for p in paragraphs():
        for old, new in todo:
            if p.text.strip() == old:
                runs = p.runs
                runs[0].text = new
                for run in runs[1:]:
                    run._r.getparent().remove(run._r)
                todo.remove((old, new))
                break
    if todo:
        raise ValueError(f"not in the document: {todo}")
    document.save(str(dst))
    return dst


def edit_text(src: Path, dst: Path, replacements: list[tuple[str, str]]) -> Path:
    text = src.read_text(encoding="utf-8")
    for old, new in replacements:
        if old not in text:
            raise ValueError(f"not in the document: {old}")
        text = text.replace(old, new, 1)
    dst.write_text(text, encoding="utf-8")
    return dst


# How extractors lay out a table row when they do not use tabs.
COLUMN_STYLES = {
    "spaces": "  ",  # pdftotext, copy and paste into an editor: a run of spaces
    "space": " ",  # crawlers' get_text(" "): one space
    "ideographic": "\u3000",  # full-width spaces, as Chinese editors pad
    "en-spaces": "\u2002\u2002",  # &ensp;&ensp; in a web page's text
    "markdown": " | ",  # html-to-text converters: a Markdown table
}


def text_with_columns(src: Path, dst: Path, style: str) -> Path:
    """The tab-separated rows of a text report laid out another way (``COLUMN_STYLES``).

    Lines that hold one cell after a tab (cell-per-line tables) and blank cells, which
    spaces cannot show, are left as they are; a Markdown table gets its rule line under
    its first row.
    """
    sep = COLUMN_STYLES[style]
    out: list[str] = []
    in_table = False
    for line in src.read_text(encoding="utf-8").split("\n"):
        cells = line.split("\t")
        if len(cells) < 2 or line.startswith("\t") or any(not c.strip() for c in cells):
            out.append(line)
            in_table = False
            continue
        if style == "markdown":
            out.append("| " + sep.join(cells) + " |")
            if not in_table:
                out.append("|" + "---|" * len(cells))
        else:
            out.append(sep.join(cells))
        in_table = True
    dst.write_text("\n".join(out), encoding="utf-8")
    return dst


def soffice_html(src: Path, outdir: Path) -> Path:
    """Word's own route to a web page, by LibreOffice: the .docx saved as HTML."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "html",
             "--outdir", str(outdir), str(src)],
            check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": profile},
        )  # fmt: skip
    return outdir / (src.stem + ".html")


def mso_html(report: dict[str, Any], paragraphs: list[str], path: Path) -> Path:
    """A page as Word's "save as web page" writes it: MsoNormalTable, <o:p>, spans and <p>
    inside every cell, widths everywhere, lines wrapped anywhere."""
    from tests.fixtures import make_html

    make_html(report, paragraphs, path)
    page = path.read_text(encoding="utf-8")

    def cell(m: re.Match[str]) -> str:
        tag, attrs, body = m.group(1), m.group(2) or "", m.group(3)
        body = body.replace("&nbsp;", "").strip()
        inner = (
            f'<p class=MsoNormal align=center style="text-align:center"><span lang=EN-US '
            f'style="font-size:10.5pt;font-family:宋体">{body}<o:p></o:p></span></p>'
            if body
            else '<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>'
        )
        return f'<{tag} width=64 valign=top style="width:48.0pt;border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt"{attrs}>{inner}</{tag}>'

    page = re.sub(r"<(td|th)((?: (?:rowspan|colspan)=\"\d+\")*)>(.*?)</\1>", cell, page, flags=re.S)
    page = re.sub(r"<table[^>]*>", '<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 width=576 style="width:432.0pt;border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt">', page)
    # Word wraps its source lines at ~80 columns, inside words.
    page = page.replace("</span></p>", "</span>\n</p>")
    page = page.replace("<html", '<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word"', 1)
    path.write_text(page, encoding="utf-8")
    return path


def mixed_text(path: Path) -> tuple[Path, dict[str, Any]]:
    """A 2021 report whose 表三 is still the 2019 table (one （六）其他处理 row)."""
    from tests.fixtures import make_text

    new, old = known("2021"), known("2019")
    make_text(new, NARRATIVE, path)
    make_text(old, NARRATIVE, path.with_suffix(".old"))
    lines_new = path.read_text(encoding="utf-8").split("\n")
    lines_old = path.with_suffix(".old").read_text(encoding="utf-8").split("\n")
    path.with_suffix(".old").unlink()

    def table3(lines: list[str]) -> tuple[int, int]:
        a = next(i for i, ln in enumerate(lines) if ln.startswith("（本列数据"))
        b = next(i for i, ln in enumerate(lines) if ln.startswith("四、结转下年度"))
        return a, b + 1

    a, b = table3(lines_new)
    c, d = table3(lines_old)
    lines = lines_new[:a] + lines_old[c:d] + lines_new[b:]
    path.write_text("\n".join(lines), encoding="utf-8")
    want = copy.deepcopy(new)
    want["table3"] = old["table3"]
    return path, want




def crawler_one_line(src: Path, dst: Path, url: str, published: str, sep: str = "") -> Path:
    """A crawler's dump of the page: its fields first, then the whole body on one line, table
    cells run together without any separator (规章003行政规范性文件5120…), or with ``sep``
    between every two pieces of text (get_text(" "): 规章 0 0 3 行政规范性文件 5 1 20 …)."""
    lines = src.read_text(encoding="utf-8").split("\n")
    title, body = lines[0], lines[1:]
    flat = sep.join(c for c in (cell.strip() for ln in body for cell in ln.split("\t")) if c)
    dst.write_text(f"标题:{title}\n发布时间:{published}\n原文链接:{url}\n{flat}\n", encoding="utf-8")
    return dst


def html_table_as_image(src: Path, dst: Path, which: int) -> Path:
    """The page with its ``which``-th data table (0: 表二) replaced by a picture of it, as many sites do."""
    page = src.read_text(encoding="utf-8")
    tables = list(re.finditer(r"<table.*?</table>", page, flags=re.S))
    m = tables[which]
    img = f'<p style="text-align:center"><img src="/uploads/2022/01/ndbg_table{which + 2}.png" width="640" height="480" border="0"></p>'
    dst.write_text(page[: m.start()] + img + page[m.end() :], encoding="utf-8")
    return dst


def html_split_pages(src: Path, dst: Path) -> Path:
    """A report the site split over two pages, saved one after the other: the site's chrome
    (header, navigation, breadcrumb, pager, footer) repeated around each half of the article."""
    page = src.read_text(encoding="utf-8")
    head, rest = page.split('<div class="article-content">', 1)
    body, tail = rest.split("</div>\n</div>", 1)
    cut = body.index("<p><strong>四、")
    chrome_top = head[head.index("<body>") + len("<body>") :]
    pager = '<div class="page-nav">上一页 <a>1</a> <a>2</a> 下一页 共2页</div>'
    footer = tail[: tail.index("</body>")]
    second = (
        f"{chrome_top}<div class=\"article-content\">{body[cut:]}</div>\n</div>{pager}{footer}"
    )
    out = f"{head}<div class=\"article-content\">{body[:cut]}</div>\n</div>{pager}{footer}{second}</body>\n</html>\n"
    dst.write_text(out, encoding="utf-8")
    return dst


def html_split_files(src: Path, folder: Path, stem: str = "t20220126_5012", style: str = "links") -> list[Path]:
    """The report as a CMS publishes a long article: three pages, saved as three files
    (``stem.html``, ``stem_1.html``, ``stem_2.html``), the site's chrome repeated on each.
    The first cut falls inside 表三, between two of its rows: the table goes on, under its
    own <table>, on the next page. ``style``: "links" (a pager of <a href>s to the files)
    or "trs" (the pager written by TRS's createPageHTML script, so no link in the HTML)."""
    page = src.read_text(encoding="utf-8")
    head, rest = page.split('<div class="article-content">', 1)
    body, tail = rest.split("</div>\n</div>", 1)
    t3 = body.index("<table", body.index("三、收到和处理"))
    rows = [m.start() for m in re.finditer(r"<tr", body[t3:])]
    mid = t3 + rows[len(rows) // 2]  # a row boundary in the middle of 表三
    table_open = body[t3 : body.index(">", t3) + 1]
    cut2 = body.index("<p><strong>五、")
    parts = [body[:mid] + "</table>", table_open + body[mid:cut2], body[cut2:]]
    names = [f"{stem}.html", f"{stem}_1.html", f"{stem}_2.html"]
    chrome_top = head[head.index("<body>") + len("<body>") :]
    html_head = head[: head.index("<body>") + len("<body>")]
    footer = tail[: tail.index("</body>")]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, part in enumerate(parts):
        if style == "trs":
            pager = f'<div class="page"><script>createPageHTML(3, {k}, "{stem}", "html");</script></div>'
        else:
            links = " ".join(f'<a href="./{n}">{i + 1}</a>' for i, n in enumerate(names))
            prev = f'<a href="./{names[k - 1]}">上一页</a>' if k else "上一页"
            nxt = f'<a href="./{names[k + 1]}">下一页</a>' if k + 1 < len(names) else "下一页"
            pager = f'<div class="page-nav">{prev} {links} {nxt} 共3页</div>'
        doc = f'{html_head}{chrome_top}<div class="article-content">{part}</div>\n</div>{pager}{footer}</body>\n</html>\n'
        path = folder / names[k]
        path.write_text(doc, encoding="utf-8")
        out.append(path)
    return out
