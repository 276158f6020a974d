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
    store = ReviewStore(tmp_path / "audit.db")
    store.sync(findings)
    return Stepper(findings_frame(findings), reports, store), store


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
