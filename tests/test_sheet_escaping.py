"""A report's text is untrusted: the sheet's static HTML shows it and runs nothing, in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditlib.sheets import run_sheets
from tests.conftest import edited

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EVIL = "<script>alert(1)</script>石龙区人民政府办公室"


def test_hostile_report_in_sheet_html(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium missing (scripts/test installs Debian's chromium)")
    reports = tmp_path / "in"
    reports.mkdir()
    edited(
        reports,
        "004_27f28e9d7369eeba",
        ("政府办公室2021年", EVIL + "2021年"),
        ("申请数量同比上升400%", '申请数量同比上升400%<img src=x onerror="alert(2)">'),
    )
    (res,) = run_sheets(reports, tmp_path / "out", jobs=1, progress=False)
    assert res.ok, res.error
    page_file = res.directory / "audit_sheet.html"
    assert res.directory.resolve().parent == (tmp_path / "out").resolve()  # the name could not escape
    dialogs: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_timeout(1500)
        body = page.inner_text("body")
        browser.close()
    assert "<script>alert(1)</script>" in body  # shown as text
    assert dialogs == []  # and nothing ran
