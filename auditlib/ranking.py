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

import numpy as np
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


# What :func:`ranking` adds up per report, from :func:`report_counts`.
COUNTS = ("error", "warning", "info", "counted_errors", "counted_warnings", "late", "decided", "total")


def report_counts(findings: pd.DataFrame) -> pd.DataFrame:
    """Per report (the index: source), its findings counted as :func:`ranking` needs them (:data:`COUNTS`).

    error/warning/info: findings of each severity, whatever their review status (the
    发现 column follows the 级别 filter); counted_errors/counted_warnings: those not
    dismissed (the score's); late: 1 when a LATE_PUBLICATION finding stands; decided:
    findings no longer open; total: all findings. Made once per read of the review
    decisions: a filter then only adds up reports.
    """
    if not len(findings):
        return pd.DataFrame(columns=list(COUNTS), index=pd.Index([], name="source"), dtype="int64")
    severity = findings["severity"].astype(str)
    status = findings["review_status"].astype(str) if "review_status" in findings else pd.Series("open", index=findings.index)
    counted = status != "dismissed"
    flags = pd.DataFrame(
        {
            "source": findings["source"].astype(str),
            "error": severity == "error",
            "warning": severity == "warning",
            "info": severity == "info",
            "counted_errors": counted & (severity == "error"),
            "counted_warnings": counted & (severity == "warning"),
            "late": counted & (findings["rule"].astype(str) == LATE_RULE),
            "decided": status != "open",
            "total": True,
        }
    )
    sums = flags.groupby("source", sort=False)[list(COUNTS)].sum().astype("int64")
    sums["late"] = (sums["late"] > 0).astype("int64")  # a late report counts once
    return sums


def ranking(
    reports: pd.DataFrame,
    findings: pd.DataFrame | None = None,
    level: str = "agency",
    severities: Iterable[str] | None = None,
    counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per agency (``level="agency"``), per 区县 or per 市, over the reports and findings given.

    ``reports``: the summary's report frame, already filtered by year/region; only
    readable reports count. ``findings``: findings with ``review_status`` (those of
    other reports are left out), or instead ``counts``, :func:`report_counts` of them
    made once beforehand. ``severities`` narrows the 发现 column (the dashboard's 级别
    filter); errors, late publication, share reviewed and the score always count
    every severity, so that the score does not move with a display filter.

    Columns: unit, city, district, reports, years, findings, errors, warnings, late,
    reviewed (share of findings decided), score, yoy (发现 in the latest year minus the
    year before, NA without both years), yoy_years, agencies (names in the unit).
    """
    if level not in LEVELS:
        raise ValueError(f"未知的汇总级别 {level!r} (unknown level)")
    if counts is None:
        counts = report_counts(findings if findings is not None else pd.DataFrame())
    cols = ["unit", "city", "district", "reports", "years", "findings", "errors", "warnings", "late",
            "reviewed", "score", "yoy", "yoy_years", "agencies"]
    reps = reports[reports["readable"].astype(bool)]
    agencies = reps["agency"].tolist()
    # The unit of each report through its agency's (city, district), looked up once per agency.
    place = {a: _place(a) for a in dict.fromkeys(agencies)}
    unit_of = {a: {"agency": a, "district": f"{c} {d}", "city": c}[level] for a, (c, d) in place.items()}
    code, units = pd.factorize(pd.Series([unit_of[a] for a in agencies], dtype=object))
    n = len(units)
    # Each report's counts, summed per unit in numpy: a filter over 10,000 reports is one pass.
    c = counts.reindex(reps["source"].astype(str)).fillna(0).to_numpy(dtype="int64")
    shown_cols = [COUNTS.index(s) for s in (severities or ("error", "warning", "info")) if s in COUNTS[:3]]
    shown = c[:, shown_cols].sum(axis=1) if len(c) else np.zeros(0, dtype="int64")

    def per_unit(values: np.ndarray) -> np.ndarray:
        return np.bincount(code, weights=values, minlength=n).astype("int64")

    col = {k: per_unit(c[:, i]) if len(c) else np.zeros(n, dtype="int64") for i, k in enumerate(COUNTS)}
    years = reps["year"].astype("Float64").fillna(0).astype("int64").to_numpy()  # 0: unknown year
    by_year = pd.DataFrame({"unit": code, "year": years, "shown": shown})
    by_year = by_year[by_year["year"] > 0].groupby(["unit", "year"])["shown"].sum()
    years_of: list[list[int]] = [[] for _ in range(n)]
    for u, y in by_year.index:  # sorted by unit then year
        years_of[u].append(int(y))
    shown_of = by_year.to_dict()
    agencies_of: list[set[str]] = [set() for _ in range(n)]
    for u, a in zip(code.tolist(), agencies, strict=True):
        agencies_of[u].add(a)

    yoy: list[Any] = [pd.NA] * n
    yoy_years = [""] * n
    for u, ys in enumerate(years_of):
        if len(ys) > 1 and ys[-2] == ys[-1] - 1:
            yoy[u] = shown_of[u, ys[-1]] - shown_of[u, ys[-2]]
            yoy_years[u] = f"{ys[-2]}→{ys[-1]}"
    first = {u: a for a, u in zip(reversed(agencies), reversed(code.tolist()), strict=True)}  # any agency of the unit
    cities = [place[first[u]][0] for u in range(n)]
    out = pd.DataFrame(
        {
            "unit": list(units),
            "city": cities,
            "district": ["" if level == "city" else place[first[u]][1] for u in range(n)],
            "reports": np.bincount(code, minlength=n).astype("int64"),
            "years": [years_text(ys) for ys in years_of],
            "findings": per_unit(shown) if len(c) else np.zeros(n, dtype="int64"),
            "errors": col["counted_errors"],
            "warnings": col["counted_warnings"],
            "late": col["late"],
            "reviewed": pd.array(
                [d / t if t else pd.NA for d, t in zip(col["decided"].tolist(), col["total"].tolist(), strict=True)],
                dtype="Float64",
            ),
            "yoy": pd.array(yoy, dtype="Int64"),
            "yoy_years": yoy_years,
            "agencies": [sorted(s) for s in agencies_of],
        }
    )
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
