"""The stepper in a real JupyterLab in Chromium: the keyboard, the note guard, the action bar."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pdfplumber
import pytest

from auditlib.review import ReviewStore
from tests.test_dashboard import _browser, _playwright
from tests.test_locate import red_box

REPO = Path(__file__).resolve().parent.parent
TOKEN = "stepper-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A project folder (reports_in/, notebooks/review.ipynb) served by a real JupyterLab."""
    project = tmp_path / "project"
    shutil.copytree(REPO / "reports_in", project / "reports_in")
    (project / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks" / "review.ipynb", project / "notebooks" / "review.ipynb")
    port = _free_port()
    env = {**os.environ, "AUDITLIB_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_CONFIG_DIR": str(tmp_path / "jcfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jrt")}
    log = (tmp_path / "lab.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", "--allow-root", f"--ServerApp.root_dir={project}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "lab.log").read_text(errors="replace")[-3000:]) from None
                time.sleep(0.5)
        yield url, project
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _counter(page) -> str:
    return page.locator(".auditlib-counter").inner_text().strip()


@pytest.mark.slow
def test_stepper_in_jupyterlab(lab):
    playwright = _playwright()
    url, project = lab
    with playwright.sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/lab/tree/notebooks/review.ipynb?token={TOKEN}", timeout=120_000)
        page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=120_000)
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext && window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=120_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        root = page.locator(".auditlib-stepper-root")
        root.wait_for(timeout=180_000)
        page.wait_for_function(
            "() => document.querySelector('.auditlib-stepper-root')?.hasAttribute('tabindex')", timeout=60_000
        )
        total = int(_counter(page).split("/")[1])
        assert _counter(page) == f"1 / {total}" and total > 5

        # Asked once for the reviewer's name.
        page.locator(".auditlib-name input").fill("张审核")
        page.locator(".auditlib-name button").click()
        page.wait_for_selector(".auditlib-name", state="hidden")
        assert json.loads((project.parent / "config" / "reviewer.json").read_text(encoding="utf-8"))["name"] == "张审核"

        # The keys act on the stepper, not on JupyterLab's cells.
        active = "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].findIndex(c => c.classList.contains('jp-mod-active'))"
        page.locator(".auditlib-pane").click()
        cell_before = page.evaluate(active)
        page.keyboard.press("j")
        page.wait_for_function(f"() => document.querySelector('.auditlib-counter').innerText.trim() === '2 / {total}'")
        page.keyboard.press("j")
        page.wait_for_function(f"() => document.querySelector('.auditlib-counter').innerText.trim() === '3 / {total}'")
        page.keyboard.press("k")
        page.wait_for_function(f"() => document.querySelector('.auditlib-counter').innerText.trim() === '2 / {total}'")
        assert page.evaluate(active) == cell_before
        assert page.locator(".jp-Notebook .jp-Cell").count() == 3  # no cell copied, pasted or deleted

        # The action bar keeps its place and the widget its height from finding to finding.
        heights = set()
        tops = set()
        for _ in range(3):
            heights.add(round(root.bounding_box()["height"]))
            tops.add(round(page.locator(".auditlib-bar").bounding_box()["y"]))
            page.keyboard.press("j")
            time.sleep(0.4)
        assert len(heights) == 1 and len(tops) == 1, (heights, tops)
        page.keyboard.press("k")
        page.keyboard.press("k")
        page.keyboard.press("k")
        page.wait_for_function(f"() => document.querySelector('.auditlib-counter').innerText.trim() === '2 / {total}'")

        # N writes a note; moving on with it unsaved asks first.
        page.keyboard.press("n")
        assert page.evaluate("() => document.activeElement.closest('.auditlib-note') !== null")
        page.keyboard.type("核对原件后确认")
        page.keyboard.press("Escape")
        page.keyboard.press("j")
        page.wait_for_selector(".auditlib-guard", state="visible")
        assert _counter(page) == f"2 / {total}"
        assert page.locator(".auditlib-note textarea").input_value() == "核对原件后确认"
        page.locator(".auditlib-guard button", has_text="留在此项").click()
        page.wait_for_selector(".auditlib-guard", state="hidden")
        assert page.locator(".auditlib-note textarea").input_value() == "核对原件后确认"

        # C confirms with the note (stored at once) and moves on; the view holds open findings only.
        fid = page.locator(".auditlib-stepper p").last.inner_text().split("·")[-1].strip()
        page.locator(".auditlib-pane").click()
        page.keyboard.press("c")
        page.wait_for_function(
            f"() => document.querySelector('.auditlib-counter').innerText.trim() === '2 / {total - 1}'"
        )
        store = ReviewStore(project / "outputs" / "audit.db")
        rec = store.decisions().set_index("finding_id").loc[fid]
        assert (rec["status"], rec["note"], rec["who"]) == ("confirmed", "核对原件后确认", "张审核")
        assert rec["decided_at"].endswith("+08:00")

        # Ctrl+Enter in the note box keeps a draft; D dismisses with it.
        page.keyboard.press("n")
        page.keyboard.type("误报：表格原件无误")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector("text=备注已暂存")
        page.keyboard.press("Escape")
        fid2 = page.locator(".auditlib-stepper p").last.inner_text().split("·")[-1].strip()
        page.keyboard.press("d")
        page.wait_for_function(
            f"() => document.querySelector('.auditlib-counter').innerText.trim() === '2 / {total - 2}'"
        )
        rec = store.decisions().set_index("finding_id").loc[fid2]
        assert (rec["status"], rec["note"]) == ("dismissed", "误报：表格原件无误")
        # The PDF's finding shows its page with the sentence boxed where pdfplumber has its characters.
        page.locator(".widget-dropdown", has_text="机关").locator("select").select_option(label="淮安市人民政府")
        img = page.locator("img.auditlib-page")
        img.wait_for(timeout=60_000)
        img.scroll_into_view_if_needed()
        shown = img.bounding_box()
        assert shown["width"] > 400 and shown["height"] > 500
        src = img.get_attribute("src")
        number = int(img.get_attribute("data-page"))
        png = base64.b64decode(src.split(",", 1)[1])
        x0, top, x1, bottom = red_box(png)
        with pdfplumber.open(project / "reports_in" / "huaian-2024.pdf") as pdf:
            words = pdf.pages[number - 1].dedupe_chars().search("全年收取政府信息公开信息处理费")
        assert len(words) == 1
        w = words[0]
        assert x0 < w["x0"] < w["x1"] < x1 and top < w["top"] < w["bottom"] < bottom
        assert bottom - top < 80  # the sentence's lines, not the page
        assert not [e for e in errors if "auditlib" in e.lower() or "anywidget" in e.lower()], errors
        browser.close()
