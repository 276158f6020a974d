"""``outputs/index.html``: every agency's sheet, kept across partial runs.

A run of ``auditlib sheets --agency X`` writes X's sheet only; the index must
still list every other agency a previous run wrote. So the index is drawn from
a manifest beside it (``index.json``): one entry per agency with its directory,
its counts and the time of the run that wrote it. A run replaces the entries of
the agencies it ran and keeps the rest. A manifest that cannot be read is
rebuilt from the sheet directories on disk (their counts unknown), never
silently emptied. The dashboard reads the same manifest to link each agency to
its sheet.
"""

from __future__ import annotations

import contextlib
import html
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from auditlib.excel import atomic_path
from auditlib.vocab import SEVERITIES

MANIFEST = "index.json"
INDEX = "index.html"
SHEET_HTML = "audit_sheet.html"
SHEET_XLSX = "findings.xlsx"
SHEET_NOTEBOOK = "audit_sheet.ipynb"
DASHBOARD_COMMAND = "auditlib dashboard"


@dataclass
class Entry:
    """One agency's line in the index."""

    agency: str
    directory: str  # relative to the output folder, POSIX
    ok: bool
    run_at: str  # local time of the run that wrote it
    seconds: float = 0.0
    error: str | None = None
    reports: int | None = None  # None: not known (an entry recovered from disk)
    years: list[int] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)  # severity → count


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def read_manifest(out_dir: str | Path) -> dict[str, Entry]:
    """The entries of the index in ``out_dir``, by agency; {} when there is none yet."""
    out = Path(out_dir)
    path = out / MANIFEST
    if not path.exists():
        return _from_disk(out)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        entries = [Entry(**e) for e in raw["entries"]]
    except (OSError, ValueError, KeyError, TypeError):
        return _from_disk(out)
    return {e.agency: e for e in entries}


def _from_disk(out: Path) -> dict[str, Entry]:
    """Entries for the sheets present on disk, when the manifest is missing or unreadable."""
    found: dict[str, Entry] = {}
    if not out.is_dir():
        return found
    for sheet in sorted(out.glob(f"*/{SHEET_HTML}")):
        d = sheet.parent
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sheet.stat().st_mtime))
        found[d.name] = Entry(agency=d.name, directory=d.name, ok=True, run_at=when)
    return found


def update_index(
    out_dir: str | Path,
    entries: Iterable[Entry],
    dashboard_url: str | None = None,
    title: str = "政府信息公开工作年度报告 审计表",
) -> Path:
    """Merge this run's entries into the manifest, write it and ``index.html``; return the page's path."""
    out = Path(out_dir)
    merged = read_manifest(out)
    this_run = list(entries)
    # By directory, so that each of a province's thousands of entries is matched at once, not against every other.
    by_dir: dict[str, set[str]] = {}
    for o in merged.values():
        by_dir.setdefault(o.directory, set()).add(o.agency)
    for e in this_run:
        # An entry recovered from disk is named after its directory: the real one replaces it.
        for name in by_dir.pop(e.directory, set()) - {e.agency}:
            merged.pop(name, None)
        old = merged.get(e.agency)
        if old is not None and old.directory != e.directory:
            by_dir.get(old.directory, set()).discard(e.agency)
        merged[e.agency] = e
        by_dir[e.directory] = {e.agency}
    doc = {"updated_at": now(), "entries": [asdict(e) for e in sorted(merged.values(), key=lambda e: e.agency)]}
    with atomic_path(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    page = render(list(merged.values()), {e.agency for e in this_run}, doc["updated_at"], dashboard_url, title)
    path = out / INDEX
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def _esc(v: object) -> str:
    return html.escape(str(v), quote=True)


def _href(directory: str, name: str) -> str:
    return _esc(quote(f"{directory}/{name}"))


def years_text(years: Iterable[int]) -> str:
    """2020–2022 for a run of three or more years, else 2020、2022; — for none."""
    ys = sorted(set(years))
    if not ys:
        return "—"
    if len(ys) > 2 and ys == list(range(ys[0], ys[-1] + 1)):
        return f"{ys[0]}–{ys[-1]}"
    return "、".join(map(str, ys))


def render(
    entries: list[Entry], this_run: set[str], updated_at: str, dashboard_url: str | None, title: str
) -> str:
    """The index page: totals, a row per agency with counts, years, the run that wrote it, and links."""
    rows = []
    totals = dict.fromkeys(("reports", *SEVERITIES), 0)
    for e in sorted(entries, key=lambda e: e.agency):
        if e.ok:
            links = (
                f'<a href="{_href(e.directory, SHEET_HTML)}">页面</a> · '
                f'<a href="{_href(e.directory, SHEET_XLSX)}">Excel</a> · '
                f'<a href="{_href(e.directory, SHEET_NOTEBOOK)}">笔记本</a>'
            )
            status = "完成"
        else:
            links = f'<a href="{_href(e.directory, "error.txt")}">错误</a>'
            status = f"失败：{_esc(e.error or '')}"
        counts = [e.findings.get(s) for s in SEVERITIES]
        if e.reports is not None:
            totals["reports"] += e.reports
            for s, c in zip(SEVERITIES, counts, strict=True):
                totals[s] += c or 0
        cells = "".join(f'<td class="num">{"—" if c is None and e.reports is None else (c or 0)}</td>' for c in counts)
        fresh = ' class="fresh"' if e.agency in this_run else ""
        rows.append(
            f"<tr{fresh}><td>{_esc(e.agency)}</td><td class=\"num\">{'—' if e.reports is None else e.reports}</td>"
            f"<td>{years_text(e.years)}</td>{cells}<td>{_esc(e.run_at)}</td><td>{links}</td><td>{status}</td></tr>"
        )
    if dashboard_url:
        dash = (
            f'<p>仪表盘 (dashboard)：<a href="{_esc(dashboard_url)}">{_esc(dashboard_url)}</a>'
            f"（先运行 <code>{DASHBOARD_COMMAND}</code> · start it with <code>{DASHBOARD_COMMAND}</code>）</p>"
        )
    else:
        dash = f"<p>仪表盘 (dashboard)：运行 <code>{DASHBOARD_COMMAND}</code></p>"
    n_ok = sum(e.ok for e in entries)
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title><style>"
        "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}tr.fresh td:first-child{border-left:4px solid #2ca02c}"
        "</style></head><body>"
        f"<h1>{_esc(title)}</h1>"
        f"<p>更新于 (updated) {_esc(updated_at)} · 本次运行 {len(this_run)} 个机关（左侧绿线）· "
        f"共 {len(entries)} 个机关，{n_ok} 个完成 · 报告 {totals['reports']} 份 · "
        f"错误 {totals['error']} · 警告 {totals['warning']} · 提示 {totals['info']}</p>"
        f"{dash}"
        '<table><tr><th>机关</th><th>报告数</th><th>年度</th><th>错误</th><th>警告</th><th>提示</th>'
        "<th>生成于</th><th>文件</th><th>状态</th></tr>" + "".join(rows) + "</table></body></html>"
    )


def entry_dirs(out_dir: str | Path) -> dict[str, Path]:
    """agency → its sheet directory, for the sheets that exist (what the dashboard links to)."""
    out = Path(out_dir)
    found: dict[str, Path] = {}
    for name, e in read_manifest(out).items():
        d = out / e.directory
        with contextlib.suppress(OSError):
            if e.ok and (d / SHEET_HTML).is_file():
                found[name] = d
    return found
