"""Files the workbench writes: names that stay inside their folder, writes that are whole or absent.

Used by the audit sheets (each agency's folder, its notebook, page and workbook),
the Excel writers and the review export. A name made from report text goes
through :func:`safe_dirname` before it becomes a path; every file goes through
:func:`atomic_path`, so an interrupted run never leaves half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path


# ---------------------------------------------------------------- atomic files
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory; on success it replaces ``path``.

    On any error (or Ctrl-C) the temporary file is removed and ``path`` keeps
    whatever it held before. The rename is atomic because both names are on
    the same file system.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); outputs are meant to be shared like any other file.
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def clean_stale(directory: Path, older_than: float = 6 * 3600) -> None:
    """Temporary files left by a killed run (never those of a run still going)."""
    now = time.time()
    for p in directory.glob(".*.tmp*"):
        with contextlib.suppress(OSError):
            if now - p.stat().st_mtime > older_than:
                p.unlink()


# ---------------------------------------------------------------- safe names
_WIN_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
# Braces too: papermill formats its paths with str.format, and a name is no format string.
_UNSAFE = re.compile(r'[/\\:*?"<>|{}]')


def safe_dirname(name: str, max_bytes: int = 120) -> str:
    """A directory name for ``name`` that stays inside its parent on any file system.

    No path separators, no ``..``, no control or invisible format characters
    (bidi overrides would disguise a name), no leading dot or dash, no Windows
    device names, and at most ``max_bytes`` bytes of UTF-8 (Chinese takes 3 a
    character; file systems allow 255). A shortened name gets a hash of the
    whole so that two long names stay apart.
    """
    s = "".join("_" if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in str(name))
    s = _UNSAFE.sub("_", s)
    s = re.sub(r"\.{2,}", ".", s)
    s = re.sub(r"\s+", " ", s).strip(" ._-")
    if not s:
        s = "_"
    if s.split(".")[0].upper() in _WIN_RESERVED:
        s = "_" + s
    if len(s.encode("utf-8")) > max_bytes:
        tag = "-" + hashlib.sha1(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
        budget = max_bytes - len(tag)
        cut = s.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" ._-")
        s = (cut or "_") + tag
    return s
