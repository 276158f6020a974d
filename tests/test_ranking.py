"""The supervisors' ranking, its roll-up, year-over-year change and export, on the bundled reports."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from auditlib import dashboard as dash
from auditlib import ranking as rk
from auditlib.audit import audit
from auditlib.corpus import load_reports
from auditlib.findings import findings_frame

REPORTS = Path(__file__).resolve().parent.parent / "reports_in"


@pytest.fixture(scope="module")
def corpus():
    reports = load_reports(REPORTS)
    findings = dash.prepare(findings_frame(audit(reports)), reports)
    findings["review_status"] = "open"
    frame = dash.report_frame(reports, dash.canonical_agencies(reports, findings))
    return frame, findings


@pytest.mark.parametrize(
    "name, district",
    [
        ("柳州市柳江区发展和改革局", "柳江区"),
        ("柳州市城中区人民政府", "城中区"),
        ("广西壮族自治区柳州市城中区城中街道办事处", "城中区"),
        ("柳州市人民政府办公室", rk.CITY_LEVEL),
        ("柳州市城市管理局", rk.CITY_LEVEL),  # 城市 is not a district
        ("柳州市市场监督管理局", rk.CITY_LEVEL),
        ("石龙区人民政府办公室", "石龙区"),
        ("淮安市人民政府", rk.CITY_LEVEL),
        ("", rk.CITY_LEVEL),
        (None, rk.CITY_LEVEL),
    ],
)
def test_district_of(name, district):
    assert rk.district_of(name) == district


def test_agency_ranking_counts_and_score(corpus):
    reports, findings = corpus
    rank = rk.ranking(reports, findings)
    assert sorted(rank["unit"]) == sorted(reports["agency"].unique())
    for row in rank.itertuples():
        mine = findings[findings["agency"] == row.unit]
        n = int((reports["agency"] == row.unit).sum())
        errors = int((mine["severity"].astype(str) == "error").sum())
        warnings = int((mine["severity"].astype(str) == "warning").sum())
        late = mine.loc[mine["rule"] == "LATE_PUBLICATION", "source"].nunique()
        assert (row.reports, row.findings, row.errors, row.warnings, row.late) == (n, len(mine), errors, warnings, late)
        assert row.score == pytest.approx(max(0.0, round(100 - 10 * errors / n - 3 * warnings / n - 20 * late / n, 1)))
    # Worst first by default; and the worst of the samples is 石龙区 (3 errors, 7 warnings in one report).
    assert list(rank["score"]) == sorted(rank["score"])
    assert rank.iloc[0]["unit"] == "石龙区人民政府办公室" and rank.iloc[0]["score"] == pytest.approx(49.0)


def test_dismissed_findings_do_not_count_against_the_score(corpus):
    reports, findings = corpus
    target = "石龙区人民政府办公室"
    decided = findings.copy()
    errors = decided.index[(decided["agency"] == target) & (decided["severity"].astype(str) == "error")]
    decided.loc[errors, "review_status"] = "dismissed"
    before = rk.ranking(reports, findings).set_index("unit").loc[target]
    after = rk.ranking(reports, decided).set_index("unit").loc[target]
    assert before["errors"] == 3 and after["errors"] == 0
    assert after["score"] == pytest.approx(before["score"] + 30)
    assert after["findings"] == before["findings"]  # still shown, only not counted against the agency
    assert after["reviewed"] == pytest.approx(3 / before["findings"])


def test_severity_filter_narrows_the_findings_column_only(corpus):
    reports, findings = corpus
    every = rk.ranking(reports, findings).set_index("unit")
    errors_only = rk.ranking(reports, findings, severities=["error"]).set_index("unit")
    assert (errors_only["findings"] == every["errors"]).all()
    assert (errors_only["score"] == every["score"]).all()


def test_roll_up_by_district_and_city(corpus):
    reports, findings = corpus
    agency = rk.ranking(reports, findings, "agency")
    district = rk.ranking(reports, findings, "district")
    city = rk.ranking(reports, findings, "city")
    for level in (district, city):
        assert level["reports"].sum() == agency["reports"].sum() == len(reports)
        assert level["findings"].sum() == agency["findings"].sum() == len(findings)
    zc = district.set_index("unit").loc["柳州市 城中区"]
    assert sorted(zc["agencies"]) == ["柳州市城中区人民政府", "柳州市城中区城中街道办事处"]
    assert zc["years"] == "2020、2021"
    lz = city.set_index("unit").loc["柳州市"]
    assert lz["reports"] == 4 and lz["years"] == "2020–2022"
    # Year over year: 发现 of the latest year less the year before, counted here from the findings themselves.
    year_of = dict(zip(reports["source"], reports["year"], strict=True))
    lz_years = findings[findings["region"] == "柳州市"]["source"].map(year_of)
    assert lz["yoy"] == int((lz_years == 2022).sum()) - int((lz_years == 2021).sum())
    assert lz["yoy_years"] == "2021→2022"
    assert pd.isna(city.set_index("unit").loc["淮安市", "yoy"])  # one year only: no change to show


def test_sorting(corpus):
    reports, findings = corpus
    rank = rk.ranking(reports, findings)
    for key in rk.SORT_KEYS:
        desc = rk.sort_ranking(rank, key, descending=True)
        vals = desc[key].dropna().tolist()
        assert vals == sorted(vals, reverse=True), key
    with pytest.raises(ValueError):
        rk.sort_ranking(rank, "nonsense")


def test_ranking_html_escapes_and_links(corpus):
    reports, findings = corpus
    evil = reports.copy()
    evil.loc[0, "agency"] = "<script>alert(1)</script>"
    rank = rk.ranking(evil, findings)
    page = rk.ranking_html(rank, lambda a: [("明细", "?agency=" + a)], esc=dash.esc)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count('target="_blank"') == len(rank)


def test_export_is_what_the_filters_select(corpus):
    reports, findings = corpus
    reps = dash.filter_frame(reports, years=[2021])
    fs = dash.filter_frame(findings[findings["source"].isin(set(reps["source"]))], severities=["error"])
    out = rk.findings_export(fs, reports, {"severity": dash.SEVERITY_ZH})
    assert len(out) == len(fs) > 0
    assert set(out["级别"]) == {"错误"} and set(out["年度"]) == {2021}
    csv = rk.to_csv_bytes(out)
    assert csv.startswith("\ufeff".encode())
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert list(back.columns) == list(out.columns) and len(back) == len(out)
    rank = rk.ranking(reps, findings[findings["source"].isin(set(reps["source"]))])
    # The dashboard counts every report's findings once, and a filter adds up only its reports.
    counts = rk.report_counts(findings)
    assert len(counts) < len(findings) and set(counts.index) <= set(findings["source"])
    pd.testing.assert_frame_equal(rk.ranking(reps, counts=counts), rank)
    book = rk.to_excel_bytes({"发现": out, "排名": rk.ranking_export(rank)}, note="筛选：年度 2021")
    sheets = pd.read_excel(io.BytesIO(book), sheet_name=None)
    assert list(sheets) == ["说明", "发现", "排名"]
    assert len(sheets["发现"]) == len(out) and len(sheets["排名"]) == len(rank)
    assert sheets["排名"]["得分"].tolist() == rank["score"].tolist()
