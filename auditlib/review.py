"""The auditors' decisions on findings, kept in a SQLite database beside the outputs.

Findings are recomputed on every audit run, so what the auditor decides must
outlive the run: a finding's ``id`` is a stable hash (same report content, same
rule, same cell → same id), and decisions are stored against that id. A
finding that stops appearing is never deleted, only marked ``present = 0`` and
shown as *resolved*, so that its decisions stay readable.

Several processes may write at once (the parallel sheet runner, a notebook, the
command line): the database runs in WAL mode with a busy timeout and every
write is one ``BEGIN IMMEDIATE`` transaction, so writers queue rather than fail.
"""

from __future__ import annotations

import contextlib
import csv
import getpass
import io
import json
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from auditlib import clock
from auditlib.findings import CONTRACT_KEYS, Finding, plain
from auditlib.vocab import DECISIONS

DEFAULT_PATH = Path("outputs") / "audit.db"
STATUSES = DECISIONS

# Marks the file as ours, so that some other program's SQLite file is refused
# instead of having our tables added to it.
_APPLICATION_ID = 0x41554454  # "AUDT"
# 1: findings, decisions. 2: drafts (notes typed on a finding still open). Opening an older
# database adds what it lacks (CREATE … IF NOT EXISTS) and keeps everything in it.
_SCHEMA_VERSION = 2
_SQLITE_MAGIC = b"SQLite format 3\x00"

# The stored fields: the finding's id and the contract's keys.
_FINDING_FIELDS = ("id", *CONTRACT_KEYS)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS findings (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    agency TEXT,
    year INTEGER,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    location TEXT,
    message TEXT,
    evidence TEXT,
    expected NUMERIC,
    actual NUMERIC,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    present INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS findings_source ON findings(source);
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL REFERENCES findings(id),
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'dismissed')),
    note TEXT NOT NULL DEFAULT '',
    who TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_finding ON decisions(finding_id, seq);
CREATE TABLE IF NOT EXISTS drafts (
    finding_id TEXT PRIMARY KEY REFERENCES findings(id),
    note TEXT NOT NULL,
    who TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
"""

# The latest decision per finding: the highest seq wins, since seq is handed
# out in commit order even when two processes decide in the same second.
_LATEST = """
SELECT d.finding_id, d.status, d.note, d.who, d.decided_at
FROM decisions d
JOIN (SELECT finding_id, MAX(seq) AS seq FROM decisions GROUP BY finding_id) m
  ON d.seq = m.seq
"""

# The same for a few findings (the ids twice, for the two IN lists); SQLite takes up to 32,766 parameters.
_LATEST_OF = """
SELECT d.finding_id, d.status, d.note, d.who, d.decided_at
FROM decisions d
JOIN (SELECT finding_id, MAX(seq) AS seq FROM decisions WHERE finding_id IN ({marks}) GROUP BY finding_id) m
  ON d.seq = m.seq
WHERE d.finding_id IN ({marks})
"""
_FEW_IDS = 4000

DECISION_COLUMNS = ["finding_id", "status", "note", "who", "decided_at"]
STATUS_COLUMNS = ["review_status", "review_note", "reviewer", "reviewed_at"]


class ReviewStoreError(Exception):
    """The review database cannot be used; the message is Chinese with an English gloss."""


def _now() -> str:
    return clock.now()


def _config_dir() -> Path:
    return Path(os.environ.get("AUDITLIB_CONFIG_DIR") or Path.home() / ".config" / "auditlib")


def reviewer_name() -> str | None:
    """The reviewer's name as they gave it once (kept per user, not per database), or None."""
    try:
        data = json.loads((_config_dir() / "reviewer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def set_reviewer_name(name: str) -> str:
    """Remember the reviewer's name for every later decision (written atomically)."""
    from auditlib.excel import atomic_path

    name = (name or "").strip()
    if not name:
        raise ValueError("审核人姓名不能为空 (the reviewer's name is empty)")
    path = _config_dir() / "reviewer.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"name": name}, ensure_ascii=False), encoding="utf-8")
    return name


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers; a decision still needs a name
        return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def _clean(value: Any) -> Any:
    """A value for SQLite: :func:`~auditlib.findings.plain`, and whole floats as integers."""
    value = plain(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


# A spreadsheet opening the CSV runs a cell that starts like a formula
# (=HYPERLINK(…), +cmd|…, @SUM, -2+3); notes and evidence come from outside.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet shows as text: a leading ' when it would start a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _records(findings: Iterable[Finding] | pd.DataFrame) -> list[dict[str, Any]]:
    if isinstance(findings, pd.DataFrame):
        rows = findings.to_dict("records")
    else:
        rows = [f.to_record() for f in findings]
    out = []
    for r in rows:
        rec = {k: _clean(r.get(k)) for k in _FINDING_FIELDS}
        if not rec["id"]:
            raise ValueError("finding without an id")
        out.append(rec)
    return out


class ReviewStore:
    """Decisions on findings, in the SQLite file at ``path`` (created when absent).

    >>> store = ReviewStore("outputs/audit.db")
    >>> store.sync(findings)                  # after every audit run
    >>> store.decide(fid, "confirmed", "表三合计确有错误")
    >>> store.status_frame(findings_frame(findings))
    """

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_PATH, timeout: float = 60.0, check: bool = True) -> None:
        """``check=False`` skips SQLite's integrity check (a read of the whole file): for the
        sheets' kernels, thousands of readers of a database their runner has just checked."""
        self.path = Path(path)
        self.timeout = timeout
        self.check = check
        self._check_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._init()

    # ------------------------------------------------------------ plumbing
    def _check_file(self) -> None:
        """Refuse anything that is not an SQLite file before SQLite may write to it."""
        p = self.path
        if not p.exists():
            return
        if not p.is_file():
            raise ReviewStoreError(f"审核数据库路径不是文件：{p}（review database path is not a file）")
        try:
            with p.open("rb") as fh:
                head = fh.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise ReviewStoreError(f"无法读取审核数据库 {p}：{exc}（cannot read the review database）") from exc
        # An empty file is what SQLite itself leaves when a database is created
        # and nothing written; it holds no decisions, so it may be initialised.
        if head and head != _SQLITE_MAGIC:
            raise ReviewStoreError(
                f"审核数据库文件已损坏或不是 SQLite 数据库：{p}。文件未作任何改动；"
                f"请从备份恢复或换一个路径。（the review database is corrupt or not an SQLite "
                f"database; the file was left untouched — restore it from a backup or use another path）"
            )

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are opened explicitly below, so
        # that a write takes the lock at BEGIN rather than part-way through.
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        con.execute("PRAGMA foreign_keys = ON")
        return con

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            con = self._connect()
        except sqlite3.Error as exc:
            raise self._wrap(exc) from exc
        try:
            yield con
        except sqlite3.DatabaseError as exc:
            raise self._wrap(exc) from exc
        finally:
            con.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so two
        writers queue on the busy timeout instead of deadlocking on an upgrade."""
        try:
            con = self._connect()
        except sqlite3.Error as exc:
            raise self._wrap(exc) from exc
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise ReviewStoreError(
                    f"审核数据库被其他进程长时间占用（{self.timeout:g} 秒）：{self.path}"
                    f"（the review database stayed locked by another process）"
                ) from exc
            raise self._wrap(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise self._wrap(exc) from exc
        finally:
            con.close()

    def _wrap(self, exc: sqlite3.Error) -> ReviewStoreError:
        return ReviewStoreError(f"审核数据库无法使用：{self.path}：{exc}（the review database cannot be used）")

    def _init(self) -> None:
        with self._read() as con:
            try:
                check = con.execute("PRAGMA quick_check").fetchone()[0] if self.check else "ok"
            except sqlite3.DatabaseError as exc:
                raise ReviewStoreError(
                    f"审核数据库文件已损坏：{self.path}（{exc}）。文件未作任何改动；请从备份恢复。"
                    f"（the review database is corrupt; the file was left untouched）"
                ) from exc
            if check != "ok":
                raise ReviewStoreError(
                    f"审核数据库文件已损坏：{self.path}（{check}）。文件未作任何改动；请从备份恢复。"
                    f"（the review database is corrupt; the file was left untouched）"
                )
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            n_tables = con.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if app_id != _APPLICATION_ID and n_tables:
                raise ReviewStoreError(
                    f"{self.path} 是别的程序的 SQLite 数据库，不是审核数据库；文件未作任何改动。"
                    f"（{self.path} is another program's SQLite database, not a review database; left untouched）"
                )
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise ReviewStoreError(
                    f"审核数据库由更新版本的程序创建（版本 {version}）：{self.path}"
                    f"（the review database was made by a newer version of auditlib）"
                )
            # WAL lets readers (a notebook rendering decisions) carry on while
            # another process writes; the setting is stored in the file.
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                con.execute("PRAGMA journal_mode = WAL")
        if app_id != _APPLICATION_ID or version < _SCHEMA_VERSION:
            with self._write() as con:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                con.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    # ------------------------------------------------------------ findings
    def sync(
        self,
        findings: Iterable[Finding] | pd.DataFrame,
        sources: Iterable[str] | None = None,
    ) -> dict[str, int]:
        """Record the findings of an audit run.

        Current findings are inserted or refreshed (``last_seen``, ``present = 1``).
        Stored findings that this run no longer produced are marked
        ``present = 0`` (resolved) — among all stored findings, or only among
        those of ``sources`` when the run audited just those files.
        Returns counts: ``new``, ``seen``, ``resolved``.
        """
        recs = _records(findings)
        now = _now()
        ids = {r["id"] for r in recs}
        with self._write() as con:
            before = {row[0] for row in con.execute("SELECT id FROM findings WHERE present = 1")}
            known = {row[0] for row in con.execute("SELECT id FROM findings")}
            self._upsert(con, recs, now)
            con.execute("CREATE TEMP TABLE current_ids (id TEXT PRIMARY KEY)")
            con.executemany("INSERT OR IGNORE INTO current_ids VALUES (?)", [(i,) for i in ids])
            if sources is None:
                cur = con.execute(
                    "UPDATE findings SET present = 0 WHERE present = 1 AND id NOT IN (SELECT id FROM current_ids)"
                )
            else:
                con.execute("CREATE TEMP TABLE current_sources (source TEXT PRIMARY KEY)")
                con.executemany("INSERT OR IGNORE INTO current_sources VALUES (?)", [(plain(str(s)),) for s in sources])
                cur = con.execute(
                    "UPDATE findings SET present = 0 WHERE present = 1"
                    " AND source IN (SELECT source FROM current_sources)"
                    " AND id NOT IN (SELECT id FROM current_ids)"
                )
            resolved = cur.rowcount
        return {"new": len(ids - known), "seen": len(ids & before), "resolved": resolved}

    def upsert(self, findings: Iterable[Finding] | pd.DataFrame) -> None:
        """Record findings as present without resolving any others (for a partial view)."""
        recs = _records(findings)
        with self._write() as con:
            self._upsert(con, recs, _now())

    def ensure(self, findings: Iterable[Finding] | pd.DataFrame) -> int:
        """Record findings not stored yet; leave stored ones (and whether they are present) alone.

        For a viewer holding findings from an audit that was never synced: a
        decision needs its finding in the database. Returns how many were new.
        """
        recs = _records(findings)
        now = _now()
        cols = ", ".join(_FINDING_FIELDS)
        marks = ", ".join("?" for _ in _FINDING_FIELDS)
        with self._write() as con:
            cur = con.executemany(
                f"INSERT OR IGNORE INTO findings ({cols}, first_seen, last_seen, present) VALUES ({marks}, ?, ?, 1)",
                [(*(r[c] for c in _FINDING_FIELDS), now, now) for r in recs],
            )
            return cur.rowcount

    @staticmethod
    def _upsert(con: sqlite3.Connection, recs: list[dict[str, Any]], now: str) -> None:
        cols = ", ".join(_FINDING_FIELDS)
        marks = ", ".join("?" for _ in _FINDING_FIELDS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _FINDING_FIELDS if c != "id")
        con.executemany(
            f"INSERT INTO findings ({cols}, first_seen, last_seen, present) VALUES ({marks}, ?, ?, 1) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}, last_seen = excluded.last_seen, present = 1",
            [(*(r[c] for c in _FINDING_FIELDS), now, now) for r in recs],
        )

    def findings(self, present: bool | None = None) -> pd.DataFrame:
        """Stored findings (all, or only present / only resolved ones)."""
        sql = "SELECT * FROM findings"
        if present is not None:
            sql += f" WHERE present = {int(present)}"
        with self._read() as con:
            df = pd.read_sql_query(sql + " ORDER BY source, id", con)
        df["year"] = df["year"].astype("Int64")
        return df

    # ------------------------------------------------------------ decisions
    def decide(self, finding_id: str, status: str, note: str = "", who: str | None = None) -> dict[str, str]:
        """Record a decision on a finding (the finding must have been synced)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        rec = {
            "finding_id": str(finding_id),
            "status": status,
            "note": note or "",
            "who": who or reviewer_name() or _os_user(),
            "decided_at": _now(),
        }
        with self._write() as con:
            if con.execute("SELECT 1 FROM findings WHERE id = ?", (rec["finding_id"],)).fetchone() is None:
                raise ReviewStoreError(
                    f"审核数据库中没有这项发现：{finding_id}（先同步审计结果）"
                    f"（no such finding in the review database; sync the audit first）"
                )
            con.execute(
                "INSERT INTO decisions (finding_id, status, note, who, decided_at) VALUES (?, ?, ?, ?, ?)",
                tuple(rec[c] for c in DECISION_COLUMNS),
            )
            # The note went in with the decision: its draft is done with (same transaction).
            con.execute("DELETE FROM drafts WHERE finding_id = ?", (rec["finding_id"],))
        return rec

    # ------------------------------------------------------------ drafts
    def save_draft(self, finding_id: str, note: str, who: str | None = None) -> None:
        """Keep a note typed on a finding not yet decided, so that it outlives the kernel
        (the finding must have been synced). An empty note removes the draft."""
        fid = str(finding_id)
        with self._write() as con:
            if not (note or "").strip():
                con.execute("DELETE FROM drafts WHERE finding_id = ?", (fid,))
                return
            if con.execute("SELECT 1 FROM findings WHERE id = ?", (fid,)).fetchone() is None:
                raise ReviewStoreError(
                    f"审核数据库中没有这项发现：{finding_id}（先同步审计结果）"
                    f"（no such finding in the review database; sync the audit first）"
                )
            con.execute(
                "INSERT INTO drafts (finding_id, note, who, saved_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(finding_id) DO UPDATE SET note = excluded.note, who = excluded.who, "
                "saved_at = excluded.saved_at",
                (fid, note, who or reviewer_name() or _os_user(), _now()),
            )

    def drafts(self) -> dict[str, str]:
        """Finding id → the draft note kept for it."""
        with self._read() as con:
            return dict(con.execute("SELECT finding_id, note FROM drafts"))

    def drop_draft(self, finding_id: str) -> None:
        with self._write() as con:
            con.execute("DELETE FROM drafts WHERE finding_id = ?", (str(finding_id),))

    def decisions(self) -> pd.DataFrame:
        """The latest decision per finding: finding_id, status, note, who, decided_at."""
        with self._read() as con:
            return pd.read_sql_query(_LATEST + " ORDER BY d.seq", con)

    def decided_findings(self) -> list[dict[str, Any]]:
        """Every decided finding with its latest decision, as plain dicts: what
        :func:`auditlib.audit.audit` takes as ``decisions`` for next year's follow-up."""
        df = self.reviewed()
        keep = ["id", "agency", "year", "rule", "location", "evidence", "status", "note", "who", "decided_at"]
        return [
            {("finding_id" if k == "id" else k): _clean(r[k]) for k in keep} for r in df.to_dict("records")
        ]

    def history(self, finding_id: str | None = None) -> pd.DataFrame:
        """Every decision ever recorded, oldest first."""
        sql = "SELECT seq, finding_id, status, note, who, decided_at FROM decisions"
        args: tuple[str, ...] = ()
        if finding_id is not None:
            sql += " WHERE finding_id = ?"
            args = (finding_id,)
        with self._read() as con:
            return pd.read_sql_query(sql + " ORDER BY seq", con, params=args)

    def status_frame(self, findings_df: pd.DataFrame) -> pd.DataFrame:
        """``findings_df`` with review_status, review_note, reviewer, reviewed_at added.

        review_status is ``resolved`` for a finding the last sync no longer saw,
        else the latest decision, else ``open``.
        """
        wanted = sorted(set(findings_df["id"].astype(str))) if "id" in findings_df else []
        with self._read() as con:
            if len(wanted) <= _FEW_IDS:
                # One agency's findings (a sheet): read their rows only, not every decision of the province.
                marks = ",".join("?" * len(wanted))
                latest = pd.read_sql_query(_LATEST_OF.format(marks=marks), con, params=wanted * 2)
                gone_sql = f"SELECT id FROM findings WHERE present = 0 AND id IN ({marks})"
                gone = {row[0] for row in con.execute(gone_sql, wanted)}
            else:
                latest = pd.read_sql_query(_LATEST, con)
                gone = {row[0] for row in con.execute("SELECT id FROM findings WHERE present = 0")}
        out = findings_df.drop(columns=[c for c in STATUS_COLUMNS if c in findings_df.columns]).copy()
        by_id = latest.set_index("finding_id").astype(object)
        ids = out["id"].astype(str)

        def latest_of(col: str) -> pd.Series:
            s = ids.map(by_id[col]).astype(object)
            return s.where(s.notna(), None)

        status = latest_of("status").fillna("open")
        status = status.where(~ids.isin(gone), "resolved")
        out["review_status"] = status.astype(str).to_numpy()
        out["review_note"] = latest_of("note").fillna("").astype(str).to_numpy()
        out["reviewer"] = latest_of("who").to_numpy()
        out["reviewed_at"] = latest_of("decided_at").to_numpy()
        return out

    # ------------------------------------------------------------ export
    def reviewed(self) -> pd.DataFrame:
        """Every finding that has a decision, with its latest decision and review status."""
        with self._read() as con:
            df = pd.read_sql_query(
                "SELECT f.*, l.status, l.note, l.who, l.decided_at FROM findings f "
                f"JOIN ({_LATEST}) l ON l.finding_id = f.id ORDER BY f.agency, f.year, f.source, f.id",
                con,
            )
        df["year"] = df["year"].astype("Int64")
        df["review_status"] = df["status"].where(df["present"] == 1, "resolved")
        return df

    def export_excel(self, path: str | os.PathLike[str]) -> Path:
        """The reviewed findings as an Excel workbook (one sheet 审核结果), written atomically."""
        from auditlib.excel import write_review_workbook

        return write_review_workbook(path, self.reviewed())

    def backup(self, path: str | os.PathLike[str]) -> Path:
        """Every decision ever made (the full history), as JSON (.json) or CSV (any other suffix).

        Each row carries the finding's rule, agency, year and location, so the
        backup stays readable without the database.
        """
        from auditlib.files import atomic_path

        with self._read() as con:
            df = pd.read_sql_query(
                "SELECT d.seq, d.finding_id, d.status, d.note, d.who, d.decided_at, "
                "f.source, f.agency, f.year, f.rule, f.severity, f.location, f.present "
                "FROM decisions d LEFT JOIN findings f ON f.id = d.finding_id ORDER BY d.seq",
                con,
            )
        rows = [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]
        path = Path(path)
        if path.suffix.lower() == ".json":
            payload = {"exported_at": _now(), "database": str(self.path), "decisions": rows}
            data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
        else:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(df.columns))
            writer.writeheader()
            writer.writerows([{k: _csv_cell(v) for k, v in r.items()} for r in rows])
            data = buf.getvalue().encode("utf-8-sig")  # BOM: Excel opens Chinese CSV correctly
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return path

    def __repr__(self) -> str:
        return f"ReviewStore({str(self.path)!r})"
