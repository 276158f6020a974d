"""The supervisors' dashboard: pure data functions, and the real Voilà server in a browser."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from auditlib import dashboard as dash
from auditlib.audit import audit
from auditlib.corpus import load_reports, tidy
from auditlib.findings import findings_frame

REPO = Path(__file__).resolve().parent.parent
REPORTS = REPO / "reports_in"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def corpus():
    reports = load_reports(REPORTS)
    findings = dash.prepare(findings_frame(audit(reports)), reports)
    return reports, findings


# ------------------------------------------------------------------ pure functions
@pytest.mark.parametrize(
    "name, region",
    [
        ("柳州市城中区人民政府", "柳州市"),
        ("柳州市柳江区发展和改革局", "柳州市"),
        ("淮安市人民政府", "淮安市"),
        ("石龙区人民政府办公室", "石龙区"),
        ("广西壮族自治区柳州市人民政府", "柳州市"),
        ("江苏省淮安市人民政府", "淮安市"),
        ("融水苗族自治县人民政府", "融水苗族自治县"),
        ("", "其他"),
        (None, "其他"),
    ],
)
def test_region_of(name, region):
    assert dash.region_of(name) == region


def test_overview_on_samples(corpus):
    reports, findings = corpus
    ov = dash.overview(findings, reports)
    assert ov.n_reports == 6
    assert ov.n_unreadable == 0
    serious = set(findings.loc[findings["severity"].astype(str).isin(["error", "warning"]), "source"])
    assert ov.n_clean == 6 - len(serious)
    assert ov.share_clean == pytest.approx(ov.n_clean / 6)
    assert ov.by_severity["count"].sum() == len(findings) == ov.n_findings
    assert ov.by_rule["count"].sum() == len(findings)
    assert list(ov.by_severity["severity"]) == ["error", "warning", "info"]


def test_heatmap_rows_are_agencies(corpus):
    reports, findings = corpus
    agencies = sorted(dash.report_frame(reports, dash.canonical_agencies(reports))["agency"].unique())
    hm = dash.heatmap_frame(findings, agencies)
    assert sorted(hm.index) == agencies
    assert "淮安市人民政府" in hm.index
    assert int(hm.to_numpy().sum()) == len(findings)
    assert set(hm.columns) == set(findings["rule"])


def test_outcome_mix(corpus):
    reports, _ = corpus
    mix = dash.outcome_mix(tidy(reports))
    assert len(mix) == 6
    assert list(mix.columns[:4]) == ["agency", "year", "region", "new_received"]
    row = mix[mix["agency"] == "柳州市人民政府办公室"].iloc[0]
    r = next(r for r in reports if r.meta.agency == "柳州市人民政府办公室")
    assert row["new_received"] == r.value("table3", "new_received", "total")
    assert row["予以公开"] == r.value("table3", "granted", "total")


def test_html_is_escaped():
    import pandas as pd

    df = pd.DataFrame({("k", "<b>列</b>"): [1]}, index=pd.MultiIndex.from_tuples([("r", "<script>alert(1)</script>")]))
    out = dash.table_html(df, caption="<i>x</i>")
    assert "<script>" not in out and "&lt;script&gt;" in out and "&lt;b&gt;" in out
    f = pd.DataFrame([{"severity": "error", "rule": "R", "location": "<img src=x>", "message": "m",
                       "evidence": "<script>alert(2)</script>", "expected": None, "actual": None}])
    html = dash.findings_html(f)
    assert "<script>" not in html and "<img" not in html


def test_review_progress_without_db(corpus, tmp_path):
    _, findings = corpus
    df, has = dash.review_status(findings, tmp_path / "missing.db")
    assert not has and set(df["review_status"]) == {"open"}


def test_refuses_public_host_without_expose():
    with pytest.raises(dash.DashboardError):
        dash.serve(REPORTS, "outputs/audit.db", host="0.0.0.0")


# ------------------------------------------------------------------ real server
def _get(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=120) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_exposed_server_requires_token(tmp_path):
    srv = dash.serve(REPORTS, tmp_path / "audit.db", host="0.0.0.0", expose=True, quiet=True)
    try:
        assert srv.token and f"token={srv.token}" in srv.url
        srv.wait(60)
        base = f"http://127.0.0.1:{srv.port}/"
        assert _get(base) in (302, 401, 403)
        assert _get(base + "?token=wrong") in (302, 401, 403)
        assert _get(base + f"?token={srv.token}") == 200
    finally:
        srv.stop()
    assert srv.process.poll() is not None


def _browser(p):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium missing (scripts/test installs Debian's chromium)")
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def _watch(page) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    dialogs: list[str] = []

    def on_console(msg):
        if msg.type == "error":
            errors.append(f"console: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def on_dialog(d):
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    # Voilà's page template links Font Awesome from cdn.jsdelivr.net; offline that fails with
    # "Failed to load resource". Serve an empty stylesheet so the console check stays meaningful.
    page.route(
        "https://cdn.jsdelivr.net/**",
        lambda route: route.fulfill(status=200, content_type="text/css", body=""),
    )
    return errors, dialogs


# jupyterlab-plotly's mime renderer, after drawing a chart, snapshots it to PNG and calls
# model.setData(); Voilà's output model has no setData, so each chart logs this harmless
# page error (the chart itself is drawn). Favicon 404s are ignored too, should any occur.
KNOWN_NOISE = ("setData is not a function", "favicon")


def _real(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(n in e for n in KNOWN_NOISE)]


@pytest.mark.slow
def test_dashboard_in_browser(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium missing (scripts/test installs Debian's chromium)")
    srv = dash.serve(REPORTS, tmp_path / "audit.db", quiet=True)
    try:
        srv.wait(60)
        with playwright.sync_playwright() as p:
            browser = _browser(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors, dialogs = _watch(page)
            t0 = time.monotonic()
            page.goto(srv.url, wait_until="commit", timeout=120_000)
            page.wait_for_selector("text=淮安市人民政府", timeout=120_000)
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
            page.wait_for_selector("text=已审计报告", timeout=60_000)  # the widgets, not only the outputs
            page.wait_for_selector(".widget-dropdown select", timeout=60_000)
            first = time.monotonic() - t0
            print(f"\nfirst render (page load → agency names, a Plotly chart and the widgets): {first:.1f} s")
            body = page.inner_text("body")
            for name in ("淮安市人民政府", "柳州市人民政府办公室", "石龙区人民政府办公室"):
                assert name in body
            assert page.locator(".js-plotly-plot, .plotly-graph-div").count() >= 5
            assert "已审计报告" in body

            # Drill-down: pick another agency and see its tables and findings.
            drill = page.locator(".widget-dropdown select").last
            drill.select_option(label="石龙区人民政府办公室")
            page.wait_for_selector("h3:has-text('石龙区人民政府办公室')", timeout=30_000)
            page.wait_for_selector("text=T3_RESULTS_SUM", timeout=30_000)
            assert "表三 依申请公开" in page.inner_text("body")

            # Voilà's page scrolls inside its own container: size the viewport to the content.
            height = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
            page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 12_000)})
            page.wait_for_timeout(1500)  # let the last charts draw before the picture
            out = REPO / "outputs" / "dashboard.png"
            out.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
        assert not dialogs
        assert _real(errors) == []
    finally:
        srv.stop()


@pytest.mark.slow
def test_untrusted_agency_text_is_escaped(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium missing (scripts/test installs Debian's chromium)")
    src = REPORTS / "001_0821f10813b957c3.txt"  # its agency is read from the title line
    text = src.read_text(encoding="utf-8")
    agency = load_reports(src)[0].meta.agency
    evil = "<script>alert(1)</script>" + agency
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "evil.txt").write_text(text.replace(agency, evil), encoding="utf-8")
    shutil.copy(REPORTS / "huaian-2024.pdf", reports / "huaian-2024.pdf")
    parsed = load_reports(reports)
    assert any("<script>" in (r.meta.agency or "") for r in parsed), "fixture must carry the script"

    srv = dash.serve(reports, tmp_path / "audit.db", quiet=True)
    try:
        srv.wait(60)
        with playwright.sync_playwright() as p:
            browser = _browser(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors, dialogs = _watch(page)
            page.goto(srv.url, wait_until="commit", timeout=120_000)
            page.wait_for_selector("text=淮安市人民政府", timeout=120_000)
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
            page.wait_for_selector(".widget-dropdown select", timeout=60_000)
            page.locator(".widget-dropdown select").last.select_option(label=evil)
            page.wait_for_selector("h3:has-text('alert(1)')", timeout=30_000)
            page.wait_for_timeout(1000)
            body = page.inner_text("body")
            assert "<script>alert(1)</script>" in body  # shown as text
            assert not dialogs
            browser.close()
        assert _real(errors) == []
    finally:
        srv.stop()
