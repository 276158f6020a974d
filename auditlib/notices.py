"""整改通知 (rectification notices): one Word file per agency whose findings an
auditor confirmed, filled from a template the office can replace, and one Excel
list of every notice written.

A template is an ordinary .docx holding placeholders in double braces:

- in any paragraph (body, table cell, header, footer): ``{{机关}}`` ``{{报告}}``
  ``{{年度}}`` ``{{问题数}}`` ``{{发文日期}}`` ``{{回复期限}}`` ``{{发文机关}}``;
- in one row of one table, the row repeated for each confirmed finding:
  ``{{序号}}`` ``{{位置}}`` ``{{问题}}`` ``{{原文}}`` ``{{审核意见}}`` ``{{规则}}``.

Word splits typed text into runs at will, so a placeholder is looked for in a
paragraph's whole text; the paragraph keeps the formatting of its first run.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "templates" / "notice.docx"
LIST_NAME = "整改通知清单.xlsx"
REPLY_DAYS = 15
_FIELD = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
ROW_FIELDS = ("序号", "位置", "问题", "原文", "审核意见", "规则")


class NoticeError(Exception):
    """A notice cannot be written (bad template, unwritable folder); Chinese with an English gloss."""


@dataclass
class Notice:
    agency: str
    reports: list[str]  # the sources the confirmed findings stand in
    years: list[int]
    findings: list[dict[str, Any]]
    path: Path | None = None


def confirmed_by_agency(findings: Iterable[Mapping[str, Any]]) -> list[Notice]:
    """Group findings whose review status is ``confirmed`` by agency, in a stable order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        if f.get("review_status") != "confirmed":
            continue
        groups.setdefault(str(f.get("agency") or "（未知机关）"), []).append(dict(f))
    out = []
    for agency in sorted(groups):
        fs = sorted(groups[agency], key=lambda f: (f.get("year") or 0, str(f.get("source")), str(f.get("location"))))
        out.append(
            Notice(
                agency=agency,
                reports=list(dict.fromkeys(str(f.get("source")) for f in fs)),
                years=sorted({int(f["year"]) for f in fs if f.get("year")}),
                findings=fs,
            )
        )
    return out


def _text(v: Any) -> str:
    if v is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


# The English gloss closing a message: useful on screen, out of place in an official letter.
_TAIL = re.compile(r"[（(]([^（）()]*)[）)]\s*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def _chinese(message: str) -> str:
    """The message without its closing English gloss (Chinese parts of the bracket kept)."""
    m = _TAIL.search(message)
    if not m:
        return message.strip()
    keep = [p for p in re.split(r"[；;]", m.group(1)) if len(_CJK.findall(p)) >= len(_LATIN.findall(p))]
    head = message[: m.start()].rstrip()
    return head + (f"（{'；'.join(p.strip() for p in keep)}）" if keep else "")


def _where(f: Mapping[str, Any]) -> str:
    place = _text(f.get("location"))
    page = f.get("page")
    if _text(page):
        place += f"（第{int(page)}页）"
    return place


def _report_title(n: Notice) -> str:
    years = "、".join(str(y) for y in n.years)
    return f"{n.agency}{years}年度政府信息公开工作年度报告" if years else f"{n.agency}政府信息公开工作年度报告"


def _fill_paragraph(paragraph: Any, values: Mapping[str, str]) -> None:
    text = paragraph.text
    if "{{" not in text:
        return
    new = _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    if new == text:
        return
    runs = paragraph.runs
    if not runs:
        return
    runs[0].text = new
    for r in runs[1:]:
        r.text = ""


def _paragraphs(container: Any) -> Iterable[Any]:
    yield from container.paragraphs
    for table in container.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from _paragraphs(cell)


def _finding_row(doc: Any) -> tuple[Any, Any] | None:
    """(table, row) of the template row that holds a per-finding placeholder."""
    for table in doc.tables:
        for row in table.rows:
            if any(f"{{{{{name}}}}}" in "".join(c.text for c in row.cells).replace(" ", "") for name in ROW_FIELDS):
                return table, row
    return None


def render(notice: Notice, template: str | os.PathLike[str] | None, issued: dt.date, deadline: dt.date, issuer: str) -> Any:
    """The notice as a python-docx Document (not yet saved)."""
    import docx

    path = Path(template) if template else DEFAULT_TEMPLATE
    try:
        doc = docx.Document(str(path))
    except Exception as exc:
        raise NoticeError(f"整改通知模板无法打开：{path}（{exc}）（the notice template cannot be opened）") from exc
    found = _finding_row(doc)
    if found is None:
        raise NoticeError(
            f"整改通知模板中没有逐条列出问题的表格行（须含 {{{{位置}}}} 等占位符）：{path}"
            f"（the template has no table row with per-finding placeholders）"
        )
    table, row = found
    for i, f in enumerate(notice.findings, 1):
        new = copy.deepcopy(row._tr)
        row._tr.addprevious(new)
        from docx.table import _Row

        values = {
            "序号": str(i),
            "位置": _where(f),
            "问题": _chinese(_text(f.get("message"))),
            "原文": _text(f.get("evidence")),
            "审核意见": _text(f.get("review_note")) or "（无）",
            "规则": _text(f.get("rule")),
        }
        for cell in _Row(new, table).cells:
            for p in _paragraphs(cell):
                _fill_paragraph(p, values)
    row._tr.getparent().remove(row._tr)
    values = {
        "机关": notice.agency,
        "报告": _report_title(notice),
        "年度": "、".join(str(y) for y in notice.years),
        "问题数": str(len(notice.findings)),
        "发文日期": f"{issued.year}年{issued.month}月{issued.day}日",
        "回复期限": f"{deadline.year}年{deadline.month}月{deadline.day}日",
        "发文机关": issuer,
    }
    for p in _paragraphs(doc):
        _fill_paragraph(p, values)
    for section in doc.sections:
        for part in (section.header, section.footer):
            for p in _paragraphs(part):
                _fill_paragraph(p, values)
    return doc


def write_notices(
    findings: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike[str],
    template: str | os.PathLike[str] | None = None,
    issued: dt.date | None = None,
    deadline: dt.date | None = None,
    issuer: str = "政务公开工作主管部门",
) -> list[Notice]:
    """Write one 整改通知 per agency with confirmed findings, and the list of them.

    ``findings`` are records with the contract's keys plus ``review_status`` and
    ``review_note`` (``ReviewStore.status_frame(...).to_dict("records")``).
    """
    from auditlib.clock import today
    from auditlib.files import atomic_path, safe_dirname

    issued = issued or today()
    deadline = deadline or issued + dt.timedelta(days=REPLY_DAYS)
    out = Path(out_dir)
    notices = confirmed_by_agency(findings)
    used: set[str] = set()
    for n in notices:
        doc = render(n, template, issued, deadline, issuer)
        name = safe_dirname(f"整改通知_{n.agency}")
        while name in used:  # two names that make the same file name
            name += "_"
        used.add(name)
        n.path = out / f"{name}.docx"
        try:
            with atomic_path(n.path) as tmp:
                doc.save(str(tmp))
        except OSError as exc:
            raise NoticeError(f"无法写入整改通知：{n.path}（{exc}）（cannot write the notice）") from exc
    write_list(notices, out / LIST_NAME, issued, deadline)
    return notices


def write_list(notices: list[Notice], path: Path, issued: dt.date, deadline: dt.date) -> Path:
    """One Excel sheet 整改通知清单: a line per notice sent."""
    from openpyxl import Workbook

    from auditlib.excel import _autowidth, _header, safe_cell, save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "整改通知清单"
    heads = ["序号", "机关", "报告年度", "确认问题数", "问题规则", "来源文件", "通知文件", "发文日期", "回复期限"]
    _header(ws, 1, heads)
    for i, n in enumerate(notices, 1):
        line = [
            i,
            n.agency,
            "、".join(str(y) for y in n.years),
            len(n.findings),
            "、".join(dict.fromkeys(_text(f.get("rule")) for f in n.findings)),
            "\n".join(n.reports),
            n.path.name if n.path else "",
            issued.isoformat(),
            deadline.isoformat(),
        ]
        ws.append([safe_cell(v) for v in line])
    _autowidth(ws)
    return save_workbook(wb, path)


def copy_template(dest: str | os.PathLike[str]) -> Path:
    """Copy the default template out, for the office to edit and pass back with ``--template``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_TEMPLATE, dest)
    return dest
