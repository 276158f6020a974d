"""The command line as CONTRACT.md fixes it, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, SAMPLES

# table_formats: the per-table layout the contract allows parse JSON to add (issue 11).
CONTRACT_KEYS = {"source", "agency", "year", "format", "signed_on", "published_on", "sections", "table2", "table3", "table4", "table_formats", "warnings"}
FINDING_KEYS = ["source", "agency", "year", "rule", "severity", "location", "expected", "actual", "message", "evidence"]
# CONTRACT.md: where the place is found, page and bbox (a PDF) and span (text); else null.
PLACE_KEYS = ["page", "bbox", "span"]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "auditlib", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_parse_json_contract(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    res = run("parse", str(SAMPLES), str(tmp_path), "--json")
    assert res.returncode == 1  # one file could not be read
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    good = [o for o in objs if "error" not in o]
    bad = [o for o in objs if "error" in o]
    assert len(good) == 6 and len(bad) == 1
    assert bad[0]["error"]["code"] == "EMPTY"
    for o in good:
        assert set(o) == CONTRACT_KEYS
        assert o["format"] in ("2019", "2021")
        for row in o["table3"].values():
            assert all(v is None or isinstance(v, int) for v in row.values())
    huaian = next(o for o in good if o["source"].endswith("huaian-2024.pdf"))
    assert huaian["table3"]["new_received"]["total"] == 3119


def test_parse_exit_codes():
    assert run("parse", str(SAMPLES / "000_bebe3e000f0fa92c.txt"), "--json").returncode == 0
    assert run("parse").returncode == 2  # usage error
    assert run("parse", "/no/such/file.txt").returncode == 2


def test_parse_summary_is_readable():
    res = run("parse", str(SAMPLES / "004_27f28e9d7369eeba.txt"))
    assert res.returncode == 0
    assert "石龙区人民政府办公室" in res.stdout and "表四" in res.stdout


def test_audit_json_contract(tmp_path):
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    res = run("audit", str(SAMPLES), str(tmp_path), "--json")
    assert res.returncode == 0
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    for o in objs:
        assert list(o) == FINDING_KEYS + PLACE_KEYS
        assert o["severity"] in ("error", "warning", "info")
        assert (o["page"] is None) == (o["bbox"] is None)
        assert o["page"] is None or (o["source"].endswith(".pdf") and len(o["bbox"]) == 4)
        assert o["span"] is None or (len(o["span"]) == 2 and 0 <= o["span"][0] < o["span"][1])
    assert any(o["span"] for o in objs) and any(o["bbox"] for o in objs)
    assert any(o["rule"] == "INPUT_UNREADABLE" and o["source"].endswith("junk.pdf") for o in objs)


def test_rules_catalogue():
    res = run("rules")
    assert res.returncode == 0
    for rid in ("T3_BALANCE", "TEXT_TABLE_MISMATCH", "COPY_OF_PREVIOUS", "OUTLIER_RATE"):
        assert rid in res.stdout


def test_review_backup_and_export(tmp_path):
    from auditlib import load_reports
    from auditlib.audit import audit
    from auditlib.review import ReviewStore

    findings = audit(load_reports(SAMPLES))
    db = tmp_path / "audit.db"
    store = ReviewStore(db)
    store.sync(findings)
    store.decide(findings[0].id, "confirmed", note="核实无误", who="审核员甲")
    res = run("review", "backup", str(tmp_path / "b.json"), "--db", str(db))
    assert res.returncode == 0, res.stderr
    data = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert [(d["finding_id"], d["status"], d["note"]) for d in data["decisions"]] == [(findings[0].id, "confirmed", "核实无误")]
    assert run("review", "export", str(tmp_path / "r.xlsx"), "--db", str(db)).returncode == 0
    assert (tmp_path / "r.xlsx").stat().st_size > 0
    missing = run("review", "backup", str(tmp_path / "x.json"), "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 1 and "不存在" in missing.stderr
    assert not (tmp_path / "none.db").exists()  # never silently created
