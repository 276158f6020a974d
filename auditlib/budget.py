"""A budget per file: each report is parsed and audited in a worker process under limits.

A hostile file (a zip bomb, a table of a million merged cells, a PDF of a
thousand pages, a megabyte of one endless sentence) must cost at most its
budget and then become that file's ``INPUT_UNREADABLE`` finding, never the
batch's end. The readers check what they can as they go (pages, cells,
unpacked bytes, characters: :data:`auditlib.limits.LIMITS`); what only shows while running is
bounded here, from outside: the worker's address space is capped (an
allocation past it raises ``MemoryError`` inside the worker) and the parent
kills a worker that overruns its time. One worker serves many files, so the
common path pays one process start per batch, not one per file.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from auditlib import limits
from auditlib.limits import MEMORY_BYTES, SECONDS, limit_error


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Have the kernel send ``sig`` to this process when its parent dies (Linux), so that
    a ``kill -9`` of a batch leaves no worker behind parsing or holding memory."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(sig), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker still ends at its pipe's EOF
        pass
    if os.getppid() == 1:  # the parent is already gone
        os._exit(1)


# ------------------------------------------------------------------ the worker
_caches: dict[str, Any] = {}  # in the worker: one Cache per folder, its key read once


def _work(path: str, cache_dir: str | None, audit: bool) -> tuple[Any, list | None]:
    from auditlib.audit import report_findings
    from auditlib.cache import Cache
    from auditlib.corpus import load_one
    from auditlib.report import Report

    cache = None
    if cache_dir is not None:
        cache = _caches.get(cache_dir) or _caches.setdefault(cache_dir, Cache(cache_dir))
    item = load_one(path, cache)
    findings = None
    if audit and isinstance(item, Report):
        findings = report_findings(item, cache)
    return item, findings


def _serve(fd: int, memory: int) -> None:
    """The worker's loop: one file in, (status, item, findings, peak RSS) out."""
    from multiprocessing.connection import Connection

    die_with_parent()
    import auditlib.audit
    import auditlib.corpus
    import auditlib.ingest.docx
    import auditlib.ingest.html
    import auditlib.ingest.pdf
    import auditlib.ingest.text

    auditlib.audit.load_all()
    limits.set_memory_cap(memory)
    conn = Connection(fd)
    limits.connect(conn)
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            item, findings = _work(*job)
            out = ("ok", item, findings)
        except MemoryError:
            out = ("memory", None, None)
        except Exception as exc:  # anything a parser raises is this file's problem
            out = ("error", f"{type(exc).__name__}: {str(exc)[:300]}", None)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if out[0] == "ok" and getattr(out[1], "code", None) == "MEMORY_LIMIT":
            out = ("memory", None, None)
        try:
            conn.send((*out, peak))
        except MemoryError:
            conn.send(("memory", None, None, peak))
        if out[0] == "memory":
            return  # a heap left half-built by a failed allocation is not reused


class Worker:
    """Parses (and audits) files one at a time in a child process under a budget.

    The child is a fresh interpreter (``python -m auditlib.budget``), not a fork:
    the caller may be a Jupyter kernel or the dashboard, with threads and sockets
    a fork would copy. Use as a context manager, or call :meth:`close`. A worker
    stopped for overrunning is replaced for the next file.
    """

    def __init__(self, seconds: float = SECONDS, memory: int = MEMORY_BYTES, cache_dir: str | None = None) -> None:
        self.seconds = seconds
        self.memory = memory
        self.cache_dir = cache_dir
        self.proc: subprocess.Popen | None = None
        self.conn: Any = None
        self.peak = 0  # the largest resident size a worker reached, in bytes
        self.seconds_used = 0.0  # processor time the last file took
        self._cpu0 = 0.0
        self._lock = threading.Lock()

    def _start(self) -> None:
        from multiprocessing.connection import Connection

        ours, theirs = socket.socketpair()
        pkg_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([pkg_root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))])
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _WORKER_MAIN, str(theirs.fileno()), str(self.memory)],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        # A fresh worker imports pandas, lxml and pdfminer first: not the file's time.
        if not (self.conn.poll(_STARTUP_SECONDS) and self.conn.recv() == "ready"):
            self._kill()
            raise RuntimeError("auditlib: the parsing worker did not start")
        self._cpu0 = self._cpu()  # its imports are not the first file's time

    def _kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(Exception):
                self.proc.wait(5)
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        self.proc = self.conn = None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.conn.send(None)
                self.proc.wait(2)
        self._kill()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self._kill()

    def run(self, path: str, audit: bool = True) -> tuple[Any, list | None]:
        """``(Report | Unreadable, the report's own findings | None)`` for one file."""
        for _source, item, findings in self.run_many([path], audit):
            return item, findings
        raise AssertionError("unreachable")

    def run_many(self, paths: Iterable[str | os.PathLike[str]], audit: bool = True) -> Iterator[tuple[str, Any, list | None]]:
        """``(source, Report | Unreadable, its own findings | None)`` for each file, in order.

        The next file is handed over before this one's answer is read, so that the
        worker never waits for the caller (on a busy machine every wait for a turn
        costs milliseconds). A file stopped for its budget takes only itself down:
        those queued behind it go to the next worker.
        """
        with self._lock:  # one batch at a time, whichever thread asks
            pending: deque[str] = deque()
            todo = iter(paths)
            try:
                while True:
                    while len(pending) < _AHEAD and (p := next(todo, None)) is not None:
                        self._send(str(p), audit)
                        pending.append(str(p))
                    if not pending:
                        return
                    source = pending[0]
                    item, findings = self._result(source)
                    pending.popleft()
                    if self.proc is None and pending:  # stopped: the files queued behind go again
                        for queued in pending:
                            self._send(queued, audit)
                    yield source, item, findings
            finally:
                if pending:  # left unread: a worker holding answers nobody asked for is no use
                    self._kill()

    def _send(self, source: str, audit: bool) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._kill()
            self._start()
        with contextlib.suppress(OSError):  # a worker that died is found at its answer
            self.conn.send((source, self.cache_dir, audit))

    def _cpu(self) -> float:
        """The worker's processor time so far, in seconds (user + system)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, IndexError, ValueError, AttributeError):
            return 0.0

    def _answer(self) -> Any:
        """The worker's reply for the file it is on, or None once that file has had its time.

        Time is the worker's processor time since its previous answer, not the clock:
        on a machine shared by many jobs a real report may wait for a core, and
        waiting is not the file's doing. The clock still stops one that makes no
        progress at all.
        """
        t0 = time.monotonic()
        step = 0.02
        budget = self.seconds
        while True:
            if self.conn.poll(step):
                reply = self.conn.recv()
                if isinstance(reply, tuple) and reply[:1] == ("allow",):
                    budget += reply[1]  # the reader found work it may take longer for
                    continue
                break
            self.seconds_used = self._cpu() - self._cpu0
            if self.seconds_used > budget or time.monotonic() - t0 > budget * _WALL_FACTOR:
                return None
            step = min(step * 2, 0.5)
        cpu = self._cpu()
        self.seconds_used, self._cpu0 = cpu - self._cpu0, cpu  # the next file starts now
        return reply

    def _result(self, source: str) -> tuple[Any, list | None]:
        from auditlib.corpus import Unreadable

        try:
            reply = self._answer()
        except (EOFError, OSError):
            reply = ("died", None, None, 0)
        if reply is None:
            self._kill()
            return _unreadable(Unreadable, source, "TIME_LIMIT", int(self.seconds)), None
        status, a, b, peak = reply
        self.peak = max(self.peak, peak)
        if status == "ok":
            return a, b
        if status == "memory":
            self._kill()
            return _unreadable(Unreadable, source, "MEMORY_LIMIT", self.memory), None
        if status == "died":
            code = self.proc.wait(5) if self.proc is not None else None
            self._kill()
            if code == -signal.SIGKILL:  # the kernel's OOM killer, or someone's kill -9
                return _unreadable(Unreadable, source, "MEMORY_LIMIT", self.memory), None
            return Unreadable(source, "PARSE_FAILED", f"解析进程意外退出（{code}）(the parsing process died)"), None
        return Unreadable(source, "PARSE_FAILED", f"解析失败：{a} (parser failed)"), None


# Files handed to the worker ahead of the one being answered.
_AHEAD = 2


_STARTUP_SECONDS = 60.0
_TICKS = os.sysconf("SC_CLK_TCK")
# The clock's allowance over the processor-time budget, for a machine that is busy.
_WALL_FACTOR = 4
_shared: dict[str | None, Worker] = {}


def shared_worker(cache_dir: str | None) -> Worker:
    """One worker per cache for the life of this process: a notebook or a test suite that
    loads reports again and again starts it once."""
    w = _shared.get(cache_dir)
    if w is not None and w._lock.locked():
        # Busy with another batch (a second loader in this thread, or another thread):
        # a worker of its own, stopped when it is dropped.
        return Worker(cache_dir=cache_dir)
    if w is None:
        w = _shared[cache_dir] = Worker(cache_dir=cache_dir)
        atexit.register(w.close)
    return w


def _unreadable(cls: Any, source: str, code: str, amount: int) -> Any:
    exc = limit_error(code, amount)
    return cls(source, exc.code, exc.message)


_WORKER_MAIN = "import sys; from auditlib.budget import _serve; _serve(int(sys.argv[1]), int(sys.argv[2]))"
