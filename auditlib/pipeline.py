"""The one batch step: load every report under some paths, audit them together, summarise.

``auditlib audit``, ``auditlib sheets``, the dashboard's :func:`auditlib.summary.load_or_build`
and the notebooks all call :func:`audit_folder`, so a run reads files, resolves agency
names and writes the dashboard's summary the same way wherever it starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from auditlib import summary as summaries
from auditlib.agencies import resolve
from auditlib.audit import audit
from auditlib.cache import Cache
from auditlib.corpus import Unreadable, load_reports
from auditlib.findings import Finding
from auditlib.report import Report

Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


@dataclass
class Audited:
    """A loaded and audited corpus: what every output of a run is made from."""

    items: list[Report | Unreadable]
    findings: list[Finding]
    # Every agency name as written → the corpus's canonical name, resolved once for the run
    # (see :mod:`auditlib.agencies`); the rules, the summary and the sheets all read this one.
    agencies: dict[str, str] = field(default_factory=dict)
    summary: summaries.Summary | None = None

    def __iter__(self) -> Iterator[Any]:
        # ``items, findings = audit_folder(...)`` reads as the pair it is for most callers.
        return iter((self.items, self.findings))

    @property
    def reports(self) -> list[Report]:
        return [r for r in self.items if isinstance(r, Report)]


def audit_folder(
    paths: Paths, cache: Cache | None = None, decisions: Iterable[Mapping[str, Any]] | None = None
) -> Audited:
    """Load, audit and summarise the reports under ``paths`` (files or folders, recursively).

    Sources read as the paths were given. With a ``cache`` the parses and each report's own
    findings are reused, and the summary is stored there for the dashboard; without one
    every file is parsed again and no summary is built. ``decisions`` (the review store's
    ``decided_findings()``) let findings confirmed last year be followed up (FOLLOWUP_OPEN).
    """
    given = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    # Taken before the files are read: a file changed meanwhile makes the summary stale.
    files = summaries.snapshot(given) if cache is not None else {}
    items = load_reports(given, cache=cache if cache is not None else False)
    agencies = resolve(r.meta.agency for r in items if isinstance(r, Report))
    findings = audit(items, cache=cache, agencies=agencies, decisions=decisions)
    run = Audited(items, findings, agencies)
    if cache is not None:
        run.summary = summaries.build(given, files, items, findings, agencies=agencies)
        summaries.save(run.summary, cache)
    return run
