"""The audit sheet's charts: an agency's 表三 outcomes, its figures year by year, and where
its reports stand among every report audited.

Figures are drawn with plotly. Their script is not embedded in each sheet: the
runner writes ``plotly.min.js`` once into the outputs folder (:func:`write_plotlyjs`)
and every page refers to it relatively, so the sheets still open offline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from auditlib.agencies import agency_key, resolve
from auditlib.layouts import OUTCOMES
from auditlib.report import Report
from auditlib.view import number

if TYPE_CHECKING:
    from auditlib.corpus import Unreadable

PLOTLY_JS = "plotly.min.js"
MARK = "#C00000"
REST = "#9DC3E6"


def _reports(items: Iterable[Report | Unreadable]) -> list[Report]:
    return [r for r in items if isinstance(r, Report)]


# ================================================================= frames
def outcome_frame(reports: Iterable[Report]) -> pd.DataFrame:
    """表三 results (总计 column) grouped as 予以公开 … 其他处理: year, source, group, count."""
    rows = []
    for r in reports:
        pt = r.tables["table3"]
        sums: dict[str, float] = dict.fromkeys(OUTCOMES, 0.0)
        for row in pt.layout.rows:
            g = row.outcome
            v = number(pt.get(row.key, "total"))
            if g and v is not None:
                sums[g] += v
        for g, v in sums.items():
            rows.append({"year": r.meta.year, "source": r.source, "group": g, "count": v})
    return pd.DataFrame(rows, columns=["year", "source", "group", "count"])


YEARLY_FIGURES = {
    ("table3", "new_received", "total"): "本年新收申请",
    ("table3", "carried_over", "total"): "上年结转",
    ("table3", "total_handled", "total"): "办理总计",
    ("table3", "carried_forward", "total"): "结转下年度",
    ("table4", "review", "total"): "行政复议",
    ("table4", "litigation_direct", "total"): "行政诉讼（直接起诉）",
    ("table4", "litigation_after_review", "total"): "行政诉讼（复议后起诉）",
}


def yearly_frame(reports: Iterable[Report]) -> pd.DataFrame:
    rows = []
    for r in reports:
        for (t, rk, ck), name in YEARLY_FIGURES.items():
            rows.append({"year": r.meta.year, "figure": name, "value": number(r.value(t, rk, ck))})
    return pd.DataFrame(rows, columns=["year", "figure", "value"])


def corpus_frame(items: Iterable[Report | Unreadable], agencies: dict[str, str] | None = None) -> pd.DataFrame:
    """Per report of the corpus: requests received and the share not granted (``agencies``: the run's names)."""
    reports = _reports(items)
    canon = agencies if agencies is not None else resolve(r.meta.agency for r in reports)
    rows = []
    for r in reports:
        received = number(r.value("table3", "new_received", "total"))
        handled = number(r.value("table3", "total_handled", "total"))
        granted = sum(
            v for v in (number(r.value("table3", k, "total")) for k in ("granted", "partially_granted")) if v is not None
        )
        share = 1 - granted / handled if handled else None
        rows.append(
            {
                "agency": r.meta.agency,
                "key": canon.get(r.meta.agency or "", ""),
                "year": r.meta.year,
                "received": received,
                "handled": handled,
                "share_not_granted": share,
            }
        )
    return pd.DataFrame(rows, columns=["agency", "key", "year", "received", "handled", "share_not_granted"])


def _plain(s: Any) -> str:
    """Labels for plotly, which renders some HTML tags in text: keep them inert."""
    return str(s).replace("<", "‹").replace(">", "›") if s is not None else ""


# ================================================================= figures
def outcome_chart(reports: Sequence[Report]) -> Any:
    import plotly.express as px

    df = outcome_frame(reports)
    df["年度"] = df["year"].map(lambda y: f"{y}年度" if y else "未知年度")
    fig = px.bar(
        df,
        x="年度",
        y="count",
        color="group",
        category_orders={"group": list(OUTCOMES)},
        labels={"count": "件数", "group": "办理结果"},
        title="依申请公开办理结果构成（表三 总计列）",
        text_auto=True,
    )
    fig.update_layout(barmode="stack", height=420, legend_title_text="办理结果")
    return fig


def yearly_chart(reports: Sequence[Report]) -> Any:
    import plotly.express as px

    df = yearly_frame(reports).dropna(subset=["value"])
    df["年度"] = df["year"].map(lambda y: f"{y}")
    fig = px.line(
        df,
        x="年度",
        y="value",
        color="figure",
        markers=True,
        labels={"value": "件数", "figure": "指标"},
        title="逐年对比",
    )
    fig.update_layout(height=420, xaxis_type="category")
    return fig


PEER_MEASURES = {
    "received": ("本年新收申请（件）", ",.0f"),
    "share_not_granted": ("未予公开比例（办理总计中非予以公开、部分公开）", ".0%"),
}


def distribution(values: pd.Series, bins: int = 30) -> tuple[list[float], list[int]]:
    """Bin edges and counts of the non-null ``values``: what the chart draws, whatever the corpus size."""
    import numpy as np

    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if not len(v):
        return [], []
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    return [float(e) for e in edges], [int(c) for c in counts]


def peer_chart(
    peers: pd.DataFrame | Iterable[Report | Unreadable], agency: str, key: str | None = None, bins: int = 30
) -> Any:
    """Every audited report as a distribution, the agency's own reports marked in red.

    ``peers`` is :func:`corpus_frame` (or the reports); ``key`` the agency's
    canonical name when the run knows it already. A bar per report was
    unreadable at a province's 10,000 reports and grew every sheet with the
    corpus; a histogram stays the same size, and each of the agency's reports
    is a line with its year and the share of reports below it.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    df = peers.copy() if isinstance(peers, pd.DataFrame) else corpus_frame(peers)
    if key is None:
        names = [a for a in df["agency"] if isinstance(a, str) and a]
        key = resolve([*names, agency]).get(agency, agency_key(agency))
    mine = df[df["key"] == key].sort_values("year", na_position="last")
    fig = make_subplots(rows=1, cols=2, subplot_titles=[title for title, _ in PEER_MEASURES.values()])
    for col, (measure, (title, fmt)) in enumerate(PEER_MEASURES.items(), start=1):
        edges, counts = distribution(df[measure], bins)
        if not counts:
            continue
        values = pd.to_numeric(df[measure], errors="coerce").dropna()
        spans = list(pairwise(edges))
        mids = [(a + b) / 2 for a, b in spans]
        fig.add_trace(
            go.Bar(
                x=mids,
                y=counts,
                width=[b - a for a, b in spans],
                marker_color=REST,
                name=title,
                customdata=[list(s) for s in spans],
                hovertemplate=f"%{{customdata[0]:{fmt}}} – %{{customdata[1]:{fmt}}}：%{{y}} 份报告<extra></extra>",
            ),
            row=1,
            col=col,
        )
        for year, v in zip(mine["year"], pd.to_numeric(mine[measure], errors="coerce"), strict=True):
            if pd.isna(v):
                continue
            below = float((values < v).mean())
            label = f"{int(year)}年" if number(year) is not None else "年度不明"
            fig.add_vline(
                x=float(v),
                line_color=MARK,
                line_width=2,
                annotation_text=f"{label}（高于 {below:.0%}）",
                annotation_font_color=MARK,
                row=1,
                col=col,
            )
        fig.update_xaxes(tickformat=fmt, row=1, col=col)
        fig.update_yaxes(title_text="报告份数", row=1, col=col)
    fig.update_layout(
        height=460,
        showlegend=False,
        bargap=0.05,
        title=f"与其他机关比较：全部 {len(df)} 份报告的分布（红线为{_plain(agency)}）",
    )
    return fig


# ================================================================= rendering
PLOTLY_MIME = "application/vnd.plotly.v1+json"
# The parts of plotly's default look these charts use. The whole template (7 KB of
# defaults for every kind of trace) would otherwise travel inside every figure.
_TEMPLATE_LAYOUT = ("colorway", "font", "paper_bgcolor", "plot_bgcolor", "xaxis", "yaxis", "hoverlabel", "hovermode",
                    "title", "annotationdefaults", "shapedefaults")


def figure_html(fig_json: dict) -> str:
    """A figure's ``<div>`` and the script that draws it; plotly.js itself comes from the page."""
    from plotly.io import to_html

    return to_html(
        fig_json,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        default_width="100%",
        default_height=525,
        validate=False,
    )


def setup_plotly() -> str:
    """Make figures show in JupyterLab and, once exported, in the static HTML, with no internet.

    A figure is kept once, as the plotly mime type that JupyterLab draws itself
    (an executed notebook is untrusted there, so scripts in it would not run
    anyway); the page's ``<div>`` is made from it at export (:func:`figure_html`).
    Plotly's ``notebook`` renderer instead embedded plotly.js (4.6 MB) in every
    notebook and the figure twice, and pulled MathJax from a CDN, which stalls
    an offline page.
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    name = "auditlib"
    if name not in pio.renderers:
        from plotly.io._base_renderers import MimetypeRenderer

        class OfflineRenderer(MimetypeRenderer):  # type: ignore[misc]
            def to_mimebundle(self, fig_dict: dict) -> dict:
                from plotly.io import to_json

                # Through plotly's own JSON encoder: figures may hold numpy arrays.
                data = json.loads(to_json({k: fig_dict.get(k) for k in ("data", "layout")}, validate=False))
                title = (data.get("layout", {}).get("title") or {}).get("text") or ""
                return {PLOTLY_MIME: data, "text/plain": f"图表：{title}"}

        pio.renderers[name] = OfflineRenderer()
        layout = pio.templates["plotly"].layout.to_plotly_json()
        pio.templates[name] = go.layout.Template(layout={k: layout[k] for k in _TEMPLATE_LAYOUT if k in layout})
    pio.renderers.default = name
    pio.templates.default = name
    return name


def write_plotlyjs(out_dir: str | os.PathLike[str]) -> Path:
    """``out_dir/plotly.min.js``, the one copy every sheet of the folder loads (rewritten only if it differs)."""
    from plotly.offline import get_plotlyjs

    from auditlib.files import write_text_atomic

    path = Path(out_dir) / PLOTLY_JS
    js = get_plotlyjs()
    if not path.is_file() or path.stat().st_size != len(js.encode("utf-8")) or path.read_text("utf-8") != js:
        write_text_atomic(path, js)
    return path
