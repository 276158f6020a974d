"""The publication deadlines: which date applies to which agency (条例第四十九条 and local rules).

A small table (region → kind → month-day) ships with the package (``deadlines.csv``
beside this module). Users add or replace rows with files of their own: the
``AUDITLIB_DEADLINES`` environment variable (what ``auditlib audit --deadlines``
sets) and ``~/.config/auditlib/deadlines.csv``. The kind of an agency comes from
its name (:func:`auditlib.agencies.agency_kind`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from auditlib.agencies import DEPARTMENT, GOVERNMENT, KIND_ZH, TOWNSHIP, agency_key, agency_kind

PACKAGED = Path(__file__).with_name("deadlines.csv")
ENV = "AUDITLIB_DEADLINES"
ANYWHERE = "*"

_KIND_WORDS = {
    DEPARTMENT: DEPARTMENT,
    "部门": DEPARTMENT,
    GOVERNMENT: GOVERNMENT,
    "政府": GOVERNMENT,
    "县级以上地方人民政府": GOVERNMENT,
    TOWNSHIP: TOWNSHIP,
    "乡镇": TOWNSHIP,
    "乡镇街道": TOWNSHIP,
    "街道": TOWNSHIP,
}
_MONTH_DAY = re.compile(r"^(?:(\d{1,2})-(\d{1,2})|(\d{1,2})月(\d{1,2})日)$")


class DeadlineTableError(ValueError):
    """A deadline table that cannot be read: says which file and line."""


@dataclass(frozen=True)
class Deadline:
    region: str
    kind: str
    month: int
    day: int
    basis: str
    source: str  # the file the row came from

    def date(self, year: int) -> dt.date:
        """The deadline for the report on ``year``: a date of the next year."""
        return dt.date(year + 1, self.month, self.day)

    def describe(self) -> str:
        """Who the deadline applies to and where it comes from, for a finding's message."""
        where = "" if self.region == ANYWHERE else f"{self.region}的"
        return f"{where}{KIND_ZH[self.kind]}的期限为次年{self.month}月{self.day}日，依据：{self.basis}"


def _parse(text: str, source: str) -> list[Deadline]:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    need = {"region", "kind", "deadline"}
    if reader.fieldnames is None or not need <= {f.strip() for f in reader.fieldnames}:
        raise DeadlineTableError(
            f"{source}: 期限表须有 region,kind,deadline 三列（a deadline table needs the columns region, kind, deadline）"
        )
    rows: list[Deadline] = []
    for n, raw in enumerate(reader, start=2):
        rec = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        kind = _KIND_WORDS.get(rec["kind"])
        if kind is None:
            raise DeadlineTableError(
                f"{source} 第{n}行：机关类别“{rec['kind']}”无法识别，应为 department / government / township"
                f"（unknown kind {rec['kind']!r})"
            )
        m = _MONTH_DAY.match(rec["deadline"])
        month, day = (int(m[1] or m[3]), int(m[2] or m[4])) if m else (0, 0)
        try:
            dt.date(2001, month, day)  # not a leap year: 02-29 would fail three years in four
        except ValueError:
            raise DeadlineTableError(
                f"{source} 第{n}行：期限“{rec['deadline']}”不是有效的月-日（如 01-31）"
                f"(deadline {rec['deadline']!r} is not a month-day such as 01-31)"
            ) from None
        region = rec["region"] or ANYWHERE
        rows.append(Deadline(region, kind, month, day, rec.get("basis") or f"期限表 {source}", source))
    return rows


def read_table(path: str | Path) -> list[Deadline]:
    """The rows of one deadline file (UTF-8, with or without BOM)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DeadlineTableError(f"无法读取期限表 {p}：{exc.strerror or exc} (cannot read deadline table)") from exc
    except UnicodeDecodeError:
        raise DeadlineTableError(f"期限表 {p} 不是 UTF-8 文本 (deadline table is not UTF-8)") from None
    return _parse(text, str(p))


def user_files() -> list[Path]:
    """The user's own tables, in the order they apply (later ones win)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    files = [Path(base) / "auditlib" / "deadlines.csv"]
    files = [f for f in files if f.is_file()]
    files += [Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    return files


class Deadlines:
    """Rows by (region, kind); the most specific region an agency's name contains applies."""

    def __init__(self, rows: list[Deadline]) -> None:
        self.rows: dict[tuple[str, str], Deadline] = {}
        for r in rows:
            self.rows[(r.region, r.kind)] = r  # a later file's row replaces an earlier one
        for kind in (DEPARTMENT, GOVERNMENT, TOWNSHIP):
            if (ANYWHERE, kind) not in self.rows:
                raise DeadlineTableError(f"期限表缺少 * 地区的 {kind} 行 (no default row for {kind})")
        # Longest region first: 柳州市城中区 before 柳州市 before *.
        self._regions = sorted({r for r, _ in self.rows if r != ANYWHERE}, key=len, reverse=True)

    @classmethod
    def load(cls, files: list[str | Path] | None = None) -> Deadlines:
        """The packaged table with the user's files over it (``files`` instead of the user's own)."""
        rows = read_table(PACKAGED)
        for f in user_files() if files is None else files:
            rows += read_table(f)
        return cls(rows)

    def for_agency(self, name: str | None) -> Deadline:
        kind = agency_kind(name)
        key = agency_key(name)
        for region in self._regions:
            if region in key and (region, kind) in self.rows:
                return self.rows[(region, kind)]
        return self.rows[(ANYWHERE, kind)]
