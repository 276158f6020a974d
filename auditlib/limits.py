"""The per-file limits, and what the readers do to keep to them.

A real report has 2-30 pages, three tables of a few hundred cells and 5-50 thousand
characters. The readers check the structural limits as they read (pages, cells, unpacked
bytes, characters) and raise :func:`limit_error`; the run-time limits (processor time,
memory) are enforced from outside by the worker of :mod:`auditlib.budget`, which also
gives the readers two hooks here: :func:`allow` asks for more time for work whose cost
shows only once read (OCR), and :func:`uncapped` loads a model outside the memory cap.
Kept apart from the worker so that the readers depend on the limits, not on the process
that runs them.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from typing import Any

# Structural limits, checked by the readers while they read. A real report has
# 2-30 pages, three tables of a few hundred cells and 5-50 thousand characters.
MAX_PAGES = 200
MAX_TABLE_CELLS = 200_000  # grid positions of all tables of one file, merged cells counted out
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # a .docx's parts, uncompressed (pictures included)
MAX_UNPACKED_XML = 16 * 1024 * 1024  # its XML parts: a report's document.xml is well under 2 MB
MAX_CHARS = 2_000_000  # characters of running text in one report

MAX_OCR_PAGES = 40  # scanned pages read by OCR in one report
MAX_SCAN_AREA = 1191 * 1684  # a scanned page's size in points² (A2): what OCR renders grows with it
# Processor time each scanned page adds to its file's budget (OCR measured ≈ 3 s a page).
OCR_PAGE_SECONDS = 10.0

# Run-time limits, enforced on the worker. Seconds of processor time (see Worker._answer).
SECONDS = 8.0
MEMORY_BYTES = 1024 * 1024 * 1024  # resident, the worker's own imports included


@dataclass(frozen=True)
class Limit:
    code: str
    zh: str
    en: str


LIMITS = {
    "TIME_LIMIT": Limit(
        "TIME_LIMIT", "处理用时超过 {} 秒（处理器时间）的上限", "took more than {} s of processor time to parse and audit"
    ),
    "MEMORY_LIMIT": Limit("MEMORY_LIMIT", "所需内存超过 {} 的上限", "needed more than {} of memory"),
    "PAGE_LIMIT": Limit("PAGE_LIMIT", "页数超过 {} 页的上限", "more than {} pages"),
    "CELL_LIMIT": Limit("CELL_LIMIT", "表格单元格超过 {} 个的上限（合并单元格按展开计）", "more than {} table cells (merged cells expanded)"),
    "UNPACKED_LIMIT": Limit("UNPACKED_LIMIT", "解压后超过 {} 的上限（疑似压缩炸弹）", "more than {} when unpacked (a zip bomb?)"),
    "TEXT_LIMIT": Limit("TEXT_LIMIT", "文字超过 {} 个字符的上限", "more than {} characters of text"),
    "PAGE_SIZE_LIMIT": Limit("PAGE_SIZE_LIMIT", "扫描页尺寸超过 {} 的上限", "a scanned page larger than {}"),
    "OCR_LIMIT": Limit("OCR_LIMIT", "需文字识别（OCR）的扫描页超过 {} 页的上限", "more than {} scanned pages to read by OCR"),
}


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024)} MB"


def limit_error(code: str, amount: Any) -> Exception:
    """The :class:`~auditlib.blocks.IngestError` for a file past one of the limits, saying which."""
    from auditlib.blocks import IngestError

    lim = LIMITS[code]
    if isinstance(amount, str):
        shown = amount
    else:
        shown = _mb(amount) if code in ("MEMORY_LIMIT", "UNPACKED_LIMIT") else f"{amount:,}"
    return IngestError(
        code,
        f"文件超出处理限额：{lim.zh.format(shown)}，已停止读取，其余文件照常审核 "
        f"(over the per-file budget: {lim.en.format(shown)}; the rest of the batch is audited)",
    )


def out_of_memory(exc: BaseException) -> None:
    """Raise ``MemoryError`` again when it is what ``exc`` wraps (pdfplumber wraps
    everything): a reader that turns failures into 'corrupt file' must not turn
    the budget's limit into one."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 20:
        if isinstance(e, MemoryError):
            raise MemoryError(str(e)) from exc
        e = e.__cause__ or e.__context__
        seen += 1


_conn: Any = None  # in a worker: the line to the parent


def connect(conn: Any) -> None:
    """In a worker (:mod:`auditlib.budget`): where :func:`allow` asks the parent for time."""
    global _conn
    _conn = conn


def allow(seconds: float) -> None:
    """Ask for ``seconds`` more processor time for the file being read, for work whose
    cost the reader knows only once it has looked (OCR of its scanned pages).
    Outside a worker there is no budget to widen."""
    if _conn is not None:
        _conn.send(("allow", float(seconds)))


_cap_total: int | None = None  # in a worker: the resident memory it is held to


def uncapped(build: Any) -> Any:
    """``build()`` with the address-space cap lifted, then the cap set again around it.

    For loading a model (the OCR engine): its size is ours, not the file's, and the
    runtime reserves far more address space than it ever touches, which the cap
    would refuse. What the file drives (rendering, reading) stays capped.
    """
    if _cap_total is None:
        return build()
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    try:
        return build()
    finally:
        set_memory_cap(_cap_total)


def set_memory_cap(total: int) -> None:
    """Cap the address space so that resident memory cannot pass ``total``.

    What is mapped but not resident now (thread stacks, reserved arenas) may
    still become resident, so the room left is ``total`` less everything mapped.
    """
    with open("/proc/self/statm") as fh:
        mapped, resident = (int(x) * os.sysconf("SC_PAGE_SIZE") for x in fh.read().split()[:2])
    global _cap_total
    _cap_total = total
    cap = mapped + max(total - resident, 64 * 1024 * 1024)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
