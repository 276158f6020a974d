"""Where the agencies' sheets run: a registry of executors, in the manner of papermill's engines.

An executor takes the run's :class:`~auditlib.render.Task` list and yields
``(task, result)`` as sheets finish, in any order. ``local`` runs them in worker
processes on this machine; ``dask`` on a Dask distributed cluster. Either way a
worker keeps its warm kernel (:mod:`auditlib.kernels`) from one agency to the
next. Another executor is a class with ``results(tasks, shared)`` registered
under a name with :func:`register`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from auditlib.files import atomic_path, safe_dirname
from auditlib.render import (
    ERROR_FILE,
    FAILED_NOTEBOOK,
    SHEET_HTML,
    SHEET_NOTEBOOK,
    SHEET_XLSX,
    SheetResult,
    Task,
    render,
)


@dataclass
class Shared:
    """What every task of a run shares: the corpus frame's file and the review database."""

    peers: Path
    review_db: Path


class Executor(Protocol):
    def results(self, tasks: list[Task], shared: Shared) -> Iterable[tuple[Task, SheetResult]]: ...


EXECUTORS: dict[str, Callable[..., Executor]] = {}


def register(name: str) -> Callable[[type], type]:
    def add(cls: type) -> type:
        EXECUTORS[name] = cls
        return cls

    return add


def get_executor(name: str, **options: Any) -> Executor:
    try:
        factory = EXECUTORS[name]
    except KeyError:
        raise ValueError(f"未知的执行方式 {name!r}（unknown executor; known: {', '.join(sorted(EXECUTORS))}）") from None
    return factory(**options)


def _worker_init() -> None:
    from auditlib.budget import die_with_parent

    # SIGTERM raised as SystemExit, not SIGKILL: papermill's kernel manager then
    # shuts its kernel down on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    die_with_parent(signal.SIGTERM)


def _died(task: Task, exc: BaseException) -> SheetResult:
    return SheetResult(task.agency, Path(task.directory), False, 0.0, f"{type(exc).__name__}: {exc}")


@register("local")
class LocalExecutor:
    """``jobs`` worker processes on this machine, each with its warm kernel."""

    def __init__(self, jobs: int | None = None, **_: Any) -> None:
        self.jobs = jobs

    def results(self, tasks: list[Task], shared: Shared) -> Iterable[tuple[Task, SheetResult]]:
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from multiprocessing import get_context

        workers = max(1, min(self.jobs or os.cpu_count() or 1, len(tasks) or 1))
        # spawn: a forked copy of this process (threads, open sockets) is no
        # place to start Jupyter kernels from.
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_init
        ) as pool:
            futures = {pool.submit(render, t): t for t in tasks}
            for fut in as_completed(futures):
                t = futures[fut]
                try:
                    yield t, fut.result()
                except Exception as exc:  # the worker itself died
                    yield t, _died(t, exc)


def run_remote(
    task: Task, payload_bytes: bytes, peers_bytes: bytes, db_bytes: bytes | None
) -> tuple[SheetResult, dict[str, bytes]]:
    """One sheet on a cluster worker that may share no disk with us: the inputs travel
    with the task, the outputs come back as bytes, and the caller writes them."""
    from auditlib.sheets import PEERS_FILE

    with tempfile.TemporaryDirectory(prefix="auditlib-sheet-") as tmp:
        root = Path(tmp)
        cache = root / "audit_cache.pkl"
        cache.write_bytes(payload_bytes)
        (root / PEERS_FILE).write_bytes(peers_bytes)
        params = dict(task.parameters, audit_cache=str(cache), output_dir=str(root / "out"))
        if db_bytes is not None:
            (root / "audit.db").write_bytes(db_bytes)
            params["review_db"] = str(root / "audit.db")
        local = Task(
            task.agency, str(root / "out"), task.notebook, params, task.timeout, task.pythonpath, task.fingerprint
        )
        res = render(local)
        # The sheet's files and its evidence/ pictures, by path relative to the sheet.
        done = root / "out"
        files = {
            p.relative_to(done).as_posix(): p.read_bytes()
            for p in done.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(done).parts)
        }
    return SheetResult(task.agency, Path(task.directory), res.ok, res.seconds, res.error), files


def db_snapshot(db: Path) -> bytes | None:
    """A consistent copy of the review database (WAL included) to ship to workers."""
    import sqlite3

    if not db.exists():
        return None
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / "snap.db"
        src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return copy.read_bytes()


# The notebook last: it carries the fingerprint that says the files beside it are whole.
_WRITE_ORDER = {SHEET_HTML: 0, SHEET_XLSX: 1, ERROR_FILE: 2, FAILED_NOTEBOOK: 3, SHEET_NOTEBOOK: 9}


@register("dask")
class DaskExecutor:
    """A Dask distributed cluster at ``scheduler`` (``tcp://host:8786``); its workers need auditlib installed.

    Each worker process keeps a warm kernel per worker thread between tasks.
    """

    def __init__(self, scheduler: str, **_: Any) -> None:
        self.scheduler = scheduler

    def results(self, tasks: list[Task], shared: Shared) -> Iterable[tuple[Task, SheetResult]]:
        from distributed import Client, as_completed

        db_bytes = db_snapshot(shared.review_db)
        with Client(self.scheduler) as client:
            # The shared inputs go once to each worker; each agency's own file goes with its task.
            peers_f = client.scatter(shared.peers.read_bytes(), broadcast=True)
            db_f = client.scatter(db_bytes, broadcast=True)
            futures = {
                client.submit(
                    run_remote,
                    t,
                    Path(t.parameters["audit_cache"]).read_bytes(),
                    peers_f,
                    db_f,
                    pure=False,
                    key=f"sheet-{i}",
                ): t
                for i, t in enumerate(tasks)
            }
            for fut in as_completed(futures):
                t = futures[fut]
                try:
                    res, files = fut.result()
                except Exception as exc:
                    yield t, _died(t, exc)
                    continue
                yield t, _gather(t, res, files)


def _gather(t: Task, res: SheetResult, files: dict[str, bytes]) -> SheetResult:
    d = Path(t.directory)
    d.mkdir(parents=True, exist_ok=True)
    for name in sorted(files, key=lambda n: _WRITE_ORDER.get(n, 5)):
        target = d.joinpath(*(safe_dirname(part) for part in name.split("/")))
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_bytes(files[name])
    if res.ok:
        for stale in (ERROR_FILE, FAILED_NOTEBOOK):
            with contextlib.suppress(FileNotFoundError):
                (d / stale).unlink()
    res.files = [d / n for n in (SHEET_NOTEBOOK, SHEET_HTML, SHEET_XLSX) if (d / n).exists()]
    return res
