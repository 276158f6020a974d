"""auditlib.vocab: the one vocabulary every output reads."""

from __future__ import annotations

from openpyxl import load_workbook

from auditlib import vocab
from auditlib.excel import SEVERITY_FILL, write_agency_workbook
from auditlib.findings import SEVERITIES
from auditlib.review import STATUSES
from auditlib.rules import load_all


def test_severities_run_from_most_serious():
    assert vocab.SEVERITIES == SEVERITIES == ("error", "warning", "info")
    assert [vocab.severity_rank(s) for s in vocab.SEVERITIES] == [0, 1, 2]
    assert vocab.severity_rank("unheard-of") > vocab.severity_rank("info")
    assert vocab.worst(["info", "error", "warning"]) == "error"
    assert vocab.worst(["info", "warning"]) == "warning"


def test_every_rule_has_a_known_severity_and_both_labels():
    labels = vocab.rule_labels()
    assert set(labels) == set(load_all())
    for rid, r in load_all().items():
        assert r.severity in vocab.SEVERITY, rid
        zh, en = labels[rid]
        assert zh == r.title_zh and en == r.title_en
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), rid
    assert vocab.rule_label("T3_BALANCE")[0].startswith("表三")
    # A finding from an older run whose rule is gone still labels itself.
    assert vocab.rule_label("NO_SUCH_RULE") == ("NO_SUCH_RULE", "NO_SUCH_RULE")


def test_labels_and_unknown_values():
    assert vocab.severity_zh("error") == "错误"
    assert vocab.status_zh("dismissed") == "已驳回"
    assert vocab.status_zh("later") == "later"
    # Decisions a reviewer may record are statuses the vocabulary can name.
    assert set(STATUSES) <= set(vocab.REVIEW_STATUSES)
    assert vocab.REVIEW_STATUSES[0] == "open"


def test_colours_are_hex_and_excel_uses_the_same_fills(tmp_path):
    for entry in (*vocab.SEVERITY.values(), *vocab.STATUS.values()):
        for c in (entry.fill, entry.colour):
            assert len(c) == 7 and c[0] == "#" and int(c[1:], 16) >= 0
    for sev, fill in SEVERITY_FILL.items():
        assert fill.fgColor.rgb.endswith(vocab.SEVERITY[sev].fill[1:])
    # The workbook's findings sheet shows the vocabulary's labels.
    import pandas as pd

    findings = pd.DataFrame(
        [{"source": "x", "rule": "T3_BALANCE", "severity": "error", "location": "表三", "message": "m",
          "evidence": "e", "review_status": "confirmed"}]
    )
    path = write_agency_workbook(tmp_path / "w.xlsx", [], findings)
    ws = load_workbook(path)["发现"]
    row = [c.value for c in ws[2]]
    assert "错误" in row and "已确认" in row
