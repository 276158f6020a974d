"""Parse once: parsed reports and their own findings, cached by file content and library code.

The key is the SHA-256 of the file's bytes plus a fingerprint of auditlib's own
source, so a changed report or a changed parser never serves a stale result,
and the batch, the notebooks and the dashboard all share one cache. Entries are
written atomically; a damaged entry is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import auditlib


@cache
def code_fingerprint() -> str:
    """auditlib's version and a hash of its source files: any code change invalidates the cache."""
    h = hashlib.sha256(auditlib.__version__.encode())
    root = Path(auditlib.__file__).parent
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def default_dir() -> Path | None:
    """$AUDITLIB_CACHE, else $XDG_CACHE_HOME/auditlib, else ~/.cache/auditlib ("off" disables)."""
    env = os.environ.get("AUDITLIB_CACHE")
    if env:
        return None if env.lower() in ("0", "off", "no", "false") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "auditlib"


class Cache:
    """A directory of pickles: ``<dir>/<code>/<sha[:2]>/<sha>.<kind>.pkl``."""

    def __init__(self, directory: str | Path | None = None) -> None:
        d = Path(directory) if directory is not None else default_dir()
        self.dir = d / code_fingerprint() if d is not None else None

    def _path(self, digest: str, kind: str) -> Path | None:
        if self.dir is None or not digest:
            return None
        return self.dir / digest[:2] / f"{digest}.{kind}.pkl"

    def get(self, digest: str, kind: str) -> Any | None:
        p = self._path(digest, kind)
        if p is None:
            return None
        try:
            with open(p, "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception:
            # A damaged entry (disk full, killed writer of an older version): rebuild it.
            return None

    def put(self, digest: str, kind: str, value: Any) -> None:
        p = self._path(digest, kind)
        if p is None:
            return
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".pkl")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, p)
        except OSError:
            # A read-only or full cache must never fail an audit.
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass
