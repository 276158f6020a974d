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
from dataclasses import dataclass
from functools import lru_cache
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
# Figures are built as plotly's JSON itself (what plotly.express and make_subplots would
# make of the same frames, property for property): building them through plotly's
# validated figure objects was a sixth of a sheet's time, for three small charts.
@dataclass
class Chart:
    """A plotly figure as its JSON: ``show()`` displays it as plotly's mime type, like ``Figure.show``."""

    data: list[dict[str, Any]]
    layout: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, "layout": {**self.layout, "template": template_json()}}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mime_bundle(self.to_dict())

    def show(self) -> None:
        from IPython.display import display

        display(self)


def _colors() -> list[str]:
    return list(template_json()["layout"]["colorway"])


def _axes(x_title: str, y_title: str) -> dict[str, Any]:
    return {
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "title": {"text": x_title}},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0], "title": {"text": y_title}},
    }


def outcome_chart(reports: Sequence[Report]) -> Chart:
    """表三's outcomes stacked per year: a bar trace per group, as ``px.bar(color="group", text_auto=True)``."""
    df = outcome_frame(reports)
    years = [f"{y}年度" if y else "未知年度" for y in df["year"]]
    colors = _colors()
    data = []
    for i, group in enumerate(g for g in OUTCOMES if (df["group"] == g).any()):
        sel = (df["group"] == group).to_numpy()
        data.append(
            {
                "hovertemplate": f"办理结果={group}<br>年度=%{{x}}<br>件数=%{{y}}<extra></extra>",
                "legendgroup": group,
                "marker": {"color": colors[i % len(colors)], "pattern": {"shape": ""}},
                "name": group,
                "orientation": "v",
                "showlegend": True,
                "textposition": "auto",
                "texttemplate": "%{y}",
                "x": [y for y, keep in zip(years, sel, strict=True) if keep],
                "xaxis": "x",
                "y": [float(v) for v in df["count"][sel]],
                "yaxis": "y",
                "type": "bar",
            }
        )
    layout = {
        **_axes("年度", "件数"),
        "legend": {"title": {"text": "办理结果"}, "tracegroupgap": 0},
        "title": {"text": "依申请公开办理结果构成（表三 总计列）"},
        "barmode": "stack",
        "height": 420,
    }
    return Chart(data, layout)


def yearly_chart(reports: Sequence[Report]) -> Chart:
    """The agency's figures year by year: a line with markers per figure, as ``px.line(color="figure", markers=True)``."""
    df = yearly_frame(reports).dropna(subset=["value"])
    colors = _colors()
    data = []
    for i, name in enumerate(dict.fromkeys(df["figure"])):
        sel = df[df["figure"] == name]
        data.append(
            {
                "hovertemplate": f"指标={name}<br>年度=%{{x}}<br>件数=%{{y}}<extra></extra>",
                "legendgroup": name,
                "line": {"color": colors[i % len(colors)], "dash": "solid"},
                "marker": {"symbol": "circle"},
                "mode": "lines+markers",
                "name": name,
                "orientation": "v",
                "showlegend": True,
                "x": [f"{y}" for y in sel["year"]],
                "xaxis": "x",
                "y": [float(v) for v in sel["value"]],
                "yaxis": "y",
                "type": "scatter",
            }
        )
    layout = {
        **_axes("年度", "件数"),
        "legend": {"title": {"text": "指标"}, "tracegroupgap": 0},
        "title": {"text": "逐年对比"},
        "height": 420,
    }
    layout["xaxis"]["type"] = "category"
    return Chart(data, layout)


PEER_MEASURES = {
    "received": ("本年新收申请（件）", ",.0f"),
    "share_not_granted": ("未予公开比例（办理总计中非予以公开、部分公开）", ".0%"),
}


# Where make_subplots(rows=1, cols=2) puts the two panels (its horizontal spacing 0.2 / 2).
_DOMAINS = ((0.0, 0.45), (0.55, 1.0))


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
) -> Chart:
    """Every audited report as a distribution, the agency's own reports marked in red.

    ``peers`` is :func:`corpus_frame` (or the reports); ``key`` the agency's
    canonical name when the run knows it already. A bar per report was
    unreadable at a province's 10,000 reports and grew every sheet with the
    corpus; a histogram stays the same size, and each of the agency's reports
    is a line with its year and the share of reports below it. Two panels side
    by side, as ``make_subplots(rows=1, cols=2)`` with ``add_vline`` would draw them.
    """
    df = peers if isinstance(peers, pd.DataFrame) else corpus_frame(peers)
    if key is None:
        names = [a for a in df["agency"] if isinstance(a, str) and a]
        key = resolve([*names, agency]).get(agency, agency_key(agency))
    mine = df[df["key"] == key].sort_values("year", na_position="last")
    layout: dict[str, Any] = {}
    titles: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    data: list[dict[str, Any]] = []
    for col, (measure, (title, fmt)) in enumerate(PEER_MEASURES.items(), start=1):
        n = "" if col == 1 else str(col)
        lo, hi = _DOMAINS[col - 1]
        layout[f"xaxis{n}"] = {"anchor": f"y{n}", "domain": [lo, hi]}
        layout[f"yaxis{n}"] = {"anchor": f"x{n}", "domain": [0.0, 1.0]}
        titles.append(
            {"font": {"size": 16}, "showarrow": False, "text": title, "x": (lo + hi) / 2, "xanchor": "center",
             "xref": "paper", "y": 1.0, "yanchor": "bottom", "yref": "paper"}
        )
        edges, counts = distribution(df[measure], bins)
        if not counts:
            continue
        values = pd.to_numeric(df[measure], errors="coerce").dropna()
        spans = list(pairwise(edges))
        data.append(
            {
                "customdata": [list(s) for s in spans],
                "hovertemplate": f"%{{customdata[0]:{fmt}}} – %{{customdata[1]:{fmt}}}：%{{y}} 份报告<extra></extra>",
                "marker": {"color": REST},
                "name": title,
                "width": [b - a for a, b in spans],
                "x": [(a + b) / 2 for a, b in spans],
                "y": counts,
                "type": "bar",
                "xaxis": f"x{n}",
                "yaxis": f"y{n}",
            }
        )
        for year, v in zip(mine["year"], pd.to_numeric(mine[measure], errors="coerce"), strict=True):
            if pd.isna(v):
                continue
            below = float((values < v).mean())
            label = f"{int(year)}年" if number(year) is not None else "年度不明"
            shapes.append(
                {"line": {"color": MARK, "width": 2}, "type": "line", "x0": float(v), "x1": float(v),
                 "xref": f"x{n}", "y0": 0, "y1": 1, "yref": f"y{n} domain"}
            )
            annotations.append(
                {"font": {"color": MARK}, "showarrow": False, "text": f"{label}（高于 {below:.0%}）", "x": float(v),
                 "xanchor": "left", "xref": f"x{n}", "y": 1, "yanchor": "top", "yref": f"y{n} domain"}
            )
        layout[f"xaxis{n}"]["tickformat"] = fmt
        layout[f"yaxis{n}"]["title"] = {"text": "报告份数"}
    layout["annotations"] = titles + annotations
    if shapes:
        layout["shapes"] = shapes
    layout.update(
        height=460,
        showlegend=False,
        bargap=0.05,
        title={"text": f"与其他机关比较：全部 {len(df)} 份报告的分布（红线为{_plain(agency)}）"},
    )
    return Chart(data, layout)


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


@lru_cache(maxsize=1)
def template_json() -> dict[str, Any]:
    """The parts of plotly's default look these charts use, as a figure's ``layout.template``."""
    import plotly.graph_objects as go
    import plotly.io as pio

    layout = pio.templates["plotly"].layout.to_plotly_json()
    slim = go.layout.Template(layout={k: layout[k] for k in _TEMPLATE_LAYOUT if k in layout})
    return json.loads(pio.to_json(slim, validate=False))


def mime_bundle(fig_dict: dict[str, Any]) -> dict[str, Any]:
    """What a notebook keeps of a figure: its JSON under plotly's mime type, and a line of text."""
    from plotly.io import to_json

    # Through plotly's own JSON encoder: figures may hold numpy arrays.
    data = json.loads(to_json({k: fig_dict.get(k) for k in ("data", "layout")}, validate=False))
    title = (data.get("layout", {}).get("title") or {}).get("text") or ""
    return {PLOTLY_MIME: data, "text/plain": f"图表：{title}"}


def setup_plotly() -> str:
    """Make figures show in JupyterLab and, once exported, in the static HTML, with no internet.

    A figure is kept once, as the plotly mime type that JupyterLab draws itself
    (an executed notebook is untrusted there, so scripts in it would not run
    anyway); the page's ``<div>`` is made from it at export (:func:`figure_html`).
    Plotly's ``notebook`` renderer instead embedded plotly.js (4.6 MB) in every
    notebook and the figure twice, and pulled MathJax from a CDN, which stalls
    an offline page. This module's charts (:class:`Chart`) show themselves the
    same way; the renderer is for any plotly figure shown beside them.
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    name = "auditlib"
    if name not in pio.renderers:
        from plotly.io._base_renderers import MimetypeRenderer

        class OfflineRenderer(MimetypeRenderer):  # type: ignore[misc]
            def to_mimebundle(self, fig_dict: dict) -> dict:
                return mime_bundle(fig_dict)

        pio.renderers[name] = OfflineRenderer()
        pio.templates[name] = go.layout.Template(template_json())
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
