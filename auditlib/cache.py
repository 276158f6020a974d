"""Parse once: parsed reports and their own findings, cached by file content and library code.

The key is the SHA-256 of the file's bytes plus a fingerprint of auditlib's own
source, so a changed report or a changed parser never serves a stale result,
and the batch, the notebooks and the dashboard all share one cache. Entries are
written atomically; a damaged entry is ignored and rebuilt.

An entry is never trusted for being where it is. Each carries an HMAC-SHA256,
under a key only this user can read (``<cache>/key``, 0600, in a 0700 folder
this user owns), over the code fingerprint, the file digest, the kind and the
bytes; nothing is unpickled before that MAC checks out. So an entry planted by
someone else (a shared or predictable cache path) is rebuilt, not executed, and
an entry moved to another report's name fails its MAC instead of lending that
report another agency and year. A parsed report must also carry the digest it
was looked up by.

Why authenticated pickles and not a data format: the parsed report is a graph of
blocks, sections, layouts, tables, dates and findings that other modules keep
extending; a second serialiser for it would have to follow every such change or
silently lose fields. With the MAC, the only bytes ever unpickled are bytes this
user's own auditlib wrote, and whoever can forge them can already edit that code.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import re
import shutil
import stat
import tempfile
import time
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import auditlib

_MAGIC = b"auditlib-cache-2\n"
_MAC_LEN = 32
# A writer takes milliseconds; a temporary file older than this was left by a killed one.
_STALE_SECONDS = 600
# Each version of auditlib's code caches in its own folder; a folder that no run has opened for
# this long belongs to a version no longer run, and only costs disk (a province's reports
# parse to gigabytes).
RETIRE_AFTER_SECONDS = 30 * 86400
_CODE_DIR = re.compile(r"[0-9a-f]{16}")
_USED = ".used"


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


class CacheUnsafe(Exception):
    """The cache folder or its key could be written by someone else."""


def _private_dir(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = os.lstat(d)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise CacheUnsafe(f"{d} is not a folder of this user")
    if st.st_mode & 0o077:
        os.chmod(d, 0o700)


def _key(root: Path) -> bytes:
    """This user's cache key, made on first use."""
    path = root / "key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise CacheUnsafe(f"{path} is readable or owned by someone else")
        key = fh.read()
    if len(key) != 32:  # a writer killed before its 32 bytes: start over
        os.unlink(path)
        return _key(root)
    return key


def _retire_old_versions(root: Path, current: Path) -> None:
    """Mark ``current`` as in use, and remove the other code versions' folders no run has used
    for :data:`RETIRE_AFTER_SECONDS`. Only folders named as this module names them go, never a
    link: ``$AUDITLIB_CACHE`` may point at a folder that holds other things too."""
    current.mkdir(exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        (current / _USED).touch()
    limit = time.time() - RETIRE_AFTER_SECONDS
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for e in entries:
        if e.name == current.name or not _CODE_DIR.fullmatch(e.name) or not e.is_dir(follow_symlinks=False):
            continue
        try:
            used = os.stat(Path(e.path) / _USED, follow_symlinks=False).st_mtime
        except OSError:
            used = e.stat(follow_symlinks=False).st_mtime
        if used < limit:
            shutil.rmtree(e.path, ignore_errors=True)


class Cache:
    """A private directory of authenticated entries: ``<dir>/<code>/<sha[:2]>/<sha>.<kind>.pkl``."""

    def __init__(self, directory: str | Path | None = None) -> None:
        d = Path(directory) if directory is not None else default_dir()
        self.root = str(d) if d is not None else None
        self.dir: Path | None = None
        self._secret = b""
        self._swept: set[Path] = set()
        if d is None:
            return
        try:
            _private_dir(d)
            self._secret = _key(d)
            self.dir = d / code_fingerprint()
            _retire_old_versions(d, self.dir)
        except (OSError, CacheUnsafe) as exc:
            # Better slow than trusting a folder someone else can write to.
            warnings.warn(f"解析缓存不可用，将重新解析 (parse cache disabled): {exc}", stacklevel=2)
            self.root = None

    def _path(self, digest: str, kind: str) -> Path | None:
        if self.dir is None or not digest:
            return None
        return self.dir / digest[:2] / f"{digest}.{kind}.pkl"

    def _mac(self, digest: str, kind: str, body: bytes) -> bytes:
        head = f"{code_fingerprint()}|{digest}|{kind}|".encode()
        return hmac.new(self._secret, head + body, hashlib.sha256).digest()

    def has(self, digest: str, kind: str) -> bool:
        """Whether an entry is stored (not whether it will load: :meth:`get` checks that)."""
        p = self._path(digest, kind)
        return p is not None and p.is_file()

    def get(self, digest: str, kind: str) -> Any | None:
        p = self._path(digest, kind)
        if p is None:
            return None
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        head = len(_MAGIC)
        if not data.startswith(_MAGIC) or len(data) < head + _MAC_LEN:
            return None
        mac, body = data[head : head + _MAC_LEN], data[head + _MAC_LEN :]
        if not hmac.compare_digest(mac, self._mac(digest, kind, body)):
            return None  # not written by this user's auditlib for this file: rebuild
        try:
            value = pickle.loads(body)
        except Exception:
            return None
        if kind == "report" and getattr(value, "digest", digest) != digest:
            return None
        return value

    def put(self, digest: str, kind: str, value: Any) -> None:
        p = self._path(digest, kind)
        if p is None:
            return
        tmp = None
        try:
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._sweep(p.parent)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".pkl")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + self._mac(digest, kind, body) + body)
            os.replace(tmp, p)
        except OSError:
            # A read-only or full cache must never fail an audit.
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def _sweep(self, folder: Path) -> None:
        """Temporary files a killed writer left in ``folder`` (once per folder and process)."""
        if folder in self._swept:
            return
        self._swept.add(folder)
        now = time.time()
        for t in folder.glob(".tmp-*"):
            with contextlib.suppress(OSError):
                if now - t.lstat().st_mtime > _STALE_SECONDS:
                    t.unlink()
