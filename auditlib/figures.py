"""The dashboard's charts as plotly.js JSON, with margins already wide enough for their labels.

Two costs shaped this module, both measured on the dashboard (docs/benchmarks.md):

- Building figures through plotly's validated ``graph_objects`` was half of a filter's
  kernel time. The figures here are the plotly.js JSON itself (plain lists and dicts),
  as :mod:`auditlib.charts` does for the sheets.
- Axes with ``automargin`` draw once, measure their tick labels, widen the margin and
  draw the whole chart again: a second full draw of every chart on the page's first
  render and on every filter. The margins are therefore estimated here from the labels'
  text (:func:`text_width`), generously; ``automargin`` stays on as the safety net, so a
  label wider than estimated costs a redraw, never a clipped label.

Labels come from reports and are untrusted: plotly renders a subset of HTML in them,
so every label is HTML-escaped (:func:`esc`).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from auditlib.summary import OUTCOMES, agency_label, agency_outcomes, region_of
from auditlib.view import esc as _esc
from auditlib.vocab import SEVERITIES, SEVERITY, SEVERITY_ZH, STATUS

Figure = dict[str, Any]

FONT_FAMILY = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif"
TICK_SIZE = 12  # plotly.js's default tick label size, in px
COLORWAY = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"]
# plotly_white's look, set on each axis: no template to merge in the browser for every chart.
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "automargin": True}

# Past this many bars a chart stops being readable and becomes the slowest thing on the
# page: larger corpora are shown by region.
MAX_BARS = 40

# Advance widths in em of the Latin glyphs of Noto Sans CJK (the font the page asks for
# first), rounded up; other CJK UI fonts are within a few per cent. Measured in Chromium.
_NARROW = frozenset(" !'(),-./:;I[\\]fijlrt{|}")
_WIDE_LATIN = frozenset("%@MWmw")


def esc(value: Any) -> str:
    """A label as plotly shows it, HTML-escaped; a missing one as a dash, as everywhere in the dashboard."""
    return _esc(value, blank="—")


def text_width(text: str, size: float = TICK_SIZE) -> float:
    """An upper estimate of ``text``'s width in px at ``size`` px: CJK and other wide characters 1 em."""
    em = 0.0
    for ch in text:
        if ord(ch) < 128:
            em += 0.40 if ch in _NARROW else 0.95 if ch in _WIDE_LATIN else 0.70 if ch.isupper() else 0.63
        else:
            em += 1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.7
    return em * size


def _widest(labels: Iterable[Any]) -> float:
    return max((text_width(str(s)) for s in labels), default=0.0)


def _number_labels(values: Iterable[Any]) -> list[str]:
    """The longest tick labels a numeric axis up to these values may show (plotly abbreviates past 9,999)."""
    top = max((float(v) for v in values if v is not None and not pd.isna(v)), default=0.0)
    return [str(int(top)) if top < 10_000 else "100.5k"]


def _below(labels: Iterable[Any], angle: float) -> float:
    """Depth of an x axis's tick labels, turned by ``angle`` degrees."""
    a = math.radians(abs(angle))
    line = TICK_SIZE * 1.5
    return _widest(labels) * math.sin(a) + line * math.cos(a)


def _overhang(labels: Sequence[str], angle: float, min_plot_width: float = 500) -> float:
    """How far the first of an x axis's turned tick labels reaches left of the plot.

    A label turned by ``angle`` ends at its tick and runs down to the left; the first
    tick sits half a category in from the plot's edge (the plot assumed at least
    ``min_plot_width`` px wide).
    """
    if not labels:
        return 0.0
    return text_width(str(labels[0])) * math.cos(math.radians(abs(angle))) - min_plot_width / (2 * len(labels))


def _margin(left: float, bottom: float) -> dict[str, int]:
    # Plotly puts tick labels some 6–18 px off the plot and rounds: 24 px covers it.
    return {"l": math.ceil(left + 24), "r": 10, "t": 50, "b": math.ceil(bottom + 24)}


def _figure(data: list[dict[str, Any]], title: str, height: int, margin: dict[str, int], **layout: Any) -> Figure:
    xaxis = {**_AXIS, **layout.pop("xaxis", {})}
    yaxis = {**_AXIS, **layout.pop("yaxis", {})}
    return {
        "data": data,
        "layout": {
            "title": {"text": esc(title), "x": 0.01},
            "height": height,
            "margin": margin,
            "font": {"family": FONT_FAMILY},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "colorway": COLORWAY,
            "xaxis": xaxis,
            "yaxis": yaxis,
            **layout,
        },
    }


def _labels(values: Iterable[Any]) -> list[str]:
    return [esc(v) for v in values]


def _numbers(values: Iterable[Any]) -> list[Any]:
    """Plain JSON numbers, a missing value as null."""
    out: list[Any] = []
    for v in values:
        if v is None or pd.isna(v):
            out.append(None)
        else:
            f = float(v)
            out.append(int(f) if f.is_integer() else f)
    return out


def severity(by_severity: pd.DataFrame) -> Figure:
    """Findings by severity: one bar each (``Overview.by_severity``)."""
    d = by_severity
    counts = _numbers(d["count"])
    bar = {
        "type": "bar",
        "x": list(d["级别"]),
        "y": counts,
        "marker": {"color": [SEVERITY[s].colour for s in d["severity"]]},
        "text": counts,
        "textposition": "auto",
    }
    return _figure([bar], "按级别的发现数 (findings by severity)", 320,
                   _margin(_widest(_number_labels(counts)), _below(d["级别"], 0)))


def rules(by_rule: pd.DataFrame) -> Figure:
    """Findings by rule, stacked by severity, the commonest rule on top (``Overview.by_rule``)."""
    d = by_rule
    data = []
    for sev in SEVERITIES:
        part = d[d["severity"] == sev]
        if len(part):
            data.append({
                "type": "bar",
                "orientation": "h",
                "y": _labels(part["rule"]),
                "x": _numbers(part["count"]),
                "name": SEVERITY_ZH[sev],
                "marker": {"color": SEVERITY[sev].colour},
            })
    totals = d.groupby("rule")["count"].sum() if len(d) else []
    return _figure(data, "按规则的发现数 (findings by rule)", max(320, 26 * len(d) + 90),
                   _margin(_widest(_labels(d["rule"])), _below(_number_labels(totals), 0)),
                   barmode="stack", yaxis={"autorange": "reversed"})


def by_region(mix: pd.DataFrame, limit: int = MAX_BARS) -> pd.DataFrame:
    """Outcome mix summed by region and year when there are more agency-years than bars."""
    if len(mix) <= limit:
        return mix
    numeric = [c for c in mix.columns if c not in ("agency", "year", "region", "source") and pd.api.types.is_numeric_dtype(mix[c])]
    d = mix if "region" in mix else mix.assign(region=mix["agency"].map(region_of))
    out = d.groupby(["region", "year"], dropna=False)[numeric].sum(min_count=1).reset_index()
    return out.rename(columns={"region": "agency"})


def _year(y: Any) -> str:
    return "?" if pd.isna(y) else str(int(y))


def volumes(mix: pd.DataFrame) -> Figure:
    """表三's new requests per agency (or region, past :data:`MAX_BARS`), a bar per year."""
    grouped = len(mix) > MAX_BARS
    d = by_region(mix).dropna(subset=["new_received"])
    data = [
        {"type": "bar", "x": _labels(part["agency"]), "y": _numbers(part["new_received"]), "name": _year(year)}
        for year, part in d.groupby("year", dropna=False)
    ]
    x = list(dict.fromkeys(label for trace in data for label in trace["x"]))  # plotly's category order
    left = max(_widest(_number_labels(d["new_received"])), _overhang(x, 25))
    return _figure(data, "表三 本年新收申请数 (new requests)" + (" · 按地区合计" if grouped else ""), 380,
                   _margin(left, _below(x, 25)),
                   barmode="group", xaxis={"tickangle": -25}, legend={"title": {"text": "年度"}})


def outcomes(mix: pd.DataFrame, percent: bool = True) -> Figure:
    """表三's outcome mix per agency-year (or region-year), stacked, as shares when ``percent``."""
    names = list(OUTCOMES)
    grouped = len(mix) > MAX_BARS
    d = by_region(mix)
    vals = d[names].astype("Float64").fillna(0).astype(float)
    if percent:
        tot = vals.sum(axis=1).replace(0, float("nan"))
        vals = vals.div(tot, axis=0).fillna(0) * 100
    x = [f"{esc(a)} {'' if pd.isna(y) else int(y)}" for a, y in zip(d["agency"], d["year"], strict=True)]
    data = [{"type": "bar", "x": x, "y": _numbers(vals[n]), "name": n} for n in names]
    title = "办理结果构成 (outcome mix)" + (" %" if percent else "") + (" · 按地区合计" if grouped else "")
    top = [100] if percent else vals.sum(axis=1)
    # The axis title stands left of the tick numbers, not of the turned labels below the plot.
    title_width = TICK_SIZE * 1.5 + 14
    left = max(_widest(_number_labels(top)) + title_width, _overhang(x, 25))
    return _figure(data, title, 400, _margin(left, _below(x, 25)),
                   barmode="stack", xaxis={"tickangle": -25}, yaxis={"title": {"text": "%" if percent else "件"}})


def review(progress: pd.DataFrame | None) -> Figure:
    """Findings by review status (``dashboard.review_progress``); no bars before any decision."""
    data, labels, counts = [], [], []
    if progress is not None:
        labels, counts = list(progress["状态"]), _numbers(progress["count"])
        data.append({
            "type": "bar",
            "x": labels,
            "y": counts,
            "marker": {"color": [STATUS[s].colour for s in progress["status"]]},
            "text": counts,
            "textposition": "auto",
        })
    return _figure(data, "审核进度 (review progress)", 300, _margin(_widest(_number_labels(counts)), _below(labels, 0)))


def agency_table3(reports: Sequence[Any]) -> Figure:
    """One agency's 表三 outcome totals, a group of bars per outcome and a bar per year.

    One chart for all the agency's years: every chart costs the browser a
    separate plotly.js draw, and switching agency should stay well under a second.
    """
    names = list(OUTCOMES)
    data, values = [], []
    for r in reports:
        vals = agency_outcomes(r)
        y = _numbers(vals[n] for n in names)
        values += y
        data.append({"type": "bar", "x": names, "y": y, "text": y, "name": f"{r.meta.year or '?'}年度"})
    who = agency_label(reports[0]) if reports else ""
    return _figure(data, f"{who} 表三办理结果 (request outcomes) 按年度", 340,
                   _margin(_widest(_number_labels(values)), _below(names, 0)),
                   barmode="group", legend={"title": {"text": "年度"}})
