"""Which reports come from the same agency, however the agency wrote its name.

城中街道办 (the title) and 柳州市城中区城中街道办事处 (the signature) are one
agency. Stripping place names would merge every district's 发展和改革局 into
one, so names are matched within the corpus instead: a short name joins a
longer one only when it abbreviates exactly one name in the corpus.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auditlib.meta import is_abbreviation, is_generic
from auditlib.numbers import squash

if TYPE_CHECKING:
    from auditlib.report import Report

_TRAIL = re.compile(r"[（(](?:本级|机关|本部)[）)]$")
_PLACES = re.compile(r"(?:[\u4e00-\u9fff]{2,6}?(?:自治区|自治州|自治县|省|市|区|县|旗|盟|州))+")
_FULL = str.maketrans("（）", "()")


def agency_key(name: str | None) -> str:
    """The name normalised for comparison: no white space, 街道办 → 街道办事处."""
    if not name:
        return ""
    s = _TRAIL.sub("", squash(name).translate(_FULL))
    if s.endswith("街道办"):
        s += "事处"
    return s


def resolve(names: Iterable[str | None]) -> dict[str, str]:
    """Map every name to the corpus's canonical (fullest) name of the same agency."""
    names = [n for n in names if n]
    keys = sorted({agency_key(n) for n in names}, key=lambda s: (-len(s), s))
    by_char: dict[str, set[str]] = defaultdict(set)
    for k in keys:
        for ch in set(k):
            by_char[ch].add(k)
    canonical: dict[str, str] = {}
    for k in keys:
        if is_generic(k):
            canonical[k] = k
            continue
        # Names holding every character of k, rarest character first: cheap to intersect.
        chars = sorted(set(k), key=lambda ch: len(by_char[ch]))
        cands = set(by_char[chars[0]])
        for ch in chars[1:]:
            cands &= by_char[ch]
            if len(cands) <= 1:
                break
        longer = [c for c in cands if len(c) > len(k) and is_abbreviation(k, c) and _same_places(k, c)]
        targets = {canonical.get(c, c) for c in longer}
        canonical[k] = targets.pop() if len(targets) == 1 else k
    return {n: canonical[agency_key(n)] for n in names}


def _same_places(short: str, full: str) -> bool:
    """The places a short name starts with end the full name's places: 城中区城中街道办 may be
    柳州市城中区城中街道办事处, but 柳州市人民政府办公室 is not 柳州市鱼峰区人民政府办公室."""
    m = _PLACES.match(short)
    if not m:
        return True
    f = _PLACES.match(full)
    return bool(f) and f.group(0).endswith(m.group(0))


@dataclass
class AgencyYears:
    """Reports grouped by canonical agency and year (the first report of a year wins)."""

    names: dict[str, str] = field(default_factory=dict)  # name as written → canonical name
    years: dict[str, dict[int, Report]] = field(default_factory=dict)

    def previous(self, report: Report) -> Report | None:
        """The same agency's report of the year before, or None."""
        name, year = report.meta.agency, report.meta.year
        if not name or not year or name not in self.names:
            return None
        prev = self.years.get(self.names[name], {}).get(year - 1)
        return prev if prev is not report else None


def group_by_agency(reports: Iterable[Report], names: dict[str, str] | None = None) -> AgencyYears:
    """One pass over the corpus: which reports are the same agency, year by year.

    ``names`` is the run's :func:`resolve` of these reports' agencies, when it has one.
    """
    reports = list(reports)
    if names is None:
        names = resolve(r.meta.agency for r in reports)
    years: dict[str, dict[int, Report]] = defaultdict(dict)
    for r in reports:
        if r.meta.agency and r.meta.year:
            years[names[r.meta.agency]].setdefault(r.meta.year, r)
    return AgencyYears(names, dict(years))


# ------------------------------------------------------------------ kinds of agency
# 条例第四十九条 sets the publication deadline by who reports: a department by 31 January,
# a 县级以上地方人民政府's own report by 31 March; 乡镇 and 街道 are left to each region.
DEPARTMENT = "department"
GOVERNMENT = "government"
TOWNSHIP = "township"
KIND_ZH = {
    DEPARTMENT: "人民政府部门及其他机关",
    GOVERNMENT: "县级以上地方人民政府本级报告",
    TOWNSHIP: "乡镇人民政府、街道办事处",
}
_TOWNSHIP = re.compile(r"(?:[乡镇]|苏木)(?:人民)?政府$|街道(?:办事处|办|工委)?$|[乡镇]$")
_GOVERNMENT = re.compile(r"(?:省|自治区|市|自治州|州|盟|县|自治县|区|旗|特区|林区)(?:人民)?政府$")


def agency_kind(name: str | None) -> str:
    """Which of 第四十九条's kinds an agency is, judged from its name.

    Only the name's ending decides: 柳州市城中区人民政府 is a government, its
    人民政府办公室 a department (the office's own report), 城中街道办事处 and
    某某镇人民政府 are 乡镇/街道. Anything else (局, 委员会, 管委会 …) is a department.
    """
    key = agency_key(name)
    if _TOWNSHIP.search(key):
        return TOWNSHIP
    if _GOVERNMENT.search(key):
        return GOVERNMENT
    return DEPARTMENT
