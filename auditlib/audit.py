"""Run the rules over parsed reports: report rules one by one, corpus rules once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditlib.cache import Cache
from auditlib.corpus import Unreadable
from auditlib.findings import Finding
from auditlib.locate import locate
from auditlib.report import Report
from auditlib.rules import Context, load_all
from auditlib.vocab import severity_rank


def unreadable_finding(u: Unreadable) -> Finding:
    return Finding(
        source=u.source,
        agency=None,
        year=None,
        rule="INPUT_UNREADABLE",
        severity="error",
        location="整个文件",
        message=f"无法作为年度报告读取：{u.message} [{u.code}]",
        evidence=u.source,
        key=u.code,
    )


def rule_failed(item: Report, rule_id: str, exc: BaseException) -> Finding:
    """A rule that raised on one report: that report's finding, never the batch's end."""
    return Finding(
        source=item.source,
        agency=item.meta.agency,
        year=item.meta.year,
        rule="INPUT_UNREADABLE",
        severity="error",
        location="整个文件",
        message=f"审核规则 {rule_id} 无法处理该文件：{type(exc).__name__}: {str(exc)[:300]} "
        f"(rule {rule_id} failed on this file; its other checks ran)",
        evidence=item.source,
        digest=item.digest,
        key=f"RULE_FAILED:{rule_id}",
    )


def report_findings(
    item: Report, cache: Cache | None = None, chosen: list | None = None, ctx: Context | None = None
) -> list[Finding]:
    """One report's own findings (every report rule, or ``chosen``), each rule isolated."""
    if chosen is None:
        chosen = list(load_all().values())
    elif cache is not None and len(chosen) != len(load_all()):
        cache = None  # only the full set of findings is cached
    # Report rules depend on the report's content alone: their findings are cached with it.
    if cache is not None:
        hit = cache.get(item.digest, "findings")
        if isinstance(hit, list):
            for f in hit:
                f.source = item.source
            return hit
    ctx = ctx or Context(reports=[item])
    out: list[Finding] = []
    failed = False
    for r in chosen:
        if r.scope != "report":
            continue
        try:
            out.extend(r.check(item, ctx))
        except MemoryError:
            raise  # the budget's business: the worker reports the limit
        except Exception as exc:
            out.append(rule_failed(item, r.id, exc))
            failed = True
    if cache is not None and not failed:
        cache.put(item.digest, "findings", out)
    return out


def audit(
    items: Iterable[Report | Unreadable],
    rules: Iterable[str] | None = None,
    cache: Cache | None = None,
    agencies: dict[str, str] | None = None,
    decisions: Iterable[Mapping[str, Any]] | None = None,
) -> list[Finding]:
    """Every finding for the reports, in report order; unreadable files give INPUT_UNREADABLE.

    ``cache`` (only used when all rules run) keeps each report's own findings with its parse.
    ``agencies`` is the run's resolution of agency names (:func:`auditlib.agencies.resolve`),
    when the caller has made it already.
    ``decisions``: the auditors' earlier decisions (e.g. ``ReviewStore.decided_findings()``),
    for FOLLOWUP_OPEN; without them that rule stays silent.
    """
    registry = load_all()
    if rules is not None:
        cache = None
    chosen = [registry[r] for r in rules] if rules is not None else list(registry.values())
    items = list(items)
    reports = [r for r in items if isinstance(r, Report)]
    ctx = Context(reports=reports, agencies=agencies, decisions=[dict(d) for d in decisions or ()])
    by_source: dict[str, list[Finding]] = {}
    for item in items:
        if isinstance(item, Unreadable):
            by_source.setdefault(item.source, []).append(unreadable_finding(item))
            continue
        own = item.findings if item.findings is not None and rules is None else None
        if own is None:
            own = report_findings(item, cache, chosen, ctx)
        by_source.setdefault(item.source, []).extend(own)
    for r in chosen:
        if r.scope == "corpus":
            try:
                corpus_found = list(r.check(reports, ctx))
            except Exception as exc:
                # A corpus rule sees every report: when it breaks, every report says so.
                corpus_found = [rule_failed(rep, r.id, exc) for rep in reports]
            for f in corpus_found:
                by_source.setdefault(f.source, []).append(f)
    # Follow-up rules look at what the other rules found, so they come last.
    found = [f for fs in by_source.values() for f in fs]
    for r in chosen:
        if r.scope == "followup":
            for f in r.check(found, reports, ctx):
                by_source.setdefault(f.source, []).append(f)
    findings: list[Finding] = []
    for item in items:
        fs = by_source.get(item.source, [])
        fs.sort(key=lambda f: severity_rank(f.severity))
        findings.extend(fs)
    _locate(findings, reports, cache)
    return findings


def _locate(findings: list[Finding], reports: list[Report], cache: Cache | None) -> None:
    """Where each finding stands in its file (page and box in a PDF, span in the text).

    A PDF is opened again for this, so the places found are kept in the cache with
    the report's content: a finding's id fixes its place.
    """
    todo: list[Finding] = []
    digests = {r.source: r.digest for r in reports}
    known: dict[str, dict] = {}
    for f in findings:
        digest = digests.get(f.source)
        if cache is None or not digest:
            todo.append(f)
            continue
        if digest not in known:
            hit = cache.get(digest, "places")
            known[digest] = hit if isinstance(hit, dict) else {}
        place = known[digest].get(f.id)
        if place is None:
            todo.append(f)
        else:
            f.page, f.bbox, f.span = place
    if not todo:
        return
    locate(todo, reports)
    if cache is not None:
        for f in todo:
            digest = digests.get(f.source)
            if digest:
                known.setdefault(digest, {})[f.id] = (f.page, f.bbox, f.span)
        for digest in {digests.get(f.source) for f in todo} - {None, ""}:
            cache.put(digest, "places", known[digest])
