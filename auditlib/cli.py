"""Command line: ``auditlib parse|audit|rules|sheets|dashboard`` (see CONTRACT.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from auditlib import serving
from auditlib.corpus import Unreadable, iter_reports
from auditlib.findings import printable
from auditlib.report import Report
from auditlib.vocab import SEVERITY


def _emit(obj: dict) -> None:
    line = json.dumps(obj, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        # A file name that is not UTF-8: as \udcXX escapes the line stays valid UTF-8 JSON,
        # and json.loads + os.fsencode give the file's real name back.
        line = json.dumps(obj)
    click.echo(line)


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
                click.echo(f"✗ {printable(item.source)}\n    无法读取 [{item.code}] {item.message}\n")
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
        f"✓ {printable(r.source)}",
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
@click.option("--review-db", type=click.Path(dir_okay=False), default=None,
              help="Auditors' decisions database: findings confirmed on last year's reports are followed up (FOLLOWUP_OPEN).")
def audit(paths: tuple[str, ...], as_json: bool, no_cache: bool, deadlines: str | None, review_db: str | None) -> None:
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
    decisions = _store(review_db).decided_findings() if review_db else None
    run = audit_folder(paths, None if no_cache else Cache(), decisions=decisions)
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
        head = printable(item.source)
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
@click.argument("finding_id")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--image", type=click.Path(dir_okay=False), default=None,
              help="Where to write the page image (default: outputs/evidence/FINDING_ID.png).")
@click.option("--review-db", type=click.Path(dir_okay=False), default=None,
              help="Decisions database, for FOLLOWUP_OPEN findings.")
def show(finding_id: str, paths: tuple[str, ...], image: str | None, review_db: str | None) -> None:
    """Print one finding's evidence where it stands; for a PDF, write its page with the place boxed.

    FINDING_ID is the finding's id (as in the sheets, the stepper and the review export),
    or an unambiguous start of it; PATHS default to reports_in/.
    """
    from auditlib.cache import Cache
    from auditlib.locate import report_text
    from auditlib.pipeline import audit_folder
    from auditlib.rules import load_all

    paths = paths or ("reports_in",)
    for p in paths:
        if not Path(p).exists():
            raise click.UsageError(f"找不到报告路径：{p} (no such path)")
    decisions = _store(review_db).decided_findings() if review_db else None
    items, findings = audit_folder(paths, Cache(), decisions=decisions)
    found = [f for f in findings if f.id.startswith(finding_id.strip())]
    if not found:
        raise click.ClickException(f"没有这项发现：{finding_id} (no finding with this id in {', '.join(paths)})")
    if len({f.id for f in found}) > 1:
        raise click.ClickException(f"编号 {finding_id} 不唯一，请多写几位 (ambiguous id: {len(found)} findings)")
    f = found[0]
    title = load_all()[f.rule].title_zh if f.rule in load_all() else ""
    lines = [
        f"{f.id}  {f.rule} {title}",
        f"机关 {f.agency or '（未知）'} · {f.year or '?'}年度 · {f.source}",
        f"位置 {f.location}",
        f"说明 {f.message}",
    ]
    if f.expected is not None or f.actual is not None:
        lines.append(f"预期 {f.expected} · 实际 {f.actual}")
    lines.append("原文：" + (f.evidence or "（无）"))
    report = next((r for r in items if isinstance(r, Report) and r.source == f.source), None)
    if f.span and report is not None:
        text = report_text(report)
        s, e = f.span
        lines.append(f"字符位置 {s}–{e}：…{text[max(0, s - 40):s]}【{text[s:e]}】{text[e:e + 40]}…")
    if f.page:
        lines.append(f"PDF 第 {f.page} 页" + (f"，框 {f.bbox}（x0, top, x1, bottom，单位：点）" if f.bbox else ""))
    click.echo("\n".join(lines))
    if f.page and f.bbox:
        from auditlib.pageimage import write_page_image

        out = write_page_image(f.source, f.page, f.bbox, image or Path("outputs") / "evidence" / f"{f.id}.png")
        click.echo(f"页面图像（已框出）：{out}")


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
@click.option("--force", is_flag=True,
              help="Render every sheet again, also those whose reports, findings and decisions have not changed.")
def sheets(
    reports: str,
    out_dir: str,
    jobs: int | None,
    review_db: str | None,
    agencies: tuple[str, ...],
    scheduler: str | None,
    force: bool,
) -> None:
    """Write an audit sheet (notebook, HTML, Excel) for every agency in REPORTS."""
    from auditlib.review import ReviewStoreError
    from auditlib.sheets import run_sheets

    try:
        results = run_sheets(
            reports, out_dir, jobs=jobs, review_db=review_db, agencies=agencies or None, scheduler=scheduler, force=force
        )
    except ReviewStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if not results:
        click.echo("没有找到可生成审计表的机关 (no agency found)", err=True)
        sys.exit(1)
    failed = [r for r in results if not r.ok]
    for r in results:
        mark = "✗" if not r.ok else "=" if r.skipped else "✓"
        click.echo(f"{mark} {r.agency}  {r.directory}" + (f"\n    {r.error}" if r.error else ""))
    out = Path(out_dir).resolve()
    kept = sum(r.skipped for r in results)
    click.echo(f"\n{len(results) - len(failed)} 个机关的审计表已写入 {out}（总览：{out / 'index.html'}）")
    if kept:
        click.echo(f"其中 {kept} 个机关的报告、发现和审核意见未变，审计表保留未重做（=；--force 全部重做）")
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
@click.argument("paths", nargs=-1, required=False, type=click.Path(exists=True))
@click.option("--out", "out_dir", required=False, type=click.Path(file_okay=False), help="Folder for the notices.")
@click.option("--db", default="outputs/audit.db", show_default=True, type=click.Path(dir_okay=False),
              help="Review database holding the auditors' decisions.")
@click.option("--template", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Your own .docx template (see --write-template for the placeholders).")
@click.option("--reply-days", type=click.IntRange(min=1), default=None,
              help="Days the agency has to reply (default 15).")
@click.option("--deadline", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Reply deadline (YYYY-MM-DD).")
@click.option("--issuer", default="政务公开工作主管部门", show_default=True, help="Who sends the notices.")
@click.option("--write-template", type=click.Path(dir_okay=False), default=None,
              help="Copy the default template to this file for editing, and stop.")
def notices(
    paths: tuple[str, ...],
    out_dir: str | None,
    db: str,
    template: str | None,
    reply_days: int | None,
    deadline,
    issuer: str,
    write_template: str | None,
) -> None:
    """Write a 整改通知 (.docx) per agency with confirmed findings, and an Excel list of them."""
    import datetime as dt

    from auditlib import notices as nt
    from auditlib.cache import Cache
    from auditlib.clock import today
    from auditlib.findings import findings_frame
    from auditlib.pipeline import audit_folder

    if write_template:
        click.echo(f"默认模板已复制到 {nt.copy_template(write_template)} (template written)")
        return
    if not paths or not out_dir:
        raise click.UsageError("需要报告路径和 --out 目录 (PATH... and --out DIR are required)")
    if reply_days is not None and deadline is not None:
        raise click.UsageError("--reply-days 与 --deadline 只能给一个 (give one of them)")
    store = _store(db)
    found = audit_folder(paths, Cache(), decisions=store.decided_findings()).findings
    frame = store.status_frame(findings_frame(found))
    issued = today()
    due = deadline.date() if deadline else issued + dt.timedelta(days=reply_days or nt.REPLY_DAYS)
    try:
        written = nt.write_notices(frame.to_dict("records"), out_dir, template, issued, due, issuer)
    except nt.NoticeError as exc:
        raise click.ClickException(str(exc)) from exc
    if not written:
        click.echo("没有经审核确认的问题，未生成整改通知 (no confirmed findings, no notice written)")
        return
    for n in written:
        click.echo(f"✓ {n.agency}：{len(n.findings)} 项  {n.path}")
    click.echo(f"\n{len(written)} 份整改通知，清单：{Path(out_dir) / nt.LIST_NAME}（回复期限 {due.isoformat()}）")


@main.command()
@click.argument("reports", required=False, default="reports_in", type=click.Path(exists=True))
@click.option("--db", default="outputs/audit.db", show_default=True, help="Review database.")
@click.option("--port", type=int, default=serving.DEFAULT_PORT, show_default=True, help="Port (outputs/index.html links to the default).")
@click.option("--host", default=serving.DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--expose", is_flag=True, help="Allow binding an address other than 127.0.0.1/localhost (requires a token).")
@click.option("--token", default=None, help="Access token (generated when --expose is given without one).")
@click.option(
    "--no-preheat", is_flag=True, help="Start a kernel per visit instead of keeping one ready (slower first page)."
)
@click.option("--sheets", "sheets_dir", default=None, type=click.Path(file_okay=False),
              help="Folder of the audit sheets the ranking links to (default: the database's folder).")
@click.option("--max-kernels", type=click.IntRange(min=2), default=serving.MAX_KERNELS, show_default=True,
              help="Visits served at once; more wait for a free kernel.")
@click.option("--cull-idle", type=click.IntRange(min=10), default=serving.CULL_IDLE, show_default=True,
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
