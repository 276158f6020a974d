"""The supervisors' dashboard: data preparation, HTML and the Voilà launcher.

Everything here is a pure function returning DataFrames or HTML strings, so
that it can be tested without a browser; the charts are :mod:`auditlib.figures`'
and the notebook ``notebooks/dashboard.ipynb`` only wires them to widgets.

Report text (agency names, labels, evidence) is untrusted: every HTML string
built here passes it through :func:`html.escape`, and Plotly renders text
from data as text, not markup.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jupyter_core.paths import jupyter_config_path

from auditlib.report import Report
from auditlib.serving import CULL_IDLE, CULL_INTERVAL, DEFAULT_PORT, MAX_KERNELS  # noqa: F401  (re-exported)
from auditlib.summary import (  # noqa: F401  (re-exported: the dashboard's data vocabulary)
    OUTCOMES,
    agency_label,
    agency_outcomes,
    canonical_agencies,
    outcome_mix,
    prepare,
    region_of,
    report_frame,
    reports_only,
)
from auditlib.view import esc as _esc
from auditlib.vocab import (
    REVIEW_STATUSES,
    SERIOUS,
    SEVERITIES,
    SEVERITY,
    SEVERITY_ZH,
    STATUS,
    STATUS_ZH,
    severity_zh,
    status_zh,
)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "dashboard.ipynb"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
GUARD = "auditlib.voila_guard.WidgetOnlyConnection"
KERNELS = "auditlib.voila_kernels.BoundedKernelManager"
REFILL_DELAY = 10.0
# Our Voilà template (auditlib/jupyter_data/voila/templates/auditlib): offline, and laid out for print.
TEMPLATE_DATA = Path(__file__).resolve().parent / "jupyter_data"
TEMPLATE_NAME = "auditlib"
# What the server's /voila/files/ may serve (see files_allowed): sheets and source documents, no more.
SHEET_FILES = r"[^/]+/(audit_sheet\.html|findings\.xlsx|evidence/p[0-9]+-[0-9a-f]+\.png)|index\.html|plotly\.min\.js|audit_sheet\.css"
REPORT_FILES = r".*\.(txt|pdf|docx|html|htm)"
FILES_DENIED = [r".*\.(ipynb|py|db|pkl|json)", r"(^|.*/)\..*"]
# JupyterLab extensions the page does not need (Voilà loads every installed one).
UNUSED_EXTENSIONS = ("jupyterlab-plotly",)


def esc(value: Any) -> str:
    """HTML-escaped text; a missing label shows as a dash, as everywhere in the dashboard."""
    return _esc(value, blank="—")


def now() -> str:
    """Local time, to the second, as the dashboard prints it."""
    return time.strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------ overview
@dataclass
class Overview:
    n_reports: int
    n_unreadable: int
    n_clean: int
    share_clean: float
    n_findings: int
    by_severity: pd.DataFrame  # severity, 级别, count
    by_rule: pd.DataFrame  # rule, severity, count

    def as_dict(self) -> dict[str, Any]:
        return {
            "n_reports": self.n_reports,
            "n_unreadable": self.n_unreadable,
            "n_clean": self.n_clean,
            "share_clean": self.share_clean,
            "n_findings": self.n_findings,
        }


def overview(findings_df: pd.DataFrame, reports_df: pd.DataFrame) -> Overview:
    """Counts for the top of the dashboard; ``reports_df`` is :func:`report_frame`'s (source, readable).

    A report is *clean* when it has no finding of severity error or warning
    (info findings do not count against it). Unreadable files are reports
    audited and never clean.
    """
    sources = reports_df["source"]
    unreadable = ~reports_df["readable"].astype(bool)
    serious = findings_df[findings_df["severity"].astype(str).isin(SERIOUS)]
    # isin on the unique values, not on set(series): iterating a pandas string array one
    # element at a time costs ~0.1 s for 55,000 findings (10,000 reports), on every filter.
    flagged = sources.isin(serious["source"].unique()) | unreadable
    n = len(sources)
    n_clean = int((~flagged).sum())
    sev = findings_df["severity"].astype(str).value_counts()
    by_severity = pd.DataFrame(
        {"severity": list(SEVERITIES), "级别": [SEVERITY_ZH[s] for s in SEVERITIES]}
    )
    by_severity["count"] = [int(sev.get(s, 0)) for s in SEVERITIES]
    if len(findings_df):
        by_rule = (
            findings_df.assign(severity=findings_df["severity"].astype(str))
            .groupby(["rule", "severity"], observed=True)
            .size()
            .rename("count")
            .reset_index()
            .sort_values(["count", "rule"], ascending=[False, True], ignore_index=True)
        )
    else:
        by_rule = pd.DataFrame({"rule": [], "severity": [], "count": []})
    return Overview(
        n_reports=n,
        n_unreadable=int(unreadable.sum()),
        n_clean=n_clean,
        share_clean=(n_clean / n) if n else 0.0,
        n_findings=len(findings_df),
        by_severity=by_severity,
        by_rule=by_rule,
    )


def heatmap_frame(findings_df: pd.DataFrame, agencies: Iterable[str] | None = None) -> pd.DataFrame:
    """Agencies (rows) × rules (columns): the number of findings. Agencies without findings get zeros."""
    if len(findings_df):
        # groupby + unstack, not pd.crosstab: that aggregates group by group in Python (0.15 s at 10,000 reports).
        pairs = pd.DataFrame({"agency": findings_df["agency"].astype(str), "rule": findings_df["rule"].astype(str)})
        counts = pairs.groupby(["agency", "rule"]).size().unstack(fill_value=0)
    else:
        counts = pd.DataFrame(dtype="int64")
    if agencies is not None:
        rows = list(dict.fromkeys([*agencies, *counts.index]))
        counts = counts.reindex(rows, fill_value=0)
    counts = counts.fillna(0).astype("int64")
    counts.index.name = "agency"
    counts.columns.name = "rule"
    return counts.sort_index().reindex(sorted(counts.columns), axis=1)


# Past this many rows the agencies × rules table shows the agencies with the most findings.
MAX_HEATMAP_ROWS = 40


def top_rows(hm: pd.DataFrame, limit: int = MAX_HEATMAP_ROWS) -> pd.DataFrame:
    """The agencies with the most findings, when there are too many to show."""
    if len(hm) <= limit:
        return hm
    order = hm.sum(axis=1).sort_values(ascending=False, kind="stable")
    return hm.loc[order.index[:limit]]


def review_progress(status_df: pd.DataFrame | None) -> pd.DataFrame | None:
    """review_status counts (open/confirmed/dismissed/resolved), or None when there are no decisions."""
    if status_df is None or "review_status" not in status_df:
        return None
    counts = status_df["review_status"].value_counts()
    return pd.DataFrame(
        {
            "status": list(REVIEW_STATUSES),
            "状态": [STATUS[s].zh for s in REVIEW_STATUSES],
            "count": [int(counts.get(s, 0)) for s in REVIEW_STATUSES],
        }
    )


def review_status(findings_df: pd.DataFrame, db: str | os.PathLike | None) -> tuple[pd.DataFrame, bool]:
    """``findings_df`` with review_status; the flag says whether any decision exists.

    Tolerates a missing database and an unusable one: then every finding is
    ``open`` and the flag is False; an unusable one also leaves its reason in
    ``attrs["review_error"]``, for the page to say so rather than show all as open.
    """
    out = findings_df.copy()
    out["review_status"] = "open"
    out["review_note"] = ""
    if not db or not Path(db).is_file():
        return out, False
    try:
        from auditlib.review import ReviewStore

        store = ReviewStore(db)
        has = len(store.decisions()) > 0
        return store.status_frame(findings_df), has
    except Exception as exc:  # a corrupt or foreign file, a locked database: the dashboard still shows
        out.attrs["review_error"] = (
            f"审核数据库无法读取，以下发现均按“未审核”显示：{exc} "
            f"(the review database {Path(db).name} cannot be read; every finding is shown as open)"
        )
        return out, False


# ------------------------------------------------------------------ filters
def filter_frame(
    df: pd.DataFrame,
    years: Iterable[int] | None = None,
    regions: Iterable[str] | None = None,
    severities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Rows matching every non-empty filter (empty/None = no filter)."""
    mask = pd.Series(True, index=df.index)
    years = [int(y) for y in years or []]
    regions = list(regions or [])
    severities = list(severities or [])
    if years and "year" in df:
        mask &= df["year"].isin(years).fillna(False).astype(bool)
    if regions and "region" in df:
        mask &= df["region"].isin(regions)
    if severities and "severity" in df:
        mask &= df["severity"].astype(str).isin(severities)
    return df[mask]


# ------------------------------------------------------------------ HTML
# The errors and warnings of a table in their chart colours (auditlib.vocab).
_SEVERITY_CSS = "".join(f".adash-sev-{s}{{color:{SEVERITY[s].colour};font-weight:600}}" for s in SERIOUS)
TABLE_CSS = """
<style>
.adash-table{border-collapse:collapse;font-size:12px;margin:4px 0 12px 0}
.adash-table th,.adash-table td{border:1px solid #ccc;padding:2px 6px}
.adash-table th{background:#f3f3f3;font-weight:600;text-align:left}
.adash-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.adash-table td.na{color:#999;text-align:center}
.adash-table td.flag{background:#ffd9d9;outline:2px solid #d62728}
""" + _SEVERITY_CSS + """
.adash-ev{font-family:monospace;white-space:pre-wrap;background:#fafafa;border-left:3px solid #ccc;padding:2px 6px}
.adash-kpi{display:inline-block;margin:0 18px 8px 0;padding:8px 14px;border:1px solid #ddd;border-radius:6px}
.adash-kpi b{font-size:22px;display:block}
.adash-muted{color:#777;font-size:11px}.adash-formula{font-size:12px;color:#333;background:#f7f7f7;padding:4px 8px}
.adash-rank td{white-space:nowrap}.adash-download{font-weight:600}
.adash-heat h4{font-size:17px;font-weight:normal;margin:10px 0 0 8px}.adash-heat p{margin:2px 0 4px 8px}
.adash-heat table{border-collapse:collapse;font-size:12px;margin:0 8px 12px 8px}
.adash-heat th,.adash-heat td{border:1px solid #fff;padding:2px 6px}
.adash-heat tbody th{text-align:right;font-weight:normal;white-space:nowrap}
.adash-heat tbody th a{color:inherit;text-decoration:none}
.adash-heat td{min-width:30px;text-align:center;font-variant-numeric:tabular-nums;background:#f7f7f7}
.adash-heat thead th{vertical-align:bottom;font-weight:normal}
.adash-heat thead th span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
</style>
"""


def _fmt(v: Any) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return esc(v)


# ColorBrewer's Reds (plotly's "Reds"): the heat table's shades, light to dark.
REDS = ((255, 245, 240), (254, 224, 210), (252, 187, 161), (252, 146, 114), (251, 106, 74),
        (239, 59, 44), (203, 24, 29), (165, 15, 21), (103, 0, 13))


def heat_colour(share: float) -> str:
    """The shade of :data:`REDS` at ``share`` (0 to 1) of the way from lightest to darkest."""
    x = min(max(share, 0.0), 1.0) * (len(REDS) - 1)
    i = min(int(x), len(REDS) - 2)
    f = x - i
    return "#" + "".join(f"{round(a + (b - a) * f):02x}" for a, b in zip(REDS[i], REDS[i + 1], strict=True))


def heatmap_html(hm: pd.DataFrame, link: Callable[[str], str] | None = None) -> str:
    """Agencies × rules (:func:`heatmap_frame`) as a table of counts shaded by size, as in a spreadsheet.

    A table, not a chart: 40 agencies × 15 rules are 600 numbers, which plotly drew as
    600 SVG labels, the slowest part of the page's first render and of every filter; a
    table is laid out in a few milliseconds, prints as text and is copied as text. A
    blank cell: no finding. ``link(agency)``: where an agency's name leads (its drill-down).
    """
    title = "机关 × 规则 (agencies × rules)"
    if len(hm) > MAX_HEATMAP_ROWS:
        title += f" — 发现最多的{MAX_HEATMAP_ROWS}个机关（共{len(hm)}个）"
        hm = top_rows(hm)
    head = f'<div class="adash-heat"><h4>{esc(title)}</h4>'
    if hm.empty or not len(hm.columns):
        return head + "<p>无发现 (no findings)</p></div>"
    values = hm.to_numpy().tolist()
    top = max(max(row) for row in values) or 1
    rules = [esc(c) for c in hm.columns]
    out = [head, f'<p class="adash-muted">颜色越深，发现越多（最多 {top} 条）；空白：无发现 · darker = more findings, blank = none</p>',
           "<table><thead><tr><th></th>", *(f"<th><span>{r}</span></th>" for r in rules), "</tr></thead><tbody>"]
    for agency, row in zip(hm.index, values, strict=True):
        name = esc(agency)
        out.append(f'<tr><th><a href="{esc(link(agency))}">{name}</a></th>' if link else f"<tr><th>{name}</th>")
        for rule, v in zip(rules, row, strict=True):
            if v:
                share = v / top
                ink = ";color:#fff" if share > 0.45 else ""
                out.append(f'<td style="background:{heat_colour(share)}{ink}" title="{name} · {rule}：{v}">{v}</td>')
            else:
                out.append("<td></td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def table_html(frame: pd.DataFrame, flagged: Iterable[tuple[str, str]] = (), caption: str = "") -> str:
    """A report table (index/columns = (key, label)) as escaped HTML; flagged (row, column) cells highlighted."""
    flagged = set(flagged)

    def key_label(ix):
        return (ix[0], ix[1]) if isinstance(ix, tuple) else (ix, ix)

    out = [f'<table class="adash-table"><caption style="text-align:left;font-weight:600">{esc(caption)}</caption>']
    out.append("<tr><th></th>" + "".join(f"<th>{esc(key_label(c)[1])}</th>" for c in frame.columns) + "</tr>")
    for ix, row in frame.iterrows():
        rk, rl = key_label(ix)
        cells = []
        for c, v in zip(frame.columns, row, strict=True):
            ck = key_label(c)[0]
            cls = "na" if _fmt(v) == "" else "num"
            if (rk, ck) in flagged or (rk, None) in flagged:
                cls += " flag"
            cells.append(f'<td class="{cls}">{_fmt(v) or "—"}</td>')
        out.append(f"<tr><th>{esc(rl)}</th>{''.join(cells)}</tr>")
    out.append("</table>")
    return "".join(out)


# A report's findings listed in its drill-down at most; past that the page says how many
# more there are (the export has them all), so that one pathological report cannot swell the page.
MAX_FINDINGS_SHOWN = 200


def findings_html(df: pd.DataFrame, limit: int = MAX_FINDINGS_SHOWN) -> str:
    """Findings (with review_status when present) as an escaped HTML list, the first ``limit`` of them."""
    if df.empty:
        return "<p>未发现问题 (no findings)</p>"
    parts = ['<table class="adash-table"><tr><th>级别</th><th>规则</th><th>位置</th><th>说明</th>'
             "<th>预期/实际</th><th>原文证据</th><th>审核</th></tr>"]
    for _, f in df.head(limit).iterrows():
        sev = str(f.get("severity"))
        status = str(f.get("review_status", "open") or "open")
        note = f.get("review_note") or ""
        exp_act = ""
        if not pd.isna(f.get("expected")) or not pd.isna(f.get("actual")):
            exp_act = f"{_fmt(f.get('expected'))} / {_fmt(f.get('actual'))}"
        parts.append(
            "<tr>"
            f'<td class="adash-sev-{esc(sev)}">{esc(severity_zh(sev))}</td>'
            f"<td>{esc(f.get('rule'))}</td>"
            f"<td>{esc(f.get('location'))}</td>"
            f"<td>{esc(f.get('message'))}</td>"
            f"<td>{exp_act}</td>"
            f'<td><div class="adash-ev">{esc(f.get("evidence") or "")}</div></td>'
            f"<td>{esc(status_zh(status))}{('：' + esc(note)) if note else ''}</td>"
            "</tr>"
        )
    parts.append("</table>")
    if len(df) > limit:
        parts.append(f'<p class="adash-muted">共 {len(df)} 条，显示前 {limit} 条；导出可得全部 (showing {limit} of {len(df)}; export for all)</p>')
    return "".join(parts)


REPORT_TABLES = (("table2", "表二 主动公开"), ("table3", "表三 依申请公开"), ("table4", "表四 复议诉讼"))


def report_detail_html(agency: str, report: Report, findings_df: pd.DataFrame) -> str:
    """One report in the drill-down: heading, its findings, and its tables with the flagged cells marked.

    The tables sit in an open ``<details>`` (one fold per report, as the accordion was):
    plain HTML, so that switching agency sends one string and builds no widgets.
    """
    flagged: dict[str, set[tuple[str, str | None]]] = {}
    for table, row, column in zip(findings_df["table"], findings_df["row"], findings_df["column"], strict=True):
        if isinstance(table, str) and isinstance(row, str):
            flagged.setdefault(table, set()).add((row, column if isinstance(column, str) else None))
    tables = "".join(table_html(getattr(report, t), flagged.get(t, ()), caption=cap) for t, cap in REPORT_TABLES)
    return (
        f'<div class="adash-report"><h3>{esc(agency)} · {esc(report.meta.year or "?")}年度 · '
        f'{esc(report.format or "?")}版格式</h3>'
        f"<p>来源 (source)：<code>{esc(report.source)}</code></p>"
        f"<h4>发现 (findings)</h4>{findings_html(findings_df)}"
        f'<details open class="adash-tables"><summary>表二 / 表三 / 表四</summary>{tables}</details></div>'
    )


def unreadable_html(item: Any) -> str:
    """A file of the agency that could not be read (corpus.Unreadable), in the drill-down."""
    return f"<p>无法读取 (unreadable) <code>{esc(item.source)}</code>：{esc(item.message)}</p>"


def reviews_differ(old: pd.DataFrame, new: pd.DataFrame) -> bool:
    """Whether two review_status frames of the same findings show anything differently."""
    cols = [c for c in ("id", "review_status", "review_note") if c in old or c in new]
    if len(old) != len(new) or old.attrs.get("review_error") != new.attrs.get("review_error"):
        return True
    if not all(c in old and c in new for c in cols):
        return True
    return not all(old[c].reset_index(drop=True).equals(new[c].reset_index(drop=True)) for c in cols)


def kpi_html(ov: Overview, progress: pd.DataFrame | None, shown: Overview | None = None) -> str:
    """The cards at the top. ``shown``: the overview under the 级别 filter, whose findings the
    发现 card counts (as the charts do); reports and clean shares always count every severity."""

    def kpi(label: str, value: str) -> str:
        return f'<div class="adash-kpi"><b>{esc(value)}</b>{esc(label)}</div>'

    shown = shown or ov

    review = "尚无审核决定 (no decisions yet)"
    if progress is not None:
        review = " · ".join(f"{r['状态']} {r['count']}" for _, r in progress.iterrows())
    return (
        kpi("已审计报告 (reports audited)", str(ov.n_reports))
        + kpi("无错误/警告 (clean)", f"{ov.n_clean} · {ov.share_clean:.0%}")
        + kpi("发现 (findings)", str(shown.n_findings))
        + kpi("无法读取 (unreadable)", str(ov.n_unreadable))
        + f'<div class="adash-kpi"><b>审核进度</b>{esc(review)}</div>'
    )


def filters_text(years: Iterable[int], regions: Iterable[str], severities: Iterable[str]) -> str:
    """The filters in words, for the printed page and the export: 年度 2021 · 级别 错误."""
    parts = []
    if years := list(years):
        parts.append("年度 " + "、".join(str(y) for y in years))
    if regions := list(regions):
        parts.append("地区 " + "、".join(regions))
    if severities := list(severities):
        parts.append("级别 " + "、".join(str(severity_zh(s)) for s in severities))
    return " · ".join(parts) or "全部 (no filter)"


def print_head_html(filters: str, built_at: str, read_at: str) -> str:
    """The heading of the printed page (hidden on screen): what, which selection, as of when."""
    return (
        '<div class="adash-print-head"><h1>政府信息公开工作年度报告 审计总览</h1>'
        f"<p>筛选 (filters)：{esc(filters)} · 数据汇总于 {esc(built_at)} · 审核状态读取于 {esc(read_at)} · "
        f"打印于 (printed) {esc(now())}</p></div>"
    )


def sources_by_agency(reports_df: pd.DataFrame) -> dict[str, list[tuple[str, Any]]]:
    """agency → its readable files as (source, year), oldest first; built once per visit, read per ranking row."""
    readable = reports_df[reports_df["readable"].astype(bool)].sort_values(["year", "source"], na_position="first")
    out: dict[str, list[tuple[str, Any]]] = {}
    for agency, source, year in zip(readable["agency"], readable["source"], readable["year"], strict=True):
        out.setdefault(agency, []).append((source, year))
    return out


def agency_links(
    agency: str,
    sources: Sequence[tuple[str, Any]],
    sheet_dir: Path | None,
    root: str | os.PathLike,
    base: str = "/",
) -> list[tuple[str, str]]:
    """(label, href) for one agency: its sheet and Excel (when written), each source document, its drill-down.

    ``sources``: the agency's (source, year) pairs (:func:`sources_by_agency`). The
    files are reached through the server's ``voila/files/``, relative to its root
    (see :func:`files_root`), where only these are allowed.
    """
    from urllib.parse import quote

    root = Path(root).resolve()
    files = base.rstrip("/") + "/voila/files/"
    out: list[tuple[str, str]] = []
    if sheet_dir is not None:
        rel = quote(Path(sheet_dir).resolve().relative_to(root).as_posix())
        out += [("审计表", f"{files}{rel}/audit_sheet.html"), ("Excel", f"{files}{rel}/findings.xlsx")]
    for source, year in sources:
        try:
            rel = Path(source).resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        label = f"原文{'' if pd.isna(year) else int(year)}"
        out.append((label, f"{files}{quote(rel)}"))
    out.append(("明细", "?agency=" + quote(agency)))
    return out


def export_link(kind: str, current: dict[str, Any], reports_df: pd.DataFrame) -> tuple[str, str]:
    """(file name, data: URL) of what the filters select: findings (and, in Excel, the ranking)."""
    import base64

    from auditlib import ranking

    labels = {"severity": SEVERITY_ZH, "review_status": STATUS_ZH}
    fs = ranking.findings_export(current["findings"], reports_df, labels)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if kind == "csv":
        data, mime, name = ranking.to_csv_bytes(fs), "text/csv", f"审计发现-{stamp}.csv"
    elif kind == "xlsx":
        note = f"筛选 (filters)：{current['filters']}\n导出于 (exported) {now()}\n{ranking.SCORE_FORMULA}"
        sheets = {"发现": fs, "排名": ranking.ranking_export(current["ranking"])}
        data = ranking.to_excel_bytes(sheets, note)
        mime, name = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"审计发现-{stamp}.xlsx"
    else:
        raise ValueError(f"未知的导出格式 {kind!r} (unknown export format)")
    return name, f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# ------------------------------------------------------------------ server
def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host if host not in ("0.0.0.0", "localhost") else "127.0.0.1", 0))
        return s.getsockname()[1]


class DashboardError(Exception):
    """The dashboard cannot be served as asked; the message is Chinese with an English gloss."""


@dataclass
class Server:
    process: subprocess.Popen
    url: str  # with the token, when there is one
    host: str
    port: int
    token: str | None
    # Voilà's private configuration (the token): removed once Voilà has read it.
    config_dir: str | None = None
    # The Jupyter data folder serving plotly.min.js to the template (chart_widget.static_dir): removed at stop.
    data_dir: str | None = None

    def _forget_config(self) -> None:
        if self.config_dir:
            shutil.rmtree(self.config_dir, ignore_errors=True)
            self.config_dir = None

    def wait(self, timeout: float = 60.0) -> Server:
        """Block until the server accepts connections, or raise (probing a page would start a kernel)."""
        probe_host = "127.0.0.1" if self.host in ("0.0.0.0", "localhost") else self.host
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DashboardError(f"Voilà 已退出（exit {self.process.returncode}）(Voilà exited)")
            try:
                socket.create_connection((probe_host, self.port), timeout=1).close()
                self._forget_config()  # listening: the configuration has been read
                return self
            except OSError:
                time.sleep(0.25)
        raise DashboardError(f"Voilà 在 {timeout:.0f} 秒内未启动 (Voilà did not start in time)")

    def stop(self, timeout: float = 10.0) -> None:
        self._forget_config()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def files_root(reports: str | os.PathLike, sheets: str | os.PathLike, notebook: str | os.PathLike = NOTEBOOK) -> Path:
    """The folder Voilà serves from: the closest one holding the notebook, the reports and the sheets.

    Voilà's ``/voila/files/`` serves files under its root only (and tornado
    refuses symlinks out of it), so the root must hold all three; what may
    actually be fetched from it is narrowed to the sheets and the source
    documents by :func:`files_allowed`.
    """
    paths = [Path(p).resolve() for p in (reports, sheets, notebook)]
    return Path(os.path.commonpath([p if p.is_dir() else p.parent for p in paths]))


def files_allowed(root: Path, reports: str | os.PathLike, sheets: str | os.PathLike) -> list[str]:
    """Voilà's file allowlist: the sheets' pages and workbooks, and the report files, by their path under ``root``."""
    import re

    def under(p: Path) -> str:
        rel = p.relative_to(root).as_posix()
        return "" if rel == "." else re.escape(rel) + "/"

    rp, sp = Path(reports).resolve(), Path(sheets).resolve()
    report_files = re.escape(rp.relative_to(root).as_posix()) if rp.is_file() else under(rp) + REPORT_FILES
    return [under(sp) + f"({SHEET_FILES})", report_files]


def serve(
    reports: str | os.PathLike = REPO / "reports_in",
    db: str | os.PathLike = Path("outputs") / "audit.db",
    port: int | None = None,
    host: str = "127.0.0.1",
    token: str | None = None,
    open_browser: bool = False,
    expose: bool = False,
    notebook: str | os.PathLike = NOTEBOOK,
    quiet: bool = False,
    preheat: bool = True,
    sheets: str | os.PathLike | None = None,
    max_kernels: int = MAX_KERNELS,
    cull_idle: int = CULL_IDLE,
    cull_interval: int = CULL_INTERVAL,
    log: str | os.PathLike | None = None,
) -> Server:
    """Start Voilà on the dashboard notebook as a subprocess and return at once (see :meth:`Server.wait`).

    Only 127.0.0.1/localhost unless ``expose``; an exposed server always has a
    token (one is generated when none is given) and its URL carries it.
    ``sheets``: the folder ``auditlib sheets`` wrote (default: the database's folder).
    A kernel whose page has gone is shut down after ``cull_idle`` idle seconds
    (checked every ``cull_interval``); at most ``max_kernels`` run at once, and a
    visit over that waits for one to go (see :mod:`auditlib.voila_kernels`).
    ``log``: a file for Voilà's log (else it goes to this process's output, or nowhere when ``quiet``).
    """
    local = host in LOCAL_HOSTS
    if not local and not expose:
        raise DashboardError(
            f"拒绝在 {host} 上提供服务：仅限本机，除非指定 --expose (refusing to bind {host} without --expose)"
        )
    if not local and not token:
        token = secrets.token_urlsafe(24)
    if max_kernels < (2 if preheat else 1):
        raise DashboardError(f"内核上限太小：{max_kernels} (max_kernels too small for a visit)")
    port = port or free_port(host)
    reports_path = Path(reports).resolve()
    sheets_path = Path(sheets).resolve() if sheets else Path(db).resolve().parent
    nb = Path(notebook).resolve()
    root = files_root(reports_path, sheets_path, nb)
    env = dict(os.environ)
    env["AUDIT_REPORTS"] = str(reports_path)
    env["AUDIT_DB"] = str(Path(db).resolve())
    env["AUDIT_SHEETS"] = str(sheets_path)
    env["AUDIT_FILES_ROOT"] = str(root)
    # The kernel must import this checkout's auditlib whatever the install looks like.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    # Where Voilà finds our template (it looks in every Jupyter data folder), and the plotly.js
    # its charts load (chart_widget), served as one of the template's static files.
    from auditlib.chart_widget import static_dir

    data_dir = str(static_dir(TEMPLATE_NAME))
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(TEMPLATE_DATA), data_dir, env.get("JUPYTER_PATH", "")) if p)
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(nb),
        "--Voila.root_dir=" + str(root),
        "--port=" + str(port),
        "--Voila.ip=" + host,
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--Voila.port_retries=0",
        "--template=" + TEMPLATE_NAME,
        # Visitors' pages keep a kernel websocket for the widgets; it must not run code.
        "--Voila.kernel_websocket_connection_class=" + GUARD,
        # Kernels: culled when idle with no page attached, and bounded in number.
        "--VoilaConfiguration.multi_kernel_manager_class=" + KERNELS,
        f"--BoundedKernelManager.max_kernels={max_kernels}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
        "--MappingKernelManager.cull_connected=False",
        "--MappingKernelManager.cull_busy=False",
        *(f"--VoilaConfiguration.file_allowlist={p}" for p in files_allowed(root, reports_path, sheets_path)),
        *(f"--VoilaConfiguration.file_denylist={p}" for p in FILES_DENIED),
        # The charts are drawn by chart_widget, not by JupyterLab's plotly renderer: its 4.8 MB is not loaded.
        *(f"--VoilaConfiguration.extension_denylist={x}" for x in UNUSED_EXTENSIONS),
    ]
    if preheat:
        # One kernel kept ready, started and run up to the point where the notebook waits for
        # a visitor (see dashboard.ipynb): a visit then skips the kernel's start and imports.
        # The replacement starts REFILL_DELAY seconds after a visit, not while its page draws.
        cmd += ["--preheat_kernel=True", "--pool_size=1", f"--VoilaKernelManager.fill_delay={REFILL_DELAY}"]
    if not open_browser:
        cmd.append("--no-browser")
    config_dir = _private_config(token, local)
    cmd += [f"--Voila.config_file_paths={p}" for p in (config_dir, str(nb.parent), *jupyter_config_path())]
    try:
        if log is not None:
            with open(log, "ab") as out:
                proc = subprocess.Popen(cmd, cwd=str(nb.parent), env=env, stdout=out, stderr=subprocess.STDOUT)
        else:
            out = subprocess.DEVNULL if quiet else None
            proc = subprocess.Popen(cmd, cwd=str(nb.parent), env=env, stdout=out, stderr=out)
    except BaseException:
        shutil.rmtree(config_dir, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    shown = "127.0.0.1" if host == "0.0.0.0" else host
    if ":" in shown:
        shown = f"[{shown}]"
    url = f"http://{shown}:{port}/"
    if token:
        url += f"?token={token}"
    return Server(process=proc, url=url, host=host, port=port, token=token, config_dir=config_dir, data_dir=data_dir)


def _private_config(token: str | None, local: bool) -> str:
    """A folder only this user can read, holding Voilà's settings that must not be seen.

    The token goes here, not on the command line, where any local user reads it in
    /proc/<pid>/cmdline. A local server also checks the Host header (Voilà turns
    Jupyter's check off): a page on a DNS-rebound name must not reach its data.
    """
    import json
    import tempfile

    d = tempfile.mkdtemp(prefix="auditlib-voila-")  # 0700
    # An empty token means none (local use only); an exposed server always has one.
    voila: dict[str, Any] = {"token": token or ""}
    if local:
        voila["tornado_settings"] = {"allow_remote_access": False, "local_hostnames": ["localhost"]}
    fd = os.open(os.path.join(d, "voila.json"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"Voila": voila}, fh)
    return d
