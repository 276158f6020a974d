"""The supervisors' ranking: one row per agency (or per 区县, per 市), a transparent score, and exports.

Pure pandas over the corpus summary's frames (:mod:`auditlib.summary`): the
reports (source, agency, year, region, readable) and the findings with their
review status. The dashboard notebook only displays what comes back.

The score is meant to be argued with, so it is simple and printed beside the
table (:data:`SCORE_FORMULA`): per report, an error costs 10 points, a warning
3, a late publication 20; findings an auditor dismissed cost nothing.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from auditlib.index_page import years_text
from auditlib.summary import region_of
from auditlib.vocab import FIELD_ZH

LATE_RULE = "LATE_PUBLICATION"
ERROR_POINTS, WARNING_POINTS, LATE_POINTS = 10.0, 3.0, 20.0
SCORE_FORMULA = (
    f"得分 = 100 − {ERROR_POINTS:g}×错误数/报告数 − {WARNING_POINTS:g}×警告数/报告数 − "
    f"{LATE_POINTS:g}×逾期发布报告数/报告数（最低 0；已驳回的发现不计）"
    " · score = 100 − 10·errors/report − 3·warnings/report − 20·late reports/report (floor 0; dismissed findings do not count)"
)

# Sort keys: column → (Chinese label, whether the worst come first when sorted descending).
SORT_KEYS: dict[str, str] = {
    "score": "得分 (score)",
    "findings": "发现 (findings)",
    "errors": "错误 (errors)",
    "late": "逾期发布 (late publication)",
    "reviewed": "已审核比例 (share reviewed)",
}
LEVELS: dict[str, str] = {"agency": "机关", "district": "区县", "city": "市"}
CITY_LEVEL = "（市本级）"

_PROVINCE = re.compile(r"^.{1,7}?(?:省|自治区)(?=.)")
# A 区/县/旗/县级市 right after the city: 柳州市|柳江区|发展和改革局.
_DISTRICT = re.compile(r"^(.{1,6}?(?:自治县|自治旗|新区|区|县|旗|市))")
# Words that end like a district but are not one: 城市管理局, 市场监督管理局 (…市|场…).
_NOT_DISTRICT = re.compile(r"(?:城市|都市)$")


@functools.lru_cache(maxsize=65536)
def district_of(name: str | None) -> str:
    """The 区/县 an agency belongs to, under its city; :data:`CITY_LEVEL` for the city's own agencies.

    柳州市柳江区发展和改革局 → 柳江区; 柳州市人民政府办公室 → （市本级）; an agency whose
    name starts with a district (石龙区人民政府办公室) is that district. A name that only
    looks like one (柳州市城市管理局) stays at the city level rather than invent a district.
    """
    if not name or not isinstance(name, str):
        return CITY_LEVEL
    city = region_of(name)
    if city.endswith(("区", "县", "旗")):
        return city
    rest = _PROVINCE.sub("", re.sub(r"\s+", "", name))
    if not rest.startswith(city):
        return CITY_LEVEL
    rest = rest[len(city):]
    m = _DISTRICT.match(rest)
    if not m or _NOT_DISTRICT.search(m.group(1)) or rest[len(m.group(1)):].startswith("场"):
        return CITY_LEVEL
    return m.group(1)


def score(errors: pd.Series, warnings: pd.Series, late: pd.Series, reports: pd.Series) -> pd.Series:
    """:data:`SCORE_FORMULA`, vectorised; a unit without readable reports scores NA."""
    n = reports.where(reports > 0)
    raw = 100 - ERROR_POINTS * errors / n - WARNING_POINTS * warnings / n - LATE_POINTS * late / n
    return raw.clip(lower=0).round(1)


def ranking(
    reports: pd.DataFrame,
    findings: pd.DataFrame,
    level: str = "agency",
    severities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per agency (``level="agency"``), per 区县 or per 市, over the reports and findings given.

    ``reports``: the summary's report frame, already filtered by year/region; only
    readable reports count. ``findings``: those reports' findings with
    ``review_status``. ``severities`` narrows the 发现 column (the dashboard's 级别
    filter); errors, late publication, share reviewed and the score always count
    every severity, so that the score does not move with a display filter.

    Columns: unit, city, district, reports, years, findings, errors, warnings, late,
    reviewed (share of findings decided), score, yoy (发现 in the latest year minus the
    year before, NA without both years), yoy_years, agencies (names in the unit).
    """
    if level not in LEVELS:
        raise ValueError(f"未知的汇总级别 {level!r} (unknown level)")
    reps = reports[reports["readable"].astype(bool)]
    # Plain loops over the reports (10,000 at most a few ms): pandas' per-group Python
    # aggregations cost over a second at that size, on every filter change.
    units: dict[str, dict[str, Any]] = {}
    unit_of: dict[str, str] = {}
    year_of: dict[str, int] = {}
    years_col = reps["year"].astype("Float64").fillna(0).astype("int64").tolist()  # 0: unknown year
    for source, agency, year in zip(reps["source"].tolist(), reps["agency"].tolist(), years_col, strict=True):
        city, district = _place(agency)
        unit = {"agency": agency, "district": f"{city} {district}", "city": city}[level]
        u = units.get(unit)
        if u is None:
            u = units[unit] = {"city": city, "district": district if level != "city" else "", "reports": 0,
                               "years": set(), "agencies": set()}
        u["reports"] += 1
        u["agencies"].add(agency)
        if year:
            u["years"].add(year)
            year_of[source] = year
        unit_of[source] = unit

    fs = findings[findings["source"].isin(unit_of)]
    unit = fs["source"].map(unit_of)
    severity = fs["severity"].astype(str)
    status = fs["review_status"].astype(str) if "review_status" in fs else pd.Series("open", index=fs.index)
    counted = status != "dismissed"
    shown = severity.isin(list(severities)) if severities else pd.Series(True, index=fs.index)

    def count(mask: pd.Series) -> dict[str, int]:
        return unit[mask].value_counts().to_dict()

    n_shown, n_all, n_decided = count(shown), count(pd.Series(True, index=fs.index)), count(status != "open")
    n_err, n_warn = count(counted & (severity == "error")), count(counted & (severity == "warning"))
    late_sources = fs.loc[counted & (fs["rule"].astype(str) == LATE_RULE), "source"].drop_duplicates()
    n_late = late_sources.map(unit_of).value_counts().to_dict()
    per_year = (
        pd.DataFrame({"unit": unit[shown], "year": fs.loc[shown, "source"].map(year_of)})
        .dropna()
        .value_counts()
        .to_dict()
    )

    rows = []
    for name, u in units.items():
        years = sorted(u["years"])
        yoy, yoy_years = pd.NA, ""
        if len(years) > 1 and years[-2] == years[-1] - 1:
            last = years[-1]
            yoy = per_year.get((name, last), 0) - per_year.get((name, last - 1), 0)
            yoy_years = f"{last - 1}→{last}"
        total = n_all.get(name, 0)
        rows.append(
            {
                "unit": name,
                "city": u["city"],
                "district": u["district"],
                "reports": u["reports"],
                "years": years_text(years),
                "findings": n_shown.get(name, 0),
                "errors": n_err.get(name, 0),
                "warnings": n_warn.get(name, 0),
                "late": n_late.get(name, 0),
                "reviewed": n_decided.get(name, 0) / total if total else pd.NA,
                "yoy": yoy,
                "yoy_years": yoy_years,
                "agencies": sorted(u["agencies"]),
            }
        )
    cols = ["unit", "city", "district", "reports", "years", "findings", "errors", "warnings", "late",
            "reviewed", "score", "yoy", "yoy_years", "agencies"]
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "score"])
    for c in ("reports", "findings", "errors", "warnings", "late"):
        out[c] = out[c].astype("int64")
    out["reviewed"] = out["reviewed"].astype("Float64")
    out["yoy"] = out["yoy"].astype("Int64")
    out["score"] = score(out["errors"], out["warnings"], out["late"], out["reports"])
    return out[cols].sort_values(["score", "unit"], ascending=[True, True], ignore_index=True, na_position="last")


@functools.lru_cache(maxsize=65536)
def _place(agency: str) -> tuple[str, str]:
    return region_of(agency), district_of(agency)


def sort_ranking(rank: pd.DataFrame, key: str = "score", descending: bool = False) -> pd.DataFrame:
    """The ranking sorted by one of :data:`SORT_KEYS`, ties broken by name; NA last."""
    if key not in SORT_KEYS:
        raise ValueError(f"未知的排序键 {key!r} (unknown sort key)")
    return rank.sort_values([key, "unit"], ascending=[not descending, True], na_position="last", ignore_index=True)


# ------------------------------------------------------------------ export
# The export's columns and their headings (vocab.FIELD_ZH); the dashboard calls severity 级别.
EXPORT_COLUMNS = {
    k: ("级别" if k == "severity" else FIELD_ZH[k])
    for k in ("agency", "region", "year", "severity", "rule", "location", "message", "expected", "actual",
              "evidence", "review_status", "review_note", "source", "id")
}
RANKING_COLUMNS = {
    "unit": "单位",
    "city": "市",
    "district": "区县",
    "reports": "报告数",
    "years": "年度",
    "findings": "发现",
    "errors": "错误",
    "warnings": "警告",
    "late": "逾期发布",
    "reviewed": "已审核比例",
    "score": "得分",
    "yoy": "同比变化",
    "yoy_years": "同比年度",
}


def findings_export(findings: pd.DataFrame, reports: pd.DataFrame, labels: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """The filtered findings as a plain table with Chinese headers, in the order a reader scans them."""
    year_of = dict(zip(reports["source"], reports["year"], strict=True))
    df = findings.copy()
    df["year"] = df["source"].map(year_of).astype("Int64")
    for col, mapping in (labels or {}).items():
        if col in df:
            df[col] = df[col].astype(str).map(lambda v, m=mapping: m.get(v, v))
    cols = [c for c in EXPORT_COLUMNS if c in df]
    df = df[cols].sort_values([c for c in ("agency", "year", "rule") if c in cols], ignore_index=True, na_position="last")
    return df.rename(columns=EXPORT_COLUMNS)


def ranking_export(rank: pd.DataFrame) -> pd.DataFrame:
    out = rank.drop(columns=["agencies"]).copy()
    out["reviewed"] = (out["reviewed"].astype("Float64") * 100).round(1)
    return out.rename(columns={**RANKING_COLUMNS, "reviewed": "已审核比例(%)"})


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese headers right."""
    return df.to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(sheets: dict[str, pd.DataFrame], note: str = "") -> bytes:
    """A workbook with one sheet per frame; ``note`` (the filters, the time) goes in a 说明 sheet first."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        if note:
            pd.DataFrame({"说明": note.splitlines()}).to_excel(xw, sheet_name="说明", index=False)
        for name, df in sheets.items():
            plain = df.astype(object).where(df.notna(), None)
            plain.to_excel(xw, sheet_name=name[:31], index=False)
    return buf.getvalue()


# ------------------------------------------------------------------ HTML
def _pct(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):.0%}"


def _signed(v: Any) -> str:
    if v is None or pd.isna(v):
        return "—"
    v = int(v)
    return f"+{v}" if v > 0 else str(v)


# Rows of the ranking on the page at first, and added by each 显示更多 (the export has them all):
# at 10,000 reports there are over 3,000 agencies, and the page stays small.
PAGE_ROWS = 50


def ranking_html(
    rank: pd.DataFrame,
    links: Callable[[str], list[tuple[str, str]]] | None = None,
    limit: int = PAGE_ROWS,
    esc: Callable[[Any], str] = str,
) -> str:
    """The ranking as an escaped HTML table of its first ``limit`` rows; ``links(agency)`` gives (label, href) pairs."""
    head = (
        '<table class="adash-table adash-rank"><thead><tr><th>#</th><th>单位</th><th>市</th><th>区县</th>'
        "<th>报告数</th><th>年度</th><th>发现</th><th>错误</th><th>警告</th><th>逾期发布</th>"
        "<th>已审核</th><th>得分</th><th>同比</th><th>链接</th></tr></thead><tbody>"
    )
    rows = []
    for i, r in enumerate(rank.head(limit).itertuples(index=False), start=1):
        link_html = ""
        if links is not None and len(r.agencies) == 1:
            link_html = " · ".join(f'<a href="{esc(href)}" target="_blank">{esc(label)}</a>' for label, href in links(r.agencies[0]))
        elif len(r.agencies) > 1:
            link_html = f"{len(r.agencies)} 个机关"
        yoy = _signed(r.yoy) + (f' <span class="adash-muted">{esc(r.yoy_years)}</span>' if r.yoy_years else "")
        rows.append(
            f"<tr><td class='num'>{i}</td><td>{esc(r.unit)}</td><td>{esc(r.city)}</td><td>{esc(r.district)}</td>"
            f"<td class='num'>{r.reports}</td><td>{esc(r.years)}</td><td class='num'>{r.findings}</td>"
            f"<td class='num'>{r.errors}</td><td class='num'>{r.warnings}</td><td class='num'>{r.late}</td>"
            f"<td class='num'>{_pct(r.reviewed)}</td><td class='num'><b>{'—' if pd.isna(r.score) else f'{r.score:.1f}'}</b></td>"
            f"<td class='num'>{yoy}</td><td>{link_html}</td></tr>"
        )
    more = ""
    if len(rank) > limit:
        more = f'<p class="adash-muted">共 {len(rank)} 行，显示前 {limit} 行；导出可得全部 (showing {limit} of {len(rank)}; export for all)</p>'
    return head + "".join(rows) + "</tbody></table>" + more
