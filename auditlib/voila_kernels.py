"""The dashboard's kernels: a bound on how many run at once.

Every visit to the Voilà dashboard runs the notebook in a kernel of its own
(~175 MB each). Idle kernels whose page has gone are culled by jupyter_server's
own culler (configured in :func:`auditlib.dashboard.serve`); this class adds
what jupyter_server lacks, a ceiling. A visit that would go over it waits for a
kernel to be culled or shut down, up to ``start_timeout`` seconds, and is then
refused with HTTP 503 and a clear message, instead of the machine running out
of memory.

Used through ``--VoilaConfiguration.multi_kernel_manager_class``; Voilà wraps it
with its preheated pool, whose refills go through :meth:`start_kernel` too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Float, Integer


class BoundedKernelManager(AsyncMappingKernelManager):
    """At most ``max_kernels`` kernels at once; further starts queue, then fail with 503."""

    max_kernels = Integer(16, config=True, help="Kernels running at once, the preheated one included.")
    start_timeout = Float(120.0, config=True, help="Seconds a visit waits for a free kernel slot.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._starting = 0
        # Peak of kernels at once, in the log at every new peak: what the benchmark reads.
        self.peak = 0

    def _in_use(self) -> int:
        return len(self.list_kernel_ids()) + self._starting

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        deadline = time.monotonic() + self.start_timeout
        while self._in_use() >= self.max_kernels:
            if time.monotonic() > deadline:
                self.log.warning("bounded kernels: %d running, a visit was refused", self._in_use())
                raise web.HTTPError(
                    503,
                    f"仪表盘同时运行的内核已达上限（{self.max_kernels}），请稍后再试 "
                    f"(the dashboard is at its limit of {self.max_kernels} kernels; try again shortly)",
                )
            await asyncio.sleep(0.25)
        self._starting += 1
        try:
            kernel_id = await super().start_kernel(*args, **kwargs)
        finally:
            self._starting -= 1
        running = len(self.list_kernel_ids())
        if running > self.peak:
            self.peak = running
            self.log.info("bounded kernels: peak %d of %d", running, self.max_kernels)
        return kernel_id
