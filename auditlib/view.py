"""How a report and its findings are shown as HTML: the escaped text with the evidence
highlighted, the styled tables with the cells behind findings filled, the findings list.

Both the papermill sheets (:mod:`auditlib.sheets`) and the JupyterLab stepper
(:mod:`auditlib.stepper`) display reports with these, so both show a report the same
way and the stepper needn't import the batch runner.

Report text is untrusted. Everything shown as HTML is escaped with
:func:`html.escape` (or pandas' ``escape="html"``) before any markup is added.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from pandas.io.formats.style import Styler

from auditlib.clock import beijing_text
from auditlib.layouts import TABLE_NAMES
from auditlib.locate import evidence_fragments, quote_pattern
from auditlib.vocab import FIELD_ZH, SEVERITY, SEVERITY_ZH, STATUS, severity_rank, severity_zh, status_zh

if TYPE_CHECKING:
    from auditlib.report import Report

TABLES = TABLE_NAMES
SEVERITY_CSS = {k: s.fill for k, s in SEVERITY.items()}
_NA_CSS = "background-color: #F2F2F2; color: #999999"
_CELL_CSS = "border: 1px solid #BFBFBF; padding: 2px 6px; text-align: right"
_LABEL_CSS = "border: 1px solid #BFBFBF; padding: 2px 6px; text-align: left; font-weight: normal"


def number(v: Any) -> float | None:
    """A cell's value as a float, None when missing."""
    if v is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        if pd.isna(v):
            return None
    return float(v)


# ================================================================= text → HTML
def esc(value: Any, blank: str = "") -> str:
    """Any value as HTML-escaped text. A missing value (None, NaN, NA) shows as ``blank``:
    empty in a table cell, where the cell's outline already shows it; the dashboard passes
    ``"—"`` for labels, where an empty string would leave nothing to read."""
    if value is None:
        return blank
    with contextlib.suppress(TypeError, ValueError):
        if pd.isna(value):
            return blank
    return html.escape(str(value), quote=True)


def find_spans(text: str, needles: Iterable[str], limit: int = 50) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of the needles in ``text``, in order."""
    spans: list[tuple[int, int]] = []
    for n in needles:
        if not n or not n.strip():
            continue
        for m in quote_pattern(n).finditer(text):
            if m.end() > m.start():
                spans.append((m.start(), m.end()))
            if len(spans) >= limit:
                break
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def highlight(text: str, needles: Iterable[str] = (), spans: Sequence[tuple[int, int]] | None = None) -> str:
    """``text`` escaped, with the needles (or spans) wrapped in ``<mark>``.

    Escaping is done piece by piece, so a mark never falls inside an entity
    and nothing of the text can become markup.
    """
    if spans is None:
        spans = find_spans(text, needles)
    out: list[str] = []
    pos = 0
    for s, e in spans:
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out)


def narrative_excerpt(text: str, evidence: str | None, context: int = 180) -> str | None:
    """The stretch of ``text`` around the evidence, escaped and highlighted; None if not found."""
    spans = find_spans(text, evidence_fragments(evidence))
    if not spans:
        return None
    start = max(0, spans[0][0] - context)
    end = min(len(text), spans[0][1] + context)
    # Take in further matches close to the first, up to a readable length.
    for s, e in spans[1:]:
        if s < end and e - start < 6 * context:
            end = min(len(text), max(end, e + context // 2))
    # Start and end at line breaks when one is near, so paragraphs read whole.
    nl = text.rfind("\n", start, spans[0][0])
    if nl != -1:
        start = nl + 1
    nl = text.find("\n", max(end - context // 3, spans[0][1]), end)
    if nl != -1:
        end = nl
    inside = [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]
    body = highlight(text[start:end], spans=inside)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


# ================================================================= tables
def _cell_findings(findings: pd.DataFrame | None, source: str, table: str) -> dict[tuple[str | None, str | None], str]:
    """(row, column) → worst severity of the findings on that cell; None = whole row/table."""
    out: dict[tuple[str | None, str | None], str] = {}
    if findings is None or findings.empty:
        return out
    sel = findings[(findings["source"].astype(str) == source) & (findings["table"] == table)]
    for f in sel.to_dict("records"):
        row = f["row"] if isinstance(f.get("row"), str) else None
        col = f["column"] if isinstance(f.get("column"), str) else None
        cells = f.get("cells")
        # A figure over several rows (不予公开 1–8) lists them all; older frames carry only row/column.
        places = [tuple(c) for c in cells] if isinstance(cells, list | tuple) and len(cells) else [(row, col)]
        sev = str(f.get("severity"))
        for place in places:
            old = out.get(place)
            if old is None or severity_rank(sev) < severity_rank(old):
                out[place] = sev
    return out


_ITEM = re.compile(r"^\s*\d+\s*[.、．]")


def _with_group(row: Any, label: str) -> str:
    """A numbered item (1.属于国家秘密) shown under its group (（三）不予公开): without it,
    the items of 不予公开, 无法提供 and 不予处理 read alike."""
    group = getattr(row, "group", "")
    if not group or not _ITEM.match(label):
        return label
    name = re.sub(r"^[（(][一二三四五六七][）)]", "", group)
    return label if name in label else f"{group} {label}"


def table_display(report: Report, table: str) -> pd.DataFrame:
    """The table as shown: numbers, ``（空）`` for a blank cell, the printed text of an
    unreadable one, and ``None`` where the official format has no such cell."""
    df = getattr(report, table)
    pt = report.tables[table]
    lay = pt.layout
    data = []
    col_keys = [k for k, _ in df.columns]
    # Row by row, by position: a label lookup per cell (df.loc) was most of a sheet's table time.
    for (row_key, _label), values in zip(df.index, df.itertuples(index=False, name=None), strict=True):
        own = {c.key for c in lay.row(row_key).columns}
        line: list[Any] = []
        for col_key, v in zip(col_keys, values, strict=True):
            if col_key not in own:
                line.append(None)
            elif v is None or pd.isna(v):
                raw = (pt.raw.get((row_key, col_key)) or "").strip()
                line.append(raw if raw else "（空）")
            else:
                v = v.item() if hasattr(v, "item") else v
                line.append(int(v) if isinstance(v, float) and v.is_integer() else v)
        data.append(line)
    index = pd.MultiIndex.from_tuples([(k, _with_group(lay.row(k), label)) for k, label in df.index])
    out = pd.DataFrame(data, index=index, columns=df.columns, dtype=object)
    # The level names ("key", "label") would show as an extra header row.
    out.index.names = [None] * out.index.nlevels
    out.columns.names = [None] * out.columns.nlevels
    return out


# Short class names and no id on a cell without a style of its own: pandas' defaults
# ("data row12 col5", an id per cell) were two thirds of a table's HTML, in every sheet.
_CLASSES = {"row_heading": "rh", "col_heading": "ch", "index_name": "in", "col": "c", "row": "r", "col_trim": "ct",
            "row_trim": "rt", "level": "l", "data": "d", "blank": "b", "foot": "f"}


_BETWEEN_TAGS = re.compile(r">\s+<")


class _CompactStyler(Styler):
    """A Styler whose HTML has no indentation between tags (a tenth of a sheet, shown nowhere)."""

    def to_html(self, *args: Any, **kwargs: Any) -> Any:
        out = super().to_html(*args, **kwargs)
        return _BETWEEN_TAGS.sub("><", out) if isinstance(out, str) else out


def _styler(df: pd.DataFrame) -> Any:
    return _CompactStyler(df)


def _compact(st: Any) -> Any:
    st.cell_ids = False
    return st


def styled_table(report: Report, table: str, findings: pd.DataFrame | None = None, uuid: str | None = None) -> Any:
    """A pandas Styler of the report's table, cells behind findings filled by severity."""
    disp = table_display(report, table)
    marks = _cell_findings(findings, report.source, table)
    lay = report.tables[table].layout
    keys_r = [k for k, _ in disp.index]
    keys_c = [k for k, _ in disp.columns]

    def paint(_: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=disp.index, columns=disp.columns)
        for i, rk in enumerate(keys_r):
            own = {c.key for c in lay.row(rk).columns}
            for j, ck in enumerate(keys_c):
                if ck not in own:
                    css.iat[i, j] = _NA_CSS
                    continue
                sev = marks.get((rk, ck)) or marks.get((rk, None)) or marks.get((None, ck)) or marks.get((None, None))
                if sev:
                    css.iat[i, j] = f"background-color: {SEVERITY_CSS.get(sev, SEVERITY_CSS['warning'])}; font-weight: bold"
        return css

    title = f"{report.meta.agency or ''} {report.meta.year or ''}年度 {lay.title}"
    st = (
        _styler(disp).format(escape="html", na_rep="")
        .format_index(escape="html", axis=0)
        .format_index(escape="html", axis=1)
        .hide(axis=0, level=0)
        .hide(axis=1, level=0)
        .apply(paint, axis=None)
        .set_caption(html.escape(title))
        .set_table_styles(
            [
                {"selector": "td", "props": _CELL_CSS},
                {"selector": "th", "props": _LABEL_CSS},
                {"selector": "caption", "props": "caption-side: top; font-weight: bold; text-align: left"},
                {"selector": "", "props": "border-collapse: collapse"},
            ],
            css_class_names=_CLASSES,
        )
    )
    st = _compact(st)
    if uuid:
        st = st.set_uuid(uuid)
    return st


def reports_frame(reports: Iterable[Report]) -> pd.DataFrame:
    """One row per report: what was read of its metadata."""
    rows = []
    for r in reports:
        m = r.meta
        rows.append(
            {
                "年度": m.year,
                "来源文件": r.source,
                "格式": f"{r.format}版" if r.format else "未识别",
                "标题": m.title,
                "落款日期": m.signed_on.isoformat() if m.signed_on else None,
                "发布日期": m.published_on.isoformat() if m.published_on else None,
                "章节": "".join(r.sections) or "无",
                "解析提示": len(r.warnings),
            }
        )
    return pd.DataFrame(rows)


def findings_view(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings with their review columns, in Chinese, for display."""
    cols = {
        k: FIELD_ZH[k]
        for k in ("year", "severity", "rule", "location", "place", "message", "expected", "actual", "evidence",
                  "review_status", "review_note", "reviewer", "reviewed_at")
    }
    df = findings.copy()
    df["place"] = [place_text(r) for r in df.to_dict("records")]
    for c in cols:
        if c not in df.columns:
            df[c] = "open" if c == "review_status" else None
    out = df[list(cols)].rename(columns=cols).astype(object)
    for c in ("预期", "实际"):
        out[c] = out[c].map(_number_text)
    out["严重程度"] = df["severity"].astype(str).map(severity_zh).to_numpy()
    out["审核状态"] = df["review_status"].astype(str).map(status_zh).to_numpy()
    out["审核时间"] = df["reviewed_at"].map(lambda t: beijing_text(t) if isinstance(t, str) else t).to_numpy()
    if "id" in df.columns:
        ids = df["id"].astype(str)
        # Two copies of one report share their findings' ids (same content, same finding);
        # each copy keeps its rows, told apart as 编号·2, ·3 …
        nth = ids.groupby(ids).cumcount()
        out.index = [i if n == 0 else f"{i}·{n + 1}" for i, n in zip(ids, nth, strict=True)]
    out.index.name = "编号"
    return out


def place_text(f: Mapping[str, Any]) -> str:
    """Where a finding stands in the original file: PDF 第6页 (boxed in the stepper) or 第120–158字."""
    page, span = f.get("page"), f.get("span")
    if page is not None and not pd.isna(page):
        return f"PDF 第{int(page)}页" + ("（已框出）" if isinstance(f.get("bbox"), list | tuple) else "")
    if isinstance(span, list | tuple) and len(span) == 2:
        return f"第{int(span[0])}–{int(span[1])}字"
    return ""


def _number_text(v: Any) -> str | None:
    n = number(v) if not isinstance(v, str) else None
    if n is None:
        return None if not isinstance(v, str) else v
    return str(int(n)) if n.is_integer() else f"{n:g}"


def styled_findings(findings: pd.DataFrame) -> Any:
    view = findings_view(findings)
    sev_color = {SEVERITY_ZH[k]: v for k, v in SEVERITY_CSS.items()}
    # "open" stays unpainted: only a decision is worth a colour in the sheet.
    status_color = {s.zh: s.fill for k, s in STATUS.items() if k != "open"}

    def paint(df: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=df.index, columns=df.columns)
        for i in range(len(df)):
            s = df.iat[i, df.columns.get_loc("严重程度")]
            css.iat[i, df.columns.get_loc("严重程度")] = f"background-color: {sev_color.get(s, '')}"
            st = df.iat[i, df.columns.get_loc("审核状态")]
            if st in status_color:
                css.iat[i, df.columns.get_loc("审核状态")] = f"background-color: {status_color[st]}"
        return css

    styler = (
        _styler(view).format(escape="html", na_rep="")
        .format_index(escape="html", axis=0)
        .apply(paint, axis=None)
        .set_table_styles(
            [
                {
                    "selector": "td",
                    "props": "white-space: pre-wrap; vertical-align: top; text-align: left; "
                    "border: 1px solid #D9D9D9; padding: 2px 6px; max-width: 32em",
                },
                {"selector": "th", "props": "text-align: left; border: 1px solid #D9D9D9; padding: 2px 6px"},
                {"selector": "", "props": "border-collapse: collapse"},
            ],
            css_class_names=_CLASSES,
        )
    )
    return _compact(styler)


def ocr_cell_images(report: Report, cells: Iterable[tuple[str, str, str]] | None = None) -> str:
    """The cells OCR read and the table's arithmetic did not confirm, each as the picture read.

    ``cells`` (table, row, column) picks some; by default every unconfirmed cell of the
    report. Empty when there is none to show (a report read from text).
    """
    import base64

    wanted = None if cells is None else set(cells)
    items = []
    for check in getattr(report, "ocr_checks", ()):
        if not check.crop or (wanted is not None and (check.table, check.row, check.column) not in wanted):
            continue
        src = "data:image/png;base64," + base64.b64encode(check.crop).decode("ascii")
        label = report.tables[check.table].labels.get(check.row) or check.row
        items.append(
            "<figure style='display: inline-block; margin: 2px 10px 2px 0; text-align: center'>"
            f"<img src='{src}' alt='{esc(check.read)}' style='height: 32px; border: 1px solid #999'>"
            f"<figcaption style='font-size: 12px'>{esc(TABLES[check.table])} {esc(label)}：识别为“{esc(check.read)}”"
            f"（{check.confidence:.2f}）</figcaption></figure>"
        )
    if not items:
        return ""
    return "<div class='auditlib-ocr-cells'><h5 style='margin: 8px 0 2px'>扫描所见</h5>" + "".join(items) + "</div>"


# ================================================================= evidence at the source
def evidence_html(
    findings: pd.DataFrame, reports: Iterable[Report], pages: Sequence[Any] = (), context: int = 120
) -> str:
    """Where each finding stands in the original: the PDF pages' pictures (written beside the
    sheet by :func:`auditlib.pageimage.write_evidence`, shown by relative path, numbered as
    their boxes are), and for a text report the stretch of its text with the span marked."""
    from auditlib.locate import report_text

    by_source = {r.source: r for r in reports}
    ids = [str(i) for i in findings["id"]] if "id" in findings.columns else []
    label = {fid: f"{r.get('rule')} · {r.get('location') or ''}" for fid, r in zip(ids, findings.to_dict("records"), strict=True)}
    parts: list[str] = []
    pictured: set[str] = set()
    for p in pages:
        names = "；".join(f"{n}：{esc(fid)} {esc(label.get(fid, ''))}" for n, fid in p.numbers)
        pictured.update(fid for _, fid in p.numbers)
        parts.append(
            "<figure class='auditlib-evidence' style='margin: 8px 0'>"
            f"<img src='{esc(p.path)}' alt='原件第{p.page}页' loading='lazy' style='max-width: 100%; border: 1px solid #CCC'>"
            f"<figcaption style='font-size: 12px; color: #555'>{esc(p.source)} 原件第 {p.page} 页，红框编号 — {names}</figcaption>"
            "</figure>"
        )
    texts: dict[str, str] = {}
    for fid, f in zip(ids, findings.to_dict("records"), strict=True):
        span = f.get("span")
        report = by_source.get(str(f.get("source")))
        if fid in pictured or report is None or not isinstance(span, list | tuple) or len(span) != 2:
            continue
        if isinstance(f.get("page"), int | float) and not pd.isna(f.get("page")):
            continue  # a PDF finding: its picture is the evidence, or `auditlib show` draws it
        text = texts.setdefault(report.source, report_text(report))
        s, e = int(span[0]), int(span[1])
        if not 0 <= s < e <= len(text):
            continue
        # Some context either side, cut at a line break when one is near.
        start, end = max(0, s - context), min(len(text), e + context)
        nl = text.find("\n", start, s)
        start = nl + 1 if nl != -1 else start
        nl = text.rfind("\n", e, end)
        end = nl if nl != -1 else end
        body = highlight(text[start:end], spans=[(s - start, e - start)])
        parts.append(
            f"<div class='auditlib-span' style='margin: 8px 0'><div style='font-size: 12px; color: #555'>{esc(fid)} "
            f"{esc(label.get(fid, ''))}（第{s}–{e}字）</div><blockquote style='white-space: pre-wrap; margin: 0 0 0 8px'>"
            f"{'…' if start else ''}{body}{'…' if end < len(text) else ''}</blockquote></div>"
        )
    return "".join(parts)
