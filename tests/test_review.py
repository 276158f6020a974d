"""The review database: decisions outlive audit runs, resolved findings stay, two writers, corruption."""

from __future__ import annotations

import getpass
import json
import multiprocessing as mp
import os
import sqlite3
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from auditlib import load_reports
from auditlib.audit import audit
from auditlib.excel import REVIEW_HEADERS
from auditlib.findings import Finding, findings_frame
from auditlib.review import ReviewStore, ReviewStoreError
from tests.conftest import SAMPLES


def mk(n: int, source: str = "a.txt", **kw) -> Finding:
    base = dict(
        source=source,
        agency="测试局",
        year=2021,
        rule="T3_ROW_TOTAL",
        severity="error",
        location=f"表三 第{n}行 / 总计",
        message=f"第{n}行合计不符",
        evidence=f"第{n}行｜1｜2｜4",
        expected=3,
        actual=4,
        table="table3",
        row="new_received",
        column="total",
        digest=f"digest-{source}",
        key=f"cell-{n}",
    )
    base.update(kw)
    return Finding(**base)


@pytest.fixture
def store(tmp_path: Path) -> ReviewStore:
    return ReviewStore(tmp_path / "audit.db")


def test_creates_wal_database(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "audit.db"
    ReviewStore(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"findings", "decisions"} <= tables
    con.close()


def test_decisions_stored_latest_wins(store: ReviewStore) -> None:
    a, b = mk(1), mk(2)
    store.sync([a, b])
    store.decide(a.id, "confirmed", "合计确实错了", who="张三")
    store.decide(a.id, "dismissed", "复核后为误报", who="李四")
    store.decide(b.id, "confirmed")
    latest = store.decisions().set_index("finding_id")
    assert latest.loc[a.id, "status"] == "dismissed"
    assert latest.loc[a.id, "note"] == "复核后为误报"
    assert latest.loc[a.id, "who"] == "李四"
    assert latest.loc[b.id, "who"] == getpass.getuser()  # the OS user by default
    assert list(store.history(a.id)["status"]) == ["confirmed", "dismissed"]  # history kept

    frame = store.status_frame(findings_frame([a, b, mk(3)])).set_index("id")
    assert frame.loc[a.id, "review_status"] == "dismissed"
    assert frame.loc[b.id, "review_status"] == "confirmed"
    assert frame.loc[mk(3).id, "review_status"] == "open"
    assert frame.loc[a.id, "reviewer"] == "李四"


def test_bad_decisions_refused(store: ReviewStore) -> None:
    store.sync([mk(1)])
    with pytest.raises(ValueError):
        store.decide(mk(1).id, "maybe")
    with pytest.raises(ReviewStoreError):
        store.decide("no-such-finding", "confirmed")
    assert store.history().empty


def test_decisions_survive_a_fresh_audit_of_the_samples(store: ReviewStore) -> None:
    findings = audit(load_reports(SAMPLES))
    assert findings, "the samples should give findings"
    store.sync(findings)
    for i, f in enumerate(findings):
        store.decide(f.id, "confirmed" if i % 2 else "dismissed", f"备注{i}")

    again = audit(load_reports(SAMPLES))  # parsed and audited from scratch
    counts = store.sync(again)
    assert counts["resolved"] == 0 and counts["new"] == 0
    frame = store.status_frame(findings_frame(again)).set_index("id")
    for i, f in enumerate(findings):
        assert frame.loc[f.id, "review_status"] == ("confirmed" if i % 2 else "dismissed")
        assert frame.loc[f.id, "review_note"] == f"备注{i}"


def test_disappearing_finding_is_kept_as_resolved(store: ReviewStore) -> None:
    a, b = mk(1), mk(2)
    store.sync([a, b])
    store.decide(a.id, "confirmed", "已核实")
    counts = store.sync([b])  # the next run no longer finds a
    assert counts["resolved"] == 1
    everything = store.findings()
    assert set(everything["id"]) == {a.id, b.id}  # never deleted
    assert set(store.findings(present=False)["id"]) == {a.id}
    status = store.status_frame(everything).set_index("id")
    assert status.loc[a.id, "review_status"] == "resolved"
    assert status.loc[a.id, "review_note"] == "已核实"  # its decision is still readable
    assert status.loc[b.id, "review_status"] == "open"

    store.sync([a, b])  # back again: its decision applies again
    assert store.status_frame(findings_frame([a])).iloc[0]["review_status"] == "confirmed"


def test_sync_of_some_sources_leaves_the_others(store: ReviewStore) -> None:
    a, b = mk(1, source="a.txt"), mk(2, source="b.txt")
    store.sync([a, b])
    store.sync([], sources=["a.txt"])  # a.txt re-audited, nothing found
    present = set(store.findings(present=True)["id"])
    assert present == {b.id}


def test_export_excel_read_back(store: ReviewStore, tmp_path: Path) -> None:
    a = mk(1, evidence='=HYPERLINK("http://x")', message="@SUM(A1)")
    b = mk(2)
    store.sync([a, b, mk(3)])
    store.decide(a.id, "confirmed", "-2 件差异", who="审计员")
    store.decide(b.id, "dismissed", "误报")
    out = store.export_excel(tmp_path / "out" / "review.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb["审核结果"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == REVIEW_HEADERS
    by_id = {r[REVIEW_HEADERS.index("编号")]: dict(zip(REVIEW_HEADERS, r, strict=True)) for r in rows[1:]}
    assert set(by_id) == {a.id, b.id}  # only reviewed findings
    ra = by_id[a.id]
    assert ra["审核状态"] == "已确认" and ra["审核人"] == "审计员"
    assert ra["原文证据"] == '\'=HYPERLINK("http://x")'  # a formula in report text stays text
    assert ra["说明"] == "'@SUM(A1)"
    assert ra["审核备注"] == "'-2 件差异"
    assert ra["预期"] == 3 and ra["实际"] == 4
    assert by_id[b.id]["审核状态"] == "已驳回"
    assert not [p for p in out.parent.iterdir() if p.name != "review.xlsx"]  # no temp file left


def test_backup_json_and_csv(store: ReviewStore, tmp_path: Path) -> None:
    a = mk(1)
    store.sync([a])
    store.decide(a.id, "confirmed", "一")
    store.decide(a.id, "dismissed", "二")
    data = json.loads(store.backup(tmp_path / "b.json").read_text(encoding="utf-8"))
    assert [d["note"] for d in data["decisions"]] == ["一", "二"]
    assert data["decisions"][0]["rule"] == "T3_ROW_TOTAL"
    store.backup(tmp_path / "b.csv")
    table = pd.read_csv(tmp_path / "b.csv", encoding="utf-8-sig")
    assert list(table["status"]) == ["confirmed", "dismissed"]
    assert list(table["note"]) == ["一", "二"]


def _writer(path: str, tag: str, ids: list[str], n: int) -> None:
    store = ReviewStore(path, timeout=60)
    for i in range(n):
        store.decide(ids[i % len(ids)], "confirmed" if i % 2 else "dismissed", f"{tag}-{i}", who=tag)
        if i % 25 == 0:  # syncs interleave with decisions of the other process
            store.upsert([mk(100 + i, source=f"{tag}.txt")])


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    shared = [mk(i) for i in range(5)]
    ReviewStore(path).sync(shared)
    ids = [f.id for f in shared]
    n = 150
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), tag, ids, n)) for tag in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    hist = ReviewStore(path).history()
    assert len(hist) == 2 * n
    assert set(hist["note"]) == {f"{t}-{i}" for t in ("p1", "p2") for i in range(n)}
    assert hist["seq"].is_unique
    stored = ReviewStore(path).findings()
    assert len(stored) == 5 + 2 * len(range(0, n, 25))


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.mark.parametrize(
    "content",
    [b"this is not a database at all\n" * 100, b"\x00" * 4096, "决定".encode() * 500],
    ids=["text", "zeros", "chinese"],
)
def test_corrupt_file_gives_clear_error_and_is_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "audit.db"
    path.write_bytes(content)
    before = _snapshot(path)
    with pytest.raises(ReviewStoreError) as err:
        ReviewStore(path)
    msg = str(err.value)
    assert "损坏" in msg and "corrupt" in msg
    assert _snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.db"]  # no -wal/-shm, no new file


def test_damaged_pages_give_clear_error_and_are_untouched(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    store = ReviewStore(path)
    store.sync([mk(i, evidence="证据" * 200) for i in range(200)])
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    data[4096 : 3 * 4096] = b"\xff" * (2 * 4096)  # ruin pages past the header
    path.write_bytes(bytes(data))
    for side in ("-wal", "-shm"):
        Path(str(path) + side).unlink(missing_ok=True)
    before = _snapshot(path)
    with pytest.raises(ReviewStoreError, match="损坏"):
        ReviewStore(path)
    assert _snapshot(path) == before


def _other_programs_database(path: Path) -> Path:
    """A SQLite file some other program made: a table of its own, none of ours."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE accounts (id INTEGER)")
    con.commit()
    con.close()
    return path


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = _other_programs_database(tmp_path / "other.db")
    before = _snapshot(path)
    with pytest.raises(ReviewStoreError, match="not a review database"):
        ReviewStore(path)
    assert _snapshot(path) == before


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReviewStoreError):
        ReviewStore(tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_version_1_database_gains_drafts_and_keeps_its_decisions(tmp_path) -> None:
    """A database written before drafts existed (schema 1, as auditlib made it) opens as it is,
    its decisions intact, and gets the drafts table."""

    from auditlib import review

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    v1 = review._SCHEMA.split("CREATE TABLE IF NOT EXISTS drafts")[0]
    con.executescript(v1)
    con.execute(
        "INSERT INTO findings (id, source, rule, severity, first_seen, last_seen) VALUES ('f1', 'a.txt', 'R', 'error', 't', 't')"
    )
    con.execute("INSERT INTO decisions (finding_id, status, note, who, decided_at) VALUES ('f1', 'confirmed', '旧决定', '甲', 't')")
    con.execute(f"PRAGMA application_id = {review._APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    store = ReviewStore(path)
    assert store.decisions().iloc[0][["finding_id", "note"]].tolist() == ["f1", "旧决定"]
    store.save_draft("f1", "草稿")
    assert ReviewStore(path).drafts() == {"f1": "草稿"}
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == review._SCHEMA_VERSION == 2
    store.save_draft("f1", "  ")  # an empty draft is no draft
    assert store.drafts() == {}
    with pytest.raises(ReviewStoreError):
        store.save_draft("nope", "x")  # only on a finding that was synced


def test_status_of_a_few_findings_reads_them_alone_and_agrees_with_the_whole(store: ReviewStore, monkeypatch) -> None:
    """A sheet asks about its agency's findings: read by id (not every decision), the same answer."""
    import auditlib.review as review

    fs = [mk(i, source=f"s{i % 3}.txt") for i in range(12)]
    store.sync(fs)
    for i, f in enumerate(fs[:8]):
        store.decide(f.id, "confirmed" if i % 2 else "dismissed", f"第{i}次")
    store.decide(fs[1].id, "dismissed", "改判")  # the latest wins
    store.sync(fs[1:])  # fs[0] gone: resolved
    some = findings_frame([fs[0], fs[1], fs[5], fs[10]])
    monkeypatch.setattr(review, "_FEW_IDS", 0)  # every decision read, as for a whole corpus
    whole = store.status_frame(store.findings()).set_index("id")
    monkeypatch.undo()
    few = store.status_frame(some).set_index("id")
    cols = ["review_status", "review_note", "reviewer", "reviewed_at"]
    assert few[cols].equals(whole.loc[list(some["id"]), cols])
    assert list(few.loc[[fs[0].id, fs[1].id, fs[5].id, fs[10].id], "review_status"]) == [
        "resolved", "dismissed", "confirmed", "open"
    ]
    assert few.loc[fs[1].id, "review_note"] == "改判"


def test_a_store_opened_unchecked_still_refuses_another_programs_database(tmp_path: Path) -> None:
    path = _other_programs_database(tmp_path / "other.db")
    with pytest.raises(ReviewStoreError):
        ReviewStore(path, check=False)
