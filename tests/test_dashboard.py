"""The supervisors' dashboard: pure data functions, and the real Voilà server in a browser."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from auditlib import dashboard as dash
from auditlib import figures
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
    ov = dash.overview(findings, dash.report_frame(reports))
    assert ov.n_reports == 6
    assert ov.n_unreadable == 0
    serious = set(findings.loc[findings["severity"].astype(str).isin(["error", "warning"]), "source"])
    assert ov.n_clean == 6 - len(serious)
    assert ov.share_clean == pytest.approx(ov.n_clean / 6)
    assert ov.by_severity["count"].sum() == len(findings) == ov.n_findings
    assert ov.by_rule["count"].sum() == len(findings)
    assert list(ov.by_severity["severity"]) == ["error", "warning", "info"]


def test_findings_card_follows_the_severity_filter(corpus):
    # Reported: 2021 + 错误 showed 13 findings while the charts added up to 3.
    reports, findings = corpus
    reps = dash.filter_frame(dash.report_frame(reports), years=[2021])
    fs_all = findings[findings["source"].isin(set(reps["source"]))]
    fs = dash.filter_frame(fs_all, severities=["error"])
    assert 0 < len(fs) < len(fs_all)
    shown = dash.overview(fs, reps)
    cards = dash.kpi_html(dash.overview(fs_all, reps), None, shown)
    card = int(re.search(r"<b>(\d+)</b>发现", cards).group(1))
    assert card == len(fs) == shown.by_severity["count"].sum() == shown.by_rule["count"].sum()
    assert re.search(r"<b>(\d+)</b>已审计报告", cards).group(1) == str(len(reps))


def test_heatmap_rows_are_agencies(corpus):
    reports, findings = corpus
    agencies = sorted(dash.report_frame(reports, dash.canonical_agencies(reports))["agency"].unique())
    hm = dash.heatmap_frame(findings, agencies)
    assert sorted(hm.index) == agencies
    assert "淮安市人民政府" in hm.index
    assert int(hm.to_numpy().sum()) == len(findings)
    assert set(hm.columns) == set(findings["rule"])


def test_heat_table_shades_counts_and_keeps_the_busiest_agencies(corpus):
    import pandas as pd

    reports, findings = corpus
    hm = dash.heatmap_frame(findings, sorted(dash.report_frame(reports, dash.canonical_agencies(reports))["agency"].unique()))
    page = dash.heatmap_html(hm, link=lambda a: "?agency=" + a)
    cells = re.findall(r"<td(?: style=\"background:(#[0-9a-f]{6})[^\"]*\" title=\"[^\"]*\")?>(\d*)</td>", page)
    assert len(cells) == hm.size
    assert sum(int(n) for _, n in cells if n) == len(findings)
    assert all(bool(colour) == bool(n) for colour, n in cells)  # a zero is a blank, unshaded cell
    # The darker the shade, the larger the count.
    shade = {int(n): sum(int(colour[i:i + 2], 16) for i in (1, 3, 5)) for colour, n in cells if n}
    counts = sorted(shade)
    assert all(shade[a] > shade[b] for a, b in itertools.pairwise(counts))
    assert dash.heat_colour(0) == "#fff5f0" and dash.heat_colour(1) == "#67000d"
    # Report text is text: an agency name cannot open a tag or leave its attribute.
    evil = pd.DataFrame([[2]], index=pd.Index(['"><img src=x onerror=alert(1)>局'], name="agency"), columns=["T3_BALANCE"])
    out = dash.heatmap_html(evil, link=lambda a: "?agency=" + a)
    assert "<img" not in out and "&quot;&gt;&lt;img" in out
    # Past 40 agencies: the 40 with the most findings, and the title says so.
    many = pd.DataFrame({"R": list(range(1, 46))}, index=[f"机关{i}" for i in range(1, 46)])
    out = dash.heatmap_html(many)
    assert out.split("<tbody>")[1].count("<tr>") == 40 and "发现最多的40个机关（共45个）" in out and "机关1<" not in out


def test_outcome_mix(corpus):
    reports, _ = corpus
    mix = dash.outcome_mix(tidy(reports))
    assert len(mix) == 6
    assert list(mix.columns[:4]) == ["agency", "year", "region", "new_received"]
    row = mix[mix["agency"] == "柳州市人民政府办公室"].iloc[0]
    r = next(r for r in reports if r.meta.agency == "柳州市人民政府办公室")
    assert row["new_received"] == r.value("table3", "new_received", "total")
    assert row["予以公开"] == r.value("table3", "granted", "total")


def test_figures_are_plotly_json_built_without_plotly():
    # plotly's figure objects validate every property (half a filter's kernel time) and
    # plotly.io's renderers import nbformat and jsonschema (seconds of a cold kernel).
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from auditlib import figures\n"
        "from auditlib.corpus import load_reports\n"
        f"rs = [r for r in load_reports({str(REPORTS)!r}) if r.meta.agency == '石龙区人民政府办公室']\n"
        "fig = json.loads(json.dumps(figures.agency_table3(rs), allow_nan=False))\n"
        "print(json.dumps({'loaded': [m for m in ('plotly', 'nbformat') if m in sys.modules], 'traces': len(fig['data']),\n"
        "                  'y': fig['data'][0]['y'], 'template': 'template' in fig['layout']}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    import json

    got = json.loads(out.stdout)
    assert got["loaded"] == []
    r = next(r for r in load_reports(REPORTS) if r.meta.agency == "石龙区人民政府办公室")
    # No template for plotly.js to merge into every chart: the look is set on the layout itself.
    assert got["traces"] == 1 and not got["template"]
    # 予以公开 … 其他处理 of 004's 表三 总计 column, blank groups as null.
    assert got["y"] == [dash.agency_outcomes(r)[n] for n in dash.OUTCOMES]
    assert got["y"][0] == r.value("table3", "granted", "total")


def test_chart_widget_sends_a_figure_only_when_it_changes(corpus):
    from auditlib.chart_widget import Chart

    reports, findings = corpus
    ov = dash.overview(findings, dash.report_frame(reports))
    chart = Chart()
    sent = []
    chart.observe(lambda change: sent.append(change["new"]), names="figure")
    chart.show(figures.severity(ov.by_severity))
    chart.show(figures.severity(ov.by_severity))  # the same figure again: nothing to send
    assert len(sent) == 1
    fig = chart.figure
    assert fig == figures.severity(ov.by_severity)
    assert fig["data"][0]["x"] == ["错误", "警告", "提示"]
    errors_only = dash.overview(findings[findings["severity"].astype(str) == "error"], dash.report_frame(reports))
    chart.show(figures.severity(errors_only.by_severity))
    assert len(sent) == 2 and chart.figure != fig


def test_plotlyjs_is_served_from_a_data_folder_of_its_own():
    import os

    from auditlib import chart_widget

    src = chart_widget.plotlyjs_source()
    assert src.is_file() and src.stat().st_size > 1_000_000 and src.name.endswith(".min.js")
    head = src.read_bytes()[:4000]
    assert b"plotly" in head.lower()
    root = chart_widget.static_dir("auditlib")
    try:
        served = root / "voila" / "templates" / "auditlib" / "static" / chart_widget.PLOTLY_JS
        assert served.is_file() and not served.is_symlink()  # tornado refuses links out of its folder
        assert served.read_bytes() == src.read_bytes()
        assert os.stat(served).st_mode & 0o444
    finally:
        shutil.rmtree(root)


def test_report_detail_marks_flagged_cells_and_escapes(corpus):
    import pandas as pd

    reports, findings = corpus
    r = next(r for r in reports if r.meta.agency == "石龙区人民政府办公室")
    fs = findings[findings["source"] == r.source]
    assert len(fs)
    out = dash.report_detail_html("<b>石龙区</b>", r, fs)
    assert "&lt;b&gt;石龙区&lt;/b&gt;" in out and "<b>石龙区</b>" not in out
    for rule in set(fs["rule"].astype(str)):
        assert rule in out
    for caption in ("表二 主动公开", "表三 依申请公开", "表四 复议诉讼"):
        assert caption in out
    cells_flagged = fs.dropna(subset=["table", "row"])
    assert ('class="num flag"' in out or 'class="na flag"' in out) == (len(cells_flagged) > 0)
    # Past the limit the list says how many there are.
    many = pd.concat([fs] * 80, ignore_index=True)
    listed = dash.findings_html(many, limit=10)
    assert listed.count("<tr>") - listed.count("<tr><th>") == 10  # ten rows besides the heading
    assert f"共 {len(many)} 条，显示前 10 条" in listed


def test_reviews_differ(corpus, tmp_path):
    from auditlib.review import ReviewStore

    reports, findings = corpus
    db = tmp_path / "audit.db"
    before, has = dash.review_status(findings, db)
    assert not has
    again, _ = dash.review_status(findings, db)
    assert not dash.reviews_differ(before, again)
    store = ReviewStore(db)
    store.sync(audit(reports))
    synced, _ = dash.review_status(findings, db)
    assert not dash.reviews_differ(before, synced)  # a database without decisions shows the same
    store.decide(findings["id"].iloc[0], "confirmed", "核实", who="tester")
    decided, has = dash.review_status(findings, db)
    assert has and dash.reviews_differ(before, decided)


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


def _playwright():
    """playwright.sync_api, or a skip when it or Debian's Chromium is missing."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium missing (scripts/test installs Debian's chromium)")
    return playwright


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

    # Everything offline: any request that leaves the server, or fails, is an error.
    def on_request(req):
        host = urllib.parse.urlsplit(req.url).hostname
        if req.url.split(":", 1)[0] in ("http", "https", "ws", "wss") and host not in ("127.0.0.1", "localhost"):
            errors.append(f"external request: {req.url}")

    page.on("request", on_request)
    page.on("requestfailed", lambda req: errors.append(f"requestfailed: {req.url} {req.failure}"))
    return errors, dialogs


def _page(p):
    """A browser, a watched page in it, and the page's errors and dialogs."""
    browser = _browser(p)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors, dialogs = _watch(page)
    return browser, page, errors, dialogs


# Favicon 404s are ignored, should any occur. Leaving the page sends Voilà's kernel-shutdown
# beacon, which the browser reports as aborted with the page (the server gets it: see
# test_kernels_are_freed_and_bounded).
KNOWN_NOISE = ("favicon", "/voila/api/shutdown/")
# The charts (auditlib.chart_widget): every one on screen drawn, none waiting for its figure.
DRAWN = "() => document.querySelectorAll('.adash-chart[data-drawn]').length >= 4 && !document.querySelector('.adash-chart[data-pending]')"
DRAW_COUNTS = "() => [...document.querySelectorAll('.adash-chart')].map(e => Number(e.dataset.drawn || 0))"


def _visit(page, url: str, ready: str) -> str:
    """Open the dashboard at ``url`` until ``ready`` shows; the websocket of the kernel serving the visit."""
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(url, wait_until="commit", timeout=120_000)
    page.wait_for_selector(ready, timeout=120_000)
    return next(u for u in sockets if "/api/kernels/" in u and "/channels" in u)


def _real(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(n in e for n in KNOWN_NOISE)]


@pytest.mark.slow
def test_dashboard_in_browser(tmp_path):
    playwright = _playwright()
    srv = dash.serve(REPORTS, tmp_path / "audit.db", quiet=True)
    try:
        srv.wait(60)
        with playwright.sync_playwright() as p:
            browser, page, errors, dialogs = _page(p)
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
            assert page.locator(".js-plotly-plot, .plotly-graph-div").count() >= 4
            # The agencies × rules table: a row per agency, its counts shaded, a blank where none.
            heat = page.locator(".adash-heat tbody tr")
            assert heat.count() == 6, heat.count()
            assert page.locator(".adash-heat td[style*=background]").count() > 0
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
            # Each chart's margins fit its labels as drawn: plotly's automargin, the safety net,
            # did not have to widen one (and draw the chart a second time).
            widened = page.evaluate(
                "() => [...document.querySelectorAll('.adash-chart .js-plotly-plot')].map(g => [g.layout.title.text,"
                " g._fullLayout._size.l - g.layout.margin.l, g._fullLayout._size.b - g.layout.margin.b])"
            )
            assert len(widened) >= 5 and all(left <= 0 and below <= 0 for _, left, below in widened), widened
            out = REPO / "outputs" / "dashboard.png"
            out.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
        assert not dialogs
        assert _real(errors) == []
    finally:
        srv.stop()


def _card(page, label: str) -> int:
    return int(page.locator(f".adash-kpi:has-text('{label}') b").inner_text())


def _pgm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and grey pixels of a binary PGM (what ``pdftoppm -gray`` writes)."""
    data = path.read_bytes()
    magic, w, h, _maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    return int(w), int(h), pixels[: int(w) * int(h)]


def _check_print(pdf: Path, tmp_path: Path) -> None:
    """A4 landscape, a heading and a page number on every page, every section there, nothing past the margin."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert pages >= 2, info
    assert (round(w), round(h)) == (842, 595), info  # A4 landscape, in points
    for n in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "政府信息公开工作年度报告" in text, n
        assert re.search(rf"第\s*{n}\s*页\s*/\s*共\s*{pages}\s*页", text), (n, text[-200:])
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # The whole page printed, not one screenful: every section, the last ones included.
    for part in ("筛选 (filters)", "按级别的发现数", "按规则的发现数", "机关 × 规则", "办理结果构成", "审核进度",
                 "机关排名", "得分 = 100", "机关明细", "石龙区人民政府办公室"):
        assert part in text, part
    # Nothing runs past the right margin (10 mm): every word's box ends inside it ...
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes))
    assert right <= w - 10 / 25.4 * 72 + 1, right
    # ... and, looking at the pages as pictures, the right margin is blank on each of them.
    subprocess.run(["pdftoppm", "-gray", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    shots = sorted(tmp_path.glob("page*.pgm"))
    assert len(shots) == pages
    for shot in shots:
        pw, ph, px = _pgm(shot)
        assert pw > ph
        margin = int(pw * 8 / 297)  # 8 of the 10 mm
        dark = sum(1 for y in range(ph) for x in range(pw - margin, pw) if px[y * pw + x] < 200)
        assert dark == 0, (shot.name, dark)
        inked = sum(1 for b in px if b < 200)
        assert inked > pw * ph * 0.005, shot.name  # and the page is not blank


@pytest.mark.slow
def test_supervisors_view_in_browser(tmp_path, corpus):
    """The ranking and its links, the filters, the export and the printed page, on a real server, offline."""
    playwright = _playwright()
    if shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils missing (scripts/test installs it): the printed pages cannot be checked")
    from auditlib import index_page

    reports, findings = corpus
    # A sheet folder as `auditlib sheets` leaves it, for one agency.
    sheets = tmp_path / "out"
    target = "石龙区人民政府办公室"
    (sheets / "shilong").mkdir(parents=True)
    (sheets / "shilong" / index_page.SHEET_HTML).write_text(f"<html><body>{target} 审计表</body></html>", encoding="utf-8")
    (sheets / "shilong" / index_page.SHEET_XLSX).write_bytes(b"PK\x03\x04 a workbook")
    (sheets / "audit.db").write_bytes(b"SQLite format 3\x00 not to be served")
    index_page.update_index(sheets, [index_page.Entry(agency=target, directory="shilong", ok=True, run_at=dash.now())])
    frame = dash.report_frame(reports, dash.canonical_agencies(reports, findings))
    in_2021 = set(frame.loc[frame["year"] == 2021, "source"])
    errors_2021 = findings[findings["source"].isin(in_2021) & (findings["severity"].astype(str) == "error")]

    srv = dash.serve(REPORTS, sheets / "audit.db", quiet=True, preheat=False)
    try:
        srv.wait(60)
        with playwright.sync_playwright() as p:
            browser = _browser(p)
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page = context.new_page()
            errors, dialogs = _watch(page)
            page.goto(srv.url, wait_until="commit", timeout=120_000)
            page.wait_for_selector(".adash-rank", timeout=120_000)
            assert "Parameters" not in page.inner_text("body") and "AUDIT_REPORTS" not in page.inner_text("body")
            assert _card(page, "发现") == len(findings)
            rows = page.locator(".adash-rank tbody tr")
            assert rows.count() == frame["agency"].nunique()
            assert "得分 = 100 − 10×错误数/报告数" in page.inner_text(".adash-formula")

            # Each agency's links: its sheet and Excel (where written), its source documents, its drill-down.
            row = page.locator(f".adash-rank tbody tr:has(td:text-is('{target}'))")
            hrefs = {a.inner_text(): a.get_attribute("href") for a in row.locator("a").all()}
            assert set(hrefs) == {"审计表", "Excel", "原文2021", "明细"}, hrefs
            base = f"http://127.0.0.1:{srv.port}"
            got = page.request.get(base + hrefs["审计表"])
            assert got.status == 200 and f"{target} 审计表" in got.text()
            assert page.request.get(base + hrefs["Excel"]).body() == (sheets / "shilong" / index_page.SHEET_XLSX).read_bytes()
            source = next(s for s in frame.loc[frame["agency"] == target, "source"])
            assert page.request.get(base + hrefs["原文2021"]).body() == Path(source).read_bytes()
            # Only sheets and reports: not the database, nor anything up the tree.
            files = base + "/voila/files/" + sheets.relative_to(dash.files_root(REPORTS, sheets)).as_posix()
            for url in (files + "/audit.db", files + "/index.json", files + "/../../../../../../etc/passwd",
                        base + "/voila/files/notebooks/dashboard.ipynb", base + "/voila/files/auditlib/dashboard.py"):
                assert page.request.get(url).status in (403, 404), url

            # Sorting and roll-up.
            page.locator(".widget-dropdown:has-text('排序') select").select_option(label="发现 (findings)")
            page.locator(".widget-toggle-buttons button:has-text('降序')").click()
            page.wait_for_function("() => document.querySelector('.adash-rank tbody tr td:nth-child(2)').innerText === '石龙区人民政府办公室'")
            page.locator(".widget-dropdown:has-text('汇总到') select").select_option(label="市")
            page.wait_for_function("() => document.querySelectorAll('.adash-rank tbody tr').length === 3")
            cities = page.locator(".adash-rank tbody tr td:nth-child(2)").all_inner_texts()
            assert sorted(cities) == ["柳州市", "淮安市", "石龙区"]

            # 2021 + 错误: the 发现 card, the charts and the ranking agree.
            # The charts are redrawn in place (auditlib.chart_widget), not replaced by new ones.
            page.wait_for_function(DRAWN, timeout=60_000)
            page.evaluate("() => document.querySelectorAll('.adash-chart').forEach((e, i) => { e.dataset.mark = i; })")
            drawn_before = page.evaluate(DRAW_COUNTS)
            heat_before = page.inner_text(".adash-heat")
            page.locator(".widget-select-multiple:has-text('年度') select").select_option(label="2021")
            page.locator(".widget-select-multiple:has-text('级别') select").select_option(label="错误")
            page.wait_for_function(f"() => [...document.querySelectorAll('.adash-kpi')].some(e => e.innerText.includes('发现') && e.querySelector('b').innerText === '{len(errors_2021)}')", timeout=30_000)
            shown = page.locator(".adash-rank tbody tr td:nth-child(7)").all_inner_texts()
            assert sum(int(x) for x in shown) == len(errors_2021)
            # What plotly drew (its typed-array y, decoded): the severity bars come to 2021's errors.
            # (Widgets' updates may be applied in any order: the card can show before a chart.)
            sev_y = "() => Array.from(document.querySelector('.adash-chart .js-plotly-plot')._fullData[0].y)"
            page.wait_for_function(f"() => ({sev_y})()[0] === {len(errors_2021)}", timeout=30_000)
            page.wait_for_function(DRAWN, timeout=60_000)
            assert page.evaluate("() => [...document.querySelectorAll('.adash-chart')].every((e, i) => e.dataset.mark === String(i))")
            drawn_after = page.evaluate(DRAW_COUNTS)
            assert len(drawn_after) == len(drawn_before) >= 4
            # The four overview charts changed with the selection and were each drawn again ...
            assert all(a > b for a, b in list(zip(drawn_after, drawn_before, strict=True))[:4]), (drawn_before, drawn_after)
            # ... and the agencies × rules table counts 2021's errors only.
            assert page.inner_text(".adash-heat") != heat_before
            cells = page.locator(".adash-heat td").all_inner_texts()
            assert sum(int(c) for c in cells if c.strip()) == len(errors_2021)
            sev_bars = page.evaluate(sev_y)
            assert sev_bars[0] == len(errors_2021) and sum(x or 0 for x in sev_bars) == len(errors_2021)

            # Export what is filtered.
            page.locator(".widget-button:has-text('导出 CSV')").click()
            link = page.wait_for_selector("a.adash-download", timeout=30_000)
            with page.expect_download() as dl:
                link.click()
            import pandas as pd

            exported = pd.read_csv(dl.value.path(), encoding="utf-8-sig")
            assert len(exported) == len(errors_2021) and set(exported["级别"]) == {"错误"}
            assert set(exported["年度"]) == {2021}

            # Print: A4 landscape, headed, paginated, nothing cut off.
            page.locator(".widget-select-multiple:has-text('级别') select").select_option([])
            page.wait_for_function(f"() => [...document.querySelectorAll('.adash-kpi')].some(e => e.innerText.includes('发现') && e.querySelector('b').innerText !== '{len(errors_2021)}')", timeout=30_000)
            page.locator(".widget-dropdown").last.locator("select").select_option(label=target)
            page.wait_for_selector(f"h3:has-text('{target}')", timeout=30_000)
            page.wait_for_timeout(1000)
            page.emulate_media(media="print")
            pdf = tmp_path / "dashboard.pdf"
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
            shutil.copy(pdf, REPO / "outputs" / "dashboard.pdf")

            # The ranking's 明细 link opens the dashboard on that agency.
            page.emulate_media(media="screen")
            page.goto(srv.url.split("?")[0] + hrefs["明细"], wait_until="commit", timeout=120_000)
            page.wait_for_selector(f"h3:has-text('{target}')", timeout=120_000)
            context.close()
            browser.close()
        assert not dialogs
        assert _real(errors) == []
        _check_print(pdf, tmp_path)
    finally:
        srv.stop()


def _kernel_waiting(srv: dash.Server, timeout: float = 120) -> None:
    """Until Voilà's preheated kernel exists and has gone idle (waiting for a visitor)."""
    import psutil

    deadline = time.monotonic() + timeout
    quiet_since = None
    last = None
    while time.monotonic() < deadline:
        kernels = [c for c in psutil.Process(srv.process.pid).children(recursive=True) if "ipykernel" in " ".join(c.cmdline())]
        if kernels:
            cpu = sum(sum(k.cpu_times()[:2]) for k in kernels)
            if last is not None and cpu - last < 0.02:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 2:
                    return
            else:
                quiet_since = None
            last = cpu
        time.sleep(0.5)
    raise AssertionError("the preheated kernel did not settle")


@pytest.mark.slow
def test_preheated_kernel_reads_reviews_at_visit_time(tmp_path):
    playwright = _playwright()
    from auditlib.review import ReviewStore

    db = tmp_path / "audit.db"
    reports = load_reports(REPORTS)
    findings = audit(reports)
    ReviewStore(db).sync(findings)
    srv = dash.serve(REPORTS, db, quiet=True)  # preheated by default
    try:
        srv.wait(60)
        _kernel_waiting(srv)
        # Decided after the kernel has loaded everything it loads before a visit.
        target = next(f for f in findings if f.rule == "T3_RESULTS_SUM")
        ReviewStore(db).decide(target.id, "confirmed", "核实：合计不符", who="tester")
        decided = dash.now()
        with playwright.sync_playwright() as p:
            browser, page, errors, dialogs = _page(p)
            page.goto(srv.url, wait_until="commit", timeout=120_000)
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
            page.wait_for_selector("text=已审计报告", timeout=60_000)
            body = page.inner_text("body")
            times = page.inner_text(".adash-times")
            browser.close()
        import re

        started = re.search(r"内核启动于 \(kernel started\) ([\d: -]+)", times).group(1).strip()
        read = re.search(r"审核状态读取于 \(reviews read\) ([\d: -]+)", times).group(1).strip()
        assert started < decided <= read, times  # the kernel was preheated, the reviews read at the visit
        assert "已确认 1" in body
        assert _real(errors) == [] and not dialogs
    finally:
        srv.stop()


@pytest.mark.slow
def test_untrusted_agency_text_is_escaped(tmp_path):
    playwright = _playwright()
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

    srv = dash.serve(reports, tmp_path / "audit.db", quiet=True, preheat=False)  # a kernel per visit
    try:
        srv.wait(60)
        with playwright.sync_playwright() as p:
            browser, page, errors, dialogs = _page(p)
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


@pytest.mark.slow
def test_kernels_are_freed_and_bounded(tmp_path):
    """A page's kernel goes with the page; kernels of vanished visitors are culled; never more than the bound."""
    playwright = _playwright()
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_kernels import Peak, concurrent, kernels, rss_mb, wait_for_kernels

    log = tmp_path / "voila.log"
    srv = dash.serve(REPORTS, tmp_path / "audit.db", preheat=False, max_kernels=2, cull_idle=6, cull_interval=1, log=log)
    try:
        srv.wait(60)
        time.sleep(1)
        baseline = rss_mb(srv)
        assert kernels(srv) == []

        # A browser visit keeps its kernel while the page is open, idle or not, and frees it on leaving.
        with playwright.sync_playwright() as p:
            browser, page, errors, _ = _page(p)
            kernel_id = _visit(page, srv.url, ".adash-rank").split("/api/kernels/")[1].split("/")[0]
            time.sleep(8)  # longer than cull_idle: a kernel with its page open is not culled
            assert len(kernels(srv)) == 1
            # Used again (its idle time starts over, so the culler cannot be what frees it next), then left.
            page.locator(".widget-dropdown select").last.select_option(label="淮安市人民政府")
            page.wait_for_selector("h3:has-text('淮安市人民政府')", timeout=30_000)
            page.goto("about:blank")
            wait_for_kernels(srv, 0, 30)
            browser.close()
        text = log.read_text(encoding="utf-8", errors="replace")
        # Shut down on the page's beacon, before the culler (which may still race it) saw it idle.
        shutdown = text.index(f"Kernel shutdown: {kernel_id}")
        culled = re.search(rf"Culling .*{kernel_id}", text)
        assert culled is None or culled.start() > shutdown, text[shutdown - 200 :]
        assert _real(errors) == []

        # Four visitors at once who vanish without a word: served one pair at a time, then culled.
        with Peak(srv) as peak:
            served, failed, _took = concurrent(srv, 4)
        assert (served, failed) == (4, [])
        assert 1 <= peak.value <= 2
        wait_for_kernels(srv, 0, 60)
        time.sleep(1)
        assert "Culling" in log.read_text(encoding="utf-8", errors="replace")
        # Memory back to where it started (each kernel alone is well over this margin).
        assert rss_mb(srv) <= baseline + 60, (baseline, rss_mb(srv))
    finally:
        srv.stop()


# ------------------------------------------------------------------ kernel websocket guard
def _kmsg(msg_type: str, content: dict | None = None, channel: str = "shell") -> dict:
    import uuid
    from datetime import datetime, timezone

    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "username": "visitor",
            "session": uuid.uuid4().hex,
            "msg_type": msg_type,
            "version": "5.3",
            "date": datetime.now(timezone.utc).isoformat(),
        },
        "parent_header": {},
        "metadata": {},
        "content": content or {},
        "channel": channel,
        "buffers": [],
    }


def _v1(msg: dict) -> bytes:
    import json

    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    return serialize_msg_to_ws_v1(msg, msg["channel"], pack=lambda o: json.dumps(o).encode())


class _Forwarded:
    def __init__(self, monkeypatch):
        from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

        self.seen: list = []
        monkeypatch.setattr(ZMQChannelsWebsocketConnection, "handle_incoming_message",
                            lambda _self, m: self.seen.append(m))


def _guard(protocol: str | None, monkeypatch):
    from auditlib import voila_guard

    monkeypatch.setattr(voila_guard.WidgetOnlyConnection, "subprotocol", property(lambda _self: protocol))
    conn = voila_guard.WidgetOnlyConnection.__new__(voila_guard.WidgetOnlyConnection)
    conn.client_comms = set()
    return conn


@pytest.mark.parametrize("protocol", [None, "v1.kernel.websocket.jupyter.org"])
def test_guard_forwards_widget_messages_only(protocol, monkeypatch):
    import json

    from jupyter_server.services.kernels.connection.base import (
        deserialize_msg_from_ws_v1,
        serialize_msg_to_ws_v1,
    )

    fwd = _Forwarded(monkeypatch)
    conn = _guard(protocol, monkeypatch)

    def forwarded(raw) -> bool:
        before = len(fwd.seen)
        conn.handle_incoming_message(raw)
        return len(fwd.seen) > before

    def send(msg: dict) -> bool:
        return forwarded(_v1(msg) if protocol else json.dumps(msg))

    assert send(_kmsg("kernel_info_request"))
    assert send(_kmsg("comm_info_request", {"target_name": "jupyter.widget"}))
    assert send(_kmsg("comm_msg", {"comm_id": "w1", "data": {"method": "update", "state": {"index": 2}}}))
    assert send(_kmsg("comm_open", {"comm_id": "c1", "target_name": "jupyter.widget.control", "data": {}}))
    assert send(_kmsg("comm_close", {"comm_id": "c1", "data": {}}))
    assert not send(_kmsg("comm_close", {"comm_id": "w1", "data": {}}))  # a widget the kernel made
    assert not send(_kmsg("comm_open", {"comm_id": "c2", "target_name": "jupyter.widget", "data": {}}))
    for bad in ("execute_request", "complete_request", "inspect_request", "history_request",
                "is_complete_request", "shutdown_request", "interrupt_request", "debug_request"):
        assert not send(_kmsg(bad, {"code": "1"})), bad
        assert not send(_kmsg(bad, {"code": "1"}, channel="control")), bad
    assert not send(_kmsg("input_reply", {"value": "x"}, channel="stdin"))
    assert not send(_kmsg("kernel_info_request", channel="control"))
    if protocol:
        # A duplicate key: the forwarded frame carries the header as the guard read it.
        channel, parts = deserialize_msg_from_ws_v1(_v1(_kmsg("comm_msg", {"comm_id": "w1", "data": {}})))
        twice = parts[0].decode()[:-1] + ', "msg_type": "comm_msg"}'
        twice = twice.replace('"msg_type": "comm_msg"', '"msg_type": "execute_request"', 1)
        assert forwarded(serialize_msg_to_ws_v1([twice.encode(), *parts[1:]], channel))
        _, out = deserialize_msg_from_ws_v1(fwd.seen[-1])
        assert out[0].count(b"msg_type") == 1 and json.loads(out[0]) == json.loads(parts[0])
    # Garbage, and counts that make jupyter_server's readers allocate without bound.
    for junk in ("", "not json", "[]", '{"header": "x"}', b"\x00" * 3, b"\xff" * 40, b"\x7f\xff\xff\xff" * 4):
        assert not forwarded(junk), junk


def _talk(url: str, protocol: str | None, msgs: list[dict], listen: float = 4.0) -> list[tuple[str, str, str]]:
    """Send msgs then a kernel_info_request over a fresh kernel websocket; (channel, msg_type, parent id) heard back.

    Runs in its own thread and event loop, clear of Playwright's.
    """
    import asyncio
    import json
    from concurrent.futures import ThreadPoolExecutor

    from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1
    from tornado.websocket import websocket_connect

    probe = _kmsg("kernel_info_request")

    async def run() -> list[tuple[str, str, str]]:
        conn = await websocket_connect(url, subprotocols=[protocol] if protocol else None)
        heard: list[tuple[str, str, str]] = []
        for m in [*msgs, probe]:
            await conn.write_message(_v1(m) if protocol else json.dumps(m), binary=bool(protocol))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        replied_at = None
        while loop.time() < (replied_at + listen if replied_at else deadline):
            try:
                raw = await asyncio.wait_for(conn.read_message(), 0.5)
            except asyncio.TimeoutError:
                continue
            if raw is None:
                break
            if isinstance(raw, bytes):
                channel, parts = deserialize_msg_from_ws_v1(raw)
                header, parent = json.loads(parts[0]), json.loads(parts[1])
            else:
                d = json.loads(raw)
                channel, header, parent = d["channel"], d["header"], d["parent_header"]
            heard.append((channel, header["msg_type"], parent.get("msg_id", "")))
            if parent.get("msg_id") == probe["header"]["msg_id"] and header["msg_type"] == "kernel_info_reply":
                replied_at = replied_at or loop.time()
        conn.close()
        return heard

    with ThreadPoolExecutor(1) as pool:
        heard = pool.submit(asyncio.run, run()).result(90)
    assert ("shell", "kernel_info_reply", probe["header"]["msg_id"]) in heard, "the websocket must still work"
    return heard


@pytest.mark.slow
def test_visitor_cannot_run_code_over_kernel_websocket(tmp_path):
    playwright = _playwright()
    marker = tmp_path / "pwned"
    code = f"open({str(marker)!r}, 'w').write('x')"
    srv = dash.serve(REPORTS, tmp_path / "audit.db", quiet=True)
    try:
        srv.wait(60)
        with playwright.sync_playwright() as p:
            browser, page, errors, dialogs = _page(p)
            kernel_ws = _visit(page, srv.url, ".widget-dropdown select")
            url = kernel_ws.split("?")[0] + "?session_id=visitor"

            for protocol in (None, "v1.kernel.websocket.jupyter.org"):
                attacks = [
                    _kmsg("execute_request", {"code": code, "silent": False, "store_history": False,
                                              "user_expressions": {}, "allow_stdin": False}),
                    _kmsg("execute_request", {"code": code, "silent": True}, channel="control"),
                    _kmsg("comm_open", {"comm_id": "x1", "target_name": "jupyter.widget",
                                        "data": {"state": {"_model_name": "OutputModel"}}}),
                    _kmsg("complete_request", {"code": "import o", "cursor_pos": 8}),
                    _kmsg("history_request", {"hist_access_type": "tail", "n": 10, "output": False, "raw": True}),
                    # Voilà's own filter lets this one through: only the guard stops it.
                    _kmsg("shutdown_request", {"restart": False}),
                ]
                heard = _talk(url, protocol, attacks)
                dropped = {m["header"]["msg_id"] for m in attacks}
                assert [h for h in heard if h[2] in dropped] == [], protocol
            time.sleep(2)
            assert not marker.exists()

            # The page's own widgets still work, on a kernel that is still alive.
            page.locator(".widget-dropdown select").last.select_option(label="石龙区人民政府办公室")
            page.wait_for_selector("text=T3_RESULTS_SUM", timeout=30_000)
            browser.close()
        assert not dialogs
        assert _real(errors) == []
    finally:
        srv.stop()
    assert not marker.exists()


@pytest.mark.slow
def test_server_apis_that_run_code_are_absent(tmp_path):
    import urllib.parse
    import uuid

    # Exposed with a token, so that XSRF checks (skipped for token requests) are not what refuses them.
    srv = dash.serve(REPORTS, tmp_path / "audit.db", host="0.0.0.0", expose=True, quiet=True)
    try:
        srv.wait(60)
        base = f"http://127.0.0.1:{srv.port}"
        q = "?token=" + urllib.parse.quote(srv.token or "")

        def call(method: str, path: str, body: bytes | None = b"{}") -> int:
            req = urllib.request.Request(base + path + q, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=120) as resp:
                    return resp.status
            except urllib.error.HTTPError as exc:
                return exc.code

        for method, path in [("POST", "/api/kernels"), ("POST", "/api/sessions"), ("POST", "/api/terminals"),
                             ("PUT", "/api/contents/evil.py"), ("POST", "/api/contents"),
                             ("POST", f"/api/kernels/{uuid.uuid4()}/restart")]:
            assert call(method, path) in (403, 404, 405), (method, path)
        for path in ("/api/kernels", "/api/sessions", "/api/terminals", "/terminals/1", "/api/kernelspecs"):
            assert call("GET", path, None) in (302, 403, 404, 405), path
        # Without the token even more so; and no websocket to a kernel that was never started.
        assert _get(base + "/api/kernels") in (302, 401, 403, 404, 405)
        import asyncio

        from tornado.httpclient import HTTPClientError
        from tornado.websocket import websocket_connect

        async def ws(path: str) -> int:
            try:
                conn = await websocket_connect(f"ws://127.0.0.1:{srv.port}{path}{q}")
            except HTTPClientError as exc:
                return exc.code
            conn.close()
            return 101

        assert asyncio.run(ws(f"/api/kernels/{uuid.uuid4()}/channels")) in (403, 404)
        assert asyncio.run(ws("/terminals/websocket/1")) in (302, 403, 404, 405)  # the page catch-all
    finally:
        srv.stop()


def test_serve_uses_the_guard(monkeypatch):
    seen: list[list[str]] = []

    class FakePopen:
        def __init__(self, cmd, **kwargs):
            seen.append(cmd)

    monkeypatch.setattr(dash.subprocess, "Popen", FakePopen)
    dash.serve(REPORTS, "outputs/audit.db", port=1)
    cmd = seen[0]
    assert "--Voila.kernel_websocket_connection_class=auditlib.voila_guard.WidgetOnlyConnection" in cmd
    assert "--show_tracebacks=False" in cmd and "--strip_sources=True" in cmd
    # Offline template, kernels bounded and culled (their behaviour: test_kernels_are_freed_and_bounded).
    assert "--template=auditlib" in cmd
    assert "--VoilaConfiguration.multi_kernel_manager_class=auditlib.voila_kernels.BoundedKernelManager" in cmd
    assert "--MappingKernelManager.cull_connected=False" in cmd
