"""The finding stepper, driven through its methods and its widget's buttons (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditlib import load, load_reports
from auditlib.audit import audit
from auditlib.findings import Finding, findings_frame
from auditlib.review import ReviewStore
from auditlib.stepper import Stepper
from tests.conftest import SAMPLES, edited

SCRIPT = "<script>alert('x')</script>"
STEM = "000_bebe3e000f0fa92c"


@pytest.fixture
def hostile(tmp_path: Path):
    """A sample whose narrative carries a script tag, and a finding quoting it."""
    path = edited(tmp_path, STEM, ("一是及时做好信息公开。", f"一是{SCRIPT}及时做好信息公开。"))
    report = load(path)
    assert SCRIPT in report.narrative
    finding = Finding(
        source=report.source,
        agency=report.meta.agency,
        year=report.meta.year,
        rule="TEXT_TABLE_MISMATCH",
        severity="error",
        location="一、总体情况 <b>bold</b>",
        message="正文与表格不符 <img src=x onerror=alert(1)>",
        evidence=f"一是{SCRIPT}及时做好信息公开",
        expected=5,
        actual=4,
        table="table3",
        row="new_received",
        column="total",
        digest=report.digest,
        key="hostile",
    )
    return report, finding


@pytest.fixture
def corpus():
    reports = load_reports(SAMPLES)
    findings = audit(reports)
    assert len(findings) >= 3
    return reports, findings


def make(tmp_path: Path, reports, findings) -> tuple[Stepper, ReviewStore]:
    """A stepper over every finding (no status filter), its reviewer named."""
    store = ReviewStore(tmp_path / "audit.db")
    store.sync(findings)
    return Stepper(findings_frame(findings), reports, store, who="测试审核员", filters={}), store


def test_filtering(tmp_path: Path, corpus) -> None:
    reports, findings = corpus
    st, _ = make(tmp_path, reports, findings)
    assert len(st.filtered()) == len(findings)
    agency = findings[-1].agency
    st.set_filter(agency=agency)
    view = st.filtered()
    assert len(view) == sum(f.agency == agency for f in findings)
    assert set(view["agency"]) == {agency}
    rule = findings[0].rule
    st.set_filter(agency=None, rule=rule)
    assert set(st.filtered()["rule"]) == {rule}
    st.set_filter(rule=None, severity="error", year=str(findings[0].year))  # a dropdown gives strings
    view = st.filtered()
    assert all(view["severity"].astype(str) == "error")
    assert all(view["year"] == findings[0].year)
    st.set_filter(severity=None, year=None, status="confirmed")
    assert st.current() is None and st.counter == "0 / 0"
    assert "没有符合筛选条件的发现" in st.render_html()
    with pytest.raises(ValueError):
        st.set_filter(colour="red")


def test_navigation(tmp_path: Path, corpus) -> None:
    reports, findings = corpus
    st, _ = make(tmp_path, reports, findings)
    n = len(findings)
    assert st.counter == f"1 / {n}"
    assert st.prev()["id"] == findings[0].id  # stays at the first
    assert st.next()["id"] == findings[1].id
    assert st.counter == f"2 / {n}"
    for _ in range(n + 3):
        st.next()
    assert st.current()["id"] == findings[-1].id  # stays at the last
    assert st.prev()["id"] == findings[-2].id
    assert st.go(findings[0].id)["id"] == findings[0].id


def test_confirm_and_dismiss_are_stored_at_once(tmp_path: Path, corpus) -> None:
    reports, findings = corpus
    st, store = make(tmp_path, reports, findings)
    first, second = st.current()["id"], findings[1].id
    st.confirm("合计确有错误")
    assert st.current()["id"] == second  # moved on
    st.dismiss("误报")
    # Another process (a new store on the same file) sees both decisions.
    latest = ReviewStore(store.path).decisions().set_index("finding_id")
    assert latest.loc[first, "status"] == "confirmed"
    assert latest.loc[first, "note"] == "合计确有错误"
    assert latest.loc[second, "status"] == "dismissed"
    st.go(first)
    assert st.current()["review_status"] == "confirmed"
    assert "合计确有错误" in st.render_html()

    # Filtered to open findings, a decided one leaves the view and the next takes its place.
    st.set_filter(status="open")
    before = len(st)
    third = st.current()["id"]
    st.confirm()
    assert len(st) == before - 1
    assert st.current()["id"] != third
    st.set_filter(status="confirmed")
    assert set(st.filtered()["id"]) == {first, third}


def test_decision_on_findings_never_synced(tmp_path: Path, hostile) -> None:
    report, finding = hostile
    store = ReviewStore(tmp_path / "fresh.db")
    st = Stepper(findings_frame([finding]), [report], store)
    st.dismiss("不成立")
    assert store.decisions().iloc[0]["finding_id"] == finding.id


def test_report_text_is_escaped(tmp_path: Path, hostile) -> None:
    report, finding = hostile
    store = ReviewStore(tmp_path / "audit.db")
    st = Stepper(findings_frame([finding]), [report], store)
    page = st.render_html()
    assert "<script" not in page.lower()
    assert "<img" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page  # shown as text
    # The evidence is found in the narrative and marked there.
    assert "<mark>一是&lt;script&gt;" in page.replace("\n", "")
    # The finding's cell is highlighted in the table.
    assert "background-color: #FFC7CE" in page
    assert "预期" in page and ">5<" in page


def test_widget_buttons(tmp_path: Path, corpus) -> None:
    reports, findings = corpus
    st, store = make(tmp_path, reports, findings)
    w = st.widget
    assert w is st.widget  # built once
    c = st._widgets
    assert c["prev"].disabled and c["counter"].value == f"1 / {len(findings)}"
    c["next"].click()
    assert c["counter"].value == f"2 / {len(findings)}"
    assert findings[1].rule in c["body"].value
    c["note"].value = "按钮确认"
    c["confirm"].click()
    assert store.decisions().set_index("finding_id").loc[findings[1].id, "note"] == "按钮确认"
    agency = findings[-1].agency
    c["dropdowns"]["agency"].value = agency
    assert set(st.filtered()["agency"]) == {agency}
    c["dropdowns"]["agency"].value = ""
    assert len(st.filtered()) == len(findings)


# ------------------------------------------------------------------ a day's work
def test_starts_on_open_and_filters_survive_a_rerun(tmp_path: Path, corpus) -> None:
    reports, findings = corpus
    store = ReviewStore(tmp_path / "audit.db")
    store.sync(findings)
    store.decide(findings[0].id, "confirmed", "已确认", who="甲")
    st = Stepper(findings_frame(findings), reports, store, who="甲")
    assert st.filters["status"] == "open"  # 待审核 first
    assert len(st) == len(findings) - 1 and findings[0].id not in set(st.filtered()["id"])
    agency = findings[-1].agency
    st.set_filter(agency=agency)
    st.next()
    here = st.current()["id"]
    # The notebook is run again: a new stepper on the same database keeps filters and place.
    again = Stepper(findings_frame(findings), reports, ReviewStore(store.path), who="甲")
    assert again.filters["agency"] == agency and again.filters["status"] == "open"
    assert again.current()["id"] == here
    assert again.widget is not None
    assert again._widgets["dropdowns"]["agency"].value == agency
    assert again._widgets["dropdowns"]["status"].value == "open"


def test_note_is_never_lost_without_asking(tmp_path: Path, corpus) -> None:
    reports, findings = corpus
    st, store = make(tmp_path, reports, findings)
    c = st.widget and st._widgets
    first = st.current()["id"]
    c["note"].value = "写了一半的备注"
    c["next"].click()
    # Nothing moved; the stepper asks.
    assert st.current()["id"] == first and c["note"].value == "写了一半的备注"
    assert c["guard"].layout.display == "flex" and "备注尚未保存" in c["guard_text"].value
    c["guard_stay"].click()
    assert st.current()["id"] == first and c["guard"].layout.display == "none"
    assert c["note"].value == "写了一半的备注"
    c["keys"].press("j")  # the J key asks the same way
    assert st.current()["id"] == first and c["guard"].layout.display == "flex"
    c["guard_save"].click()  # keep it (a draft: the finding is still open) and move on
    assert st.current()["id"] == findings[1].id and c["note"].value == ""
    assert st.drafts[first] == "写了一半的备注"
    c["keys"].press("k")
    assert st.current()["id"] == first and c["note"].value == "写了一半的备注"
    c["keys"].press("c")  # confirming stores the draft with the decision
    assert store.decisions().set_index("finding_id").loc[first, "note"] == "写了一半的备注"
    # A filter change asks too; discarding drops the text.
    c["note"].value = "不要了"
    c["dropdowns"]["severity"].value = "error"
    assert c["guard"].layout.display == "flex" and st.filters["severity"] is None
    c["guard_drop"].click()
    assert st.filters["severity"] == "error" and c["note"].value == st.saved_note()
    # Ctrl+Enter on a decided finding records its decision again with the new note.
    st.set_filter(severity=None)
    st.go(first)
    st._sync_widgets()
    c["note"].value = "补充：已电话核实"
    c["keys"].press("save")
    latest = store.decisions().set_index("finding_id").loc[first]
    assert (latest["status"], latest["note"]) == ("confirmed", "补充：已电话核实")
    assert "备注已保存" in c["message"].value


def test_reviewer_name_asked_once(tmp_path: Path, corpus, monkeypatch) -> None:
    monkeypatch.setenv("AUDITLIB_CONFIG_DIR", str(tmp_path / "config"))
    reports, findings = corpus
    store = ReviewStore(tmp_path / "audit.db")
    store.sync(findings)
    st = Stepper(findings_frame(findings), reports, store)
    c = st.widget and st._widgets
    assert c["name_row"].layout.display == "flex"
    c["confirm"].click()
    assert "审核人姓名" in c["message"].value and store.decisions().empty  # no decision without a name
    c["name"].value = "张三"
    c["name_save"].click()
    assert c["name_row"].layout.display == "none"
    c["confirm"].click()
    rec = store.decisions().iloc[0]
    assert rec["who"] == "张三" and rec["decided_at"].endswith("+08:00")  # Beijing time
    # The next session is not asked again.
    st2 = Stepper(findings_frame(findings), reports, store)
    assert st2.who == "张三"
    assert st2.widget is not None and st2._widgets["name_row"].layout.display == "none"


def test_rule_names_value_labels_and_cells(tmp_path: Path, corpus) -> None:
    reports, findings = corpus
    st, _ = make(tmp_path, reports, findings)
    ttm = next(f for f in findings if f.rule == "TEXT_TABLE_MISMATCH")
    st.go(ttm.id)
    page = st.render_html()
    assert "正文所述数量与表格不一致" in page  # the rule's Chinese name beside its code
    assert "表格值（预期）</th><td style='padding: 0 8px'>3<" in page
    assert "正文值（实际）</th><td style='padding: 0 8px'>1<" in page
    # 不予公开 is the sum of rows 1–8: each of their 总计 cells is highlighted, under its group heading.
    import re

    rule = re.search(r"([^{}]*)\{\s*background-color: #FFC7CE;\s*font-weight: bold;", page)
    assert rule is not None
    # Cell ids use the sheets' short class names (view._CLASSES: row → r, col → c).
    cells = re.findall(r"_r(\d+)_c(\d+)", rule.group(1))
    assert sorted(int(r) for r, c in cells) == list(range(4, 12)) and {c for _, c in cells} == {"6"}
    assert "（三）不予公开 2.其他法律行政法规禁止公开" in page
    yoy = next(f for f in findings if f.rule == "YOY_IMPOSSIBLE")
    st.go(yoy.id)
    page = st.render_html()
    assert "正文所称同比变化（实际）</th><td style='padding: 0 8px'>400<" in page


def test_a_draft_survives_a_kernel_restart(tmp_path: Path, corpus) -> None:
    reports, findings = corpus
    st, store = make(tmp_path, reports, findings)
    c = st.widget and st._widgets
    first = st.current()["id"]
    c["note"].value = "待电话核实"
    c["keys"].press("save", "待电话核实")  # Ctrl+Enter on a finding still open: a draft
    assert "暂存" in c["message"].value and store.decisions().empty
    del st, c  # the kernel dies; a new one opens the same database
    again = Stepper(findings_frame(findings), reports, ReviewStore(store.path), who="测试审核员", filters={})
    assert again.current()["id"] == first and again.saved_note() == "待电话核实"
    assert again.widget is not None and again._widgets["note"].value == "待电话核实"
    assert not again.note_dirty()  # nothing to ask about: it is kept
    again._widgets["keys"].press("c", "待电话核实")  # deciding stores the note and ends the draft
    assert store.decisions().set_index("finding_id").loc[first, "note"] == "待电话核实"
    assert first not in ReviewStore(store.path).drafts()
