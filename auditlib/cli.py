"""Command line: ``auditlib parse|audit|rules|sheets|dashboard`` (see CONTRACT.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from auditlib.corpus import Unreadable, iter_reports
from auditlib.report import Report
from auditlib.vocab import SEVERITY


def _emit(obj: dict) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


def _progress(items: Iterable, total: int | None, show: bool, desc: str) -> Iterable:
    if not show:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="份", file=sys.stderr, leave=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="auditlib")
def main() -> None:
    """Audit workbench for 政府信息公开工作年度报告."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per report, one per line.")
@click.option(
    "--explain", is_flag=True,
    help="Also show how each table was found: page, rows matched, labels as printed, cells left empty and why "
    "(on stderr with --json).",
)
def parse(paths: tuple[str, ...], as_json: bool, explain: bool) -> None:
    """Parse reports (files or folders) and print what was read."""
    failed = False
    for item in iter_reports(paths):
        if isinstance(item, Unreadable):
            failed = True
            if as_json:
                _emit(item.to_json())
            else:
                click.echo(f"✗ {item.source}\n    无法读取 [{item.code}] {item.message}\n")
            continue
        if as_json:
            _emit(item.to_json())
        else:
            click.echo(_summary(item))
        if explain:
            from auditlib.explain import explain as explain_report

            # The JSON lines stay machine-readable: the account goes to stderr then.
            click.echo(explain_report(item), err=as_json)
    sys.exit(1 if failed else 0)


def _summary(r: Report) -> str:
    m = r.meta
    t3 = r.tables["table3"]
    lines = [
        f"✓ {r.source}",
        f"    机关 {m.agency or '（未知）'} · {m.year or '?'}年度 · {r.format or '?'}版格式",
        f"    落款 {m.signed_on or '—'} · 发布 {m.published_on or '—'} · 章节 {''.join(r.sections) or '无'}",
        f"    表三 本年新收 {t3.get('new_received', 'total')} · 办理总计 {t3.get('total_handled', 'total')}"
        f" · 结转下年度 {t3.get('carried_forward', 'total')}",
    ]
    for w in r.warnings:
        lines.append(f"    ⚠ {w}")
    return "\n".join(lines) + "\n"


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per finding, one per line.")
@click.option("--no-cache", is_flag=True, help="Parse every file again instead of using the parse cache.")
@click.option(
    "--deadlines",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A deadline table (region,kind,deadline[,basis] CSV) over the packaged one; same as $AUDITLIB_DEADLINES.",
)
def audit(paths: tuple[str, ...], as_json: bool, no_cache: bool, deadlines: str | None) -> None:
    """Parse and audit reports; reports of one agency are audited across years."""
    import os

    from auditlib.cache import Cache
    from auditlib.pipeline import audit_folder
    from auditlib.rules.deadlines import ENV, Deadlines, DeadlineTableError

    if deadlines:
        # Through the environment, so that every step of the run (and its kernels) applies it.
        os.environ[ENV] = os.pathsep.join(p for p in (os.environ.get(ENV), deadlines) if p)
    try:
        Deadlines.load()  # a broken table is a usage error before any work, not a crash after it
    except DeadlineTableError as exc:
        raise click.UsageError(str(exc)) from exc
    # With the cache, this also stores the summary the dashboard reads instead of auditing again.
    run = audit_folder(paths, None if no_cache else Cache())
    items, findings = run.items, run.findings
    if as_json:
        for f in findings:
            _emit(f.to_json())
        return
    by_source: dict[str, list] = {}
    for f in findings:
        by_source.setdefault(f.source, []).append(f)
    for item in items:
        fs = by_source.get(item.source, [])
        head = item.source
        if isinstance(item, Report):
            head += f"  {item.meta.agency or '（未知机关）'} {item.meta.year or ''}"
        click.echo(f"{head}  — {len(fs)} 项发现" if fs else f"{head}  — 未发现问题")
        for f in fs:
            click.echo(f"  {SEVERITY[f.severity].icon if f.severity in SEVERITY else '-'} {f.rule:<20} {f.location}")
            click.echo(f"      {f.message}")
            if f.evidence:
                click.echo(f"      原文：{f.evidence[:160]}")
        click.echo("")


@main.command()
@click.option("--markdown", is_flag=True, help="As the Markdown table the README carries.")
def rules(markdown: bool) -> None:
    """List the rule catalogue."""
    from auditlib.rules import catalogue

    if markdown:
        click.echo(catalogue.markdown())
        return
    for r in catalogue.rules_sorted():
        click.echo(f"{r.id:<22} {r.severity:<8} {r.title_zh}\n{'':<31} {r.title_en}")


@main.command()
@click.argument("reports", required=False, default="reports_in/", type=click.Path(exists=True))
@click.option("--out", "out_dir", default="outputs/", show_default=True, type=click.Path(file_okay=False),
              help="Where each agency's folder (notebook, HTML, Excel) goes.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Agencies run at once (default: one per CPU).")
@click.option("--review-db", type=click.Path(dir_okay=False), default=None,
              help="Auditors' decisions database (default: OUT/audit.db).")
@click.option("--agency", "agencies", multiple=True, help="Only this agency (repeatable).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on an existing Dask distributed cluster (e.g. tcp://10.0.0.5:8786) instead of local processes.")
def sheets(
    reports: str, out_dir: str, jobs: int | None, review_db: str | None, agencies: tuple[str, ...], scheduler: str | None
) -> None:
    """Write an audit sheet (notebook, HTML, Excel) for every agency in REPORTS."""
    from auditlib.review import ReviewStoreError
    from auditlib.sheets import run_sheets

    try:
        results = run_sheets(
            reports, out_dir, jobs=jobs, review_db=review_db, agencies=agencies or None, scheduler=scheduler
        )
    except ReviewStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if not results:
        click.echo("没有找到可生成审计表的机关 (no agency found)", err=True)
        sys.exit(1)
    failed = [r for r in results if not r.ok]
    for r in results:
        click.echo(f"{'✓' if r.ok else '✗'} {r.agency}  {r.directory}" + (f"\n    {r.error}" if r.error else ""))
    out = Path(out_dir).resolve()
    click.echo(f"\n{len(results) - len(failed)} 个机关的审计表已写入 {out}（总览：{out / 'index.html'}）")
    if failed:
        click.echo(f"{len(failed)} 个机关失败，见各自目录下的 error.txt", err=True)
        sys.exit(1)


@main.group()
def review() -> None:
    """Auditors' decisions: back them up or export them."""


def _store(db: str):
    from auditlib.review import ReviewStore, ReviewStoreError

    if not Path(db).exists():
        raise click.ClickException(f"审核数据库不存在：{db} (review database not found)")
    try:
        return ReviewStore(db)
    except ReviewStoreError as exc:
        raise click.ClickException(str(exc)) from exc


@review.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--db", default="outputs/audit.db", show_default=True, type=click.Path(dir_okay=False))
def review_backup(dest: str, db: str) -> None:
    """Write every decision ever made (with history) to DEST (.json, else CSV)."""
    path = _store(db).backup(dest)
    click.echo(f"已备份全部审核决定到 {path} (all decisions written)")


@review.command("export")
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--db", default="outputs/audit.db", show_default=True, type=click.Path(dir_okay=False))
def review_export(dest: str, db: str) -> None:
    """Export the reviewed findings to an Excel workbook DEST."""
    path = _store(db).export_excel(dest)
    click.echo(f"已导出审核结果到 {path} (reviewed findings exported)")


@main.command()
@click.argument("reports", required=False, default="reports_in", type=click.Path(exists=True))
@click.option("--db", default="outputs/audit.db", show_default=True, help="Review database.")
@click.option("--port", type=int, default=8866, show_default=True, help="Port (outputs/index.html links to the default).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--expose", is_flag=True, help="Allow binding an address other than 127.0.0.1/localhost (requires a token).")
@click.option("--token", default=None, help="Access token (generated when --expose is given without one).")
@click.option(
    "--no-preheat", is_flag=True, help="Start a kernel per visit instead of keeping one ready (slower first page)."
)
@click.option("--sheets", "sheets_dir", default=None, type=click.Path(file_okay=False),
              help="Folder of the audit sheets the ranking links to (default: the database's folder).")
@click.option("--max-kernels", type=click.IntRange(min=2), default=16, show_default=True,
              help="Visits served at once; more wait for a free kernel.")
@click.option("--cull-idle", type=click.IntRange(min=10), default=300, show_default=True,
              help="Seconds before the kernel of a closed page is shut down.")
def dashboard(
    reports: str, db: str, port: int | None, host: str, expose: bool, token: str | None, no_preheat: bool,
    sheets_dir: str | None, max_kernels: int, cull_idle: int,
) -> None:
    """Serve the supervisors' Voilà dashboard; blocks until Ctrl-C."""
    from auditlib.dashboard import DashboardError, serve

    try:
        server = serve(
            reports, db, port=port, host=host, token=token, expose=expose, quiet=True, preheat=not no_preheat,
            sheets=sheets_dir, max_kernels=max_kernels, cull_idle=cull_idle,
        )
    except DashboardError as exc:
        raise click.ClickException(str(exc)) from exc
    import signal

    def _stop(*_):  # a SIGTERM stops Voilà too, like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.wait()
        click.echo(f"仪表盘 (dashboard): {server.url}\n按 Ctrl-C 停止 (Ctrl-C to stop)")
        server.process.wait()
    except KeyboardInterrupt:
        pass
    except DashboardError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        server.stop()


if __name__ == "__main__":
    main()
