"""Warm kernels for papermill: one kernel per worker (thread) runs notebook after notebook.

A kernel start with the sheet's imports costs about 2.5 s; at a province's 3,000+
agencies that alone is hours. :class:`WarmEngine` is a papermill engine
(registered with papermill as ``engine_name="auditlib-warm"`` when this module is
imported) that keeps its kernel between notebooks. Before each notebook the
kernel's namespace is reset to a fresh one (``InteractiveShell.reset``: every
name the previous notebook defined is gone, its outputs and history too) and its
working directory set, so one notebook's state never reaches the next; what
stays is what was imported, which is the point. A kernel is replaced after
``MAX_USES`` notebooks (memory stays bounded whatever leaks) and after any
failure (a timed-out or crashed notebook leaves nothing behind).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger

ENGINE = "auditlib-warm"
MAX_USES = 200
START_ATTEMPTS = 3
WELCOME_TIMEOUT = 2.0

# Run silently before each notebook: a namespace as a new kernel has it, numbering from 1.
# The folder first: the last notebook's may be gone (a cluster task's temporary folder), and
# reset() asks for the working directory.
_RESET = """\
__import__("os").chdir({cwd!r})
get_ipython().reset(new_session=False)
get_ipython().execution_count = 1
"""


@dataclass(eq=False)  # compared (and kept in a set) by identity
class WarmKernel:
    km: Any
    log: Path
    uses: int = 0
    pids: list[int] = field(default_factory=list)

    def alive(self) -> bool:
        return bool(self.km.is_alive())

    def client(self, cwd: str, timeout: float = 60) -> Any:
        """A fresh client on this kernel, whose namespace has been reset and working directory set.

        A client per notebook: nbclient's asynchronous reads may leave one waiting on the
        shell channel of the client it used, which would swallow the next reply.
        """
        kc = self.km.client()
        kc.start_channels()
        try:
            _connected(kc, timeout)
            reply = kc.execute_interactive(
                _RESET.format(cwd=cwd), silent=True, store_history=False, timeout=timeout, output_hook=lambda _m: None
            )
            if reply["content"].get("status") != "ok":
                raise RuntimeError(f"kernel reset failed: {reply['content'].get('evalue')}")
        except BaseException:
            kc.stop_channels()
            raise
        return kc

    def log_tail(self, size: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text("utf-8", "replace")[-size:]
        return ""

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)
        with contextlib.suppress(OSError):
            self.log.unlink()


def _connected(kc: Any, timeout: float) -> None:
    """Return once ``kc``'s IOPub subscription is live, so that no output of the next cell is lost.

    ipykernel ≥ 7 greets every new subscriber with an ``iopub_welcome`` message
    (JEP 65): a live kernel answers within milliseconds. ``wait_for_ready``, the
    fallback for a kernel that does not, also drains IOPub until it has been
    quiet for 0.2 s: a fifth of a second on each of thousands of sheets.
    """
    from queue import Empty

    try:
        while True:
            msg = kc.get_iopub_msg(timeout=min(timeout, WELCOME_TIMEOUT))
            if msg.get("msg_type") == "iopub_welcome":
                return
    except Empty:
        kc.wait_for_ready(timeout=timeout)


_local = threading.local()
_all: set[WarmKernel] = set()
_lock = threading.Lock()


def _start(kernel_name: str, start_timeout: float) -> WarmKernel:
    from jupyter_client.manager import start_new_kernel

    fd, name = tempfile.mkstemp(prefix="auditlib-kernel-", suffix=".log")
    log = Path(name)
    # The kernel's own chatter goes to its log, not through the caller's progress bar;
    # history is off: thousands of notebooks would fill IPython's history database.
    with os.fdopen(fd, "wb") as fh:
        for attempt in range(START_ATTEMPTS):
            try:
                km, kc = start_new_kernel(
                    startup_timeout=start_timeout,
                    kernel_name=kernel_name,
                    extra_arguments=["--HistoryManager.enabled=False"],
                    stdout=fh,
                    stderr=fh,
                )
                break
            except RuntimeError:
                # Kernels started side by side from separate processes now and then die before
                # answering (each picks free ports on its own); nothing has run, so start again.
                if attempt + 1 == START_ATTEMPTS:
                    raise
    kc.stop_channels()
    k = WarmKernel(km, log)
    with _lock:
        _all.add(k)
    return k


def _discard(k: WarmKernel | None) -> None:
    if k is None:
        return
    k.shutdown()
    with _lock:
        _all.discard(k)
    if getattr(_local, "kernel", None) is k:
        _local.kernel = None


def warm_kernel(kernel_name: str = "python3", start_timeout: float = 120) -> WarmKernel:
    """This thread's kernel: the one it has if alive and not worn out, else a new one."""
    k: WarmKernel | None = getattr(_local, "kernel", None)
    if k is not None and (k.uses >= MAX_USES or getattr(_local, "kernel_name", None) != kernel_name or not k.alive()):
        _discard(k)
        k = None
    if k is None:
        k = _start(kernel_name, start_timeout)
        _local.kernel, _local.kernel_name = k, kernel_name
    return k


def current() -> WarmKernel | None:
    """This thread's kernel, if it has one (for the runner's error messages and the tests)."""
    return getattr(_local, "kernel", None)


def stats() -> list[dict[str, int]]:
    """Every warm kernel of this process: its process id and how many notebooks it has run."""
    with _lock:
        return [{"pid": int(k.km.provisioner.pid or 0), "uses": k.uses} for k in _all if k.alive()]


def failure_log() -> str:
    """The end of the kernel's own output when this thread's last notebook failed ("" otherwise)."""
    return getattr(_local, "failed_log", "")


def last_notebook() -> Any:
    """The notebook this thread ran last, with its outputs so far (kept for a failure's record)."""
    return getattr(_local, "nb", None)


def shutdown_all() -> None:
    """Stop every warm kernel of this process (at exit; a kernel also exits when its parent dies)."""
    with _lock:
        kernels = list(_all)
        _all.clear()
    for k in kernels:
        k.shutdown()
    _local.kernel = None


atexit.register(shutdown_all)
with contextlib.suppress(ImportError):
    # A multiprocessing worker ends with os._exit: atexit would not run there, its finalizers do.
    from multiprocessing.util import Finalize

    Finalize(None, shutdown_all, exitpriority=10)


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine, run in this thread's warm kernel after a namespace reset."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: float = 60,
        execution_timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        cwd = kwargs.pop("kernel_cwd", None) or os.getcwd()
        kwargs.pop("input_path", None)
        kwargs.pop("timeout", None)
        kwargs.pop("startup_timeout", None)
        _local.nb = nb_man.nb
        _local.failed_log = ""
        k = warm_kernel(kernel_name, start_timeout)
        ok = False
        kc = None
        try:
            kc = k.client(str(cwd))
            k.uses += 1
            client = PapermillNotebookClient(
                nb_man,
                km=k.km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            client.kc = kc  # not a constructor argument: set, or nbclient opens a client of its own
            nb = client.execute(cleanup_kc=False)
            # A cell that raised leaves the kernel as it was then: start clean next time.
            ok = nb_man.nb.metadata.get("papermill", {}).get("exception") is not True and not any(
                c.get("metadata", {}).get("papermill", {}).get("exception") for c in nb_man.nb.cells
            )
            return nb
        finally:
            if kc is not None:
                kc.stop_channels()
            if not ok:
                _local.failed_log = k.log_tail()
                _discard(k)


papermill_engines.register(ENGINE, WarmEngine)
