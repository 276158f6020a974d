"""auditlib.charts: the sheet's figures, built as plotly JSON, are valid plotly figures with the report's numbers."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from auditlib import sheets
from auditlib.charts import MARK, PLOTLY_MIME, corpus_frame, outcome_chart, outcome_frame, peer_chart, yearly_chart
from auditlib.layouts import OUTCOMES
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def corpus():
    run = sheets.prepare_audit(SAMPLES)
    return run, sheets.agency_groups(run.items, run.agencies)


def _valid(chart) -> dict:
    """The figure as plotly itself reads it, property by property (an unknown or ill-typed one raises)."""
    fig = chart.to_dict()
    checked = json.loads(pio.to_json(go.Figure(fig), validate=True))
    mine = json.loads(json.dumps(fig))
    assert checked == mine  # nothing plotly would drop or change
    bundle = chart._repr_mimebundle_()
    assert bundle[PLOTLY_MIME] == mine and bundle["text/plain"].startswith("图表：")
    return mine


def test_outcome_chart_stacks_table3_outcomes_per_year(corpus) -> None:
    _, groups = corpus
    for _name, reports in groups.values():
        fig = _valid(outcome_chart(reports))
        assert [t["name"] for t in fig["data"]] == list(OUTCOMES)
        assert fig["layout"]["barmode"] == "stack"
        colors = fig["layout"]["template"]["layout"]["colorway"]
        assert [t["marker"]["color"] for t in fig["data"]] == colors[: len(OUTCOMES)]
        frame = outcome_frame(reports)
        for t in fig["data"]:
            want = frame[frame["group"] == t["name"]]
            assert t["y"] == [float(v) for v in want["count"]]
            assert t["x"] == [f"{y}年度" if y else "未知年度" for y in want["year"]]


def test_yearly_chart_has_a_line_per_figure_with_values(corpus) -> None:
    _, groups = corpus
    for _name, reports in groups.values():
        fig = _valid(yearly_chart(reports))
        assert fig["layout"]["xaxis"]["type"] == "category"
        for t in fig["data"]:
            assert t["mode"] == "lines+markers" and len(t["x"]) == len(t["y"]) > 0
            assert all(isinstance(v, float) for v in t["y"])


def test_peer_chart_counts_every_report_and_marks_the_agencys_own(corpus) -> None:
    run, groups = corpus
    peers = corpus_frame(run.items, run.agencies)
    for key, (name, reports) in groups.items():
        fig = _valid(peer_chart(peers, name, key=key))
        assert f"全部 {len(peers)} 份报告" in fig["layout"]["title"]["text"]
        for t, measure in zip(fig["data"], ("received", "share_not_granted"), strict=False):
            assert sum(t["y"]) == int(pd.to_numeric(peers[measure], errors="coerce").notna().sum())
        own = [s["x0"] for s in fig["layout"].get("shapes", []) if s["xref"] == "x"]
        mine = pd.to_numeric(peers[peers["key"] == key]["received"], errors="coerce").dropna()
        assert sorted(own) == sorted(float(v) for v in mine) and len(own) <= len(reports)
        assert all(s["line"]["color"] == MARK for s in fig["layout"].get("shapes", []))
        # The same chart from the reports themselves (the notebook run on its own).
        assert _valid(peer_chart(run.items, name)) == fig
