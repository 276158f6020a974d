"""Per-agency audit sheets: papermill runs, static HTML, Excel workbooks, safe directory names."""

from __future__ import annotations

import ast
import html
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import openpyxl
import pytest

from auditlib import load_reports
from auditlib.audit import audit
from auditlib.charts import PLOTLY_JS, corpus_frame
from auditlib.excel import FINDINGS_HEADERS, SEVERITY_FILL
from auditlib.files import safe_dirname
from auditlib.findings import findings_frame
from auditlib.render import SHEET_CSS
from auditlib.review import ReviewStore
from auditlib.sheets import (
    NOTEBOOK,
    agency_groups,
    agency_reports,
    load_audit,
    load_peers,
    run_sheets,
    write_payloads,
)
from auditlib.view import highlight
from tests.conftest import ROOT, SAMPLES

# ---------------------------------------------------------------- fast


def test_page_outputs_focusable_and_pictures_described_as_nbconvert_leaves_them() -> None:
    from auditlib.render import _accessible

    page = (
        '<div class="jp-Cell-inputWrapper">'
        '<div class="jp-RenderedHTMLCommon jp-OutputArea-output " data-mime-type="text/html">'
        "<img src='evidence/p1.png' alt='原件第1页'><img src=\"data:image/png;base64,AA\">"
        '<div class="jp-OutputArea-output-x">&lt;img src=x&gt;</div></div></div>'
    )
    assert _accessible(page) == (
        '<div class="jp-Cell-inputWrapper" tabindex="0">'
        '<div class="jp-RenderedHTMLCommon jp-OutputArea-output " data-mime-type="text/html" tabindex="0">'
        "<img src='evidence/p1.png' alt='原件第1页'>"
        '<img alt="No description has been provided for this image" src="data:image/png;base64,AA">'
        '<div class="jp-OutputArea-output-x">&lt;img src=x&gt;</div></div></div>'
    )


def test_highlight_escapes_before_marking() -> None:
    assert highlight("前<b>后", ["<b>"]) == "前<mark>&lt;b&gt;</mark>后"
    assert highlight("a&b <script>", ["&b"]) == "a<mark>&amp;b</mark> &lt;script&gt;"
    assert highlight("共 1\n2 件", ["12件"]) == "共 <mark>1\n2 件</mark>"  # across white space


# ---------------------------------------------------------------- slow: real kernels


@pytest.fixture(scope="module")
def corpus():
    items = load_reports(SAMPLES)
    return items, audit(items), agency_groups(items)


def test_each_kernel_loads_only_its_agency(tmp_path: Path, corpus) -> None:
    # With one file for the whole audit, every agency's kernel unpickled every report: N² for N agencies.
    items, findings, groups = corpus
    paths = write_payloads(tmp_path, SAMPLES.resolve(), groups, findings, corpus_frame(items))
    assert sorted(paths) == sorted(groups)
    for key, (name, rs) in groups.items():
        mine, fs = load_audit(SAMPLES, cache=paths[key])
        assert [r.source for r in mine] == [r.source for r in rs]
        assert sorted(f.id for f in fs) == sorted(f.id for f in findings if f.source in {r.source for r in rs})
        assert [r.source for r in agency_reports(mine, name)] == [r.source for r in rs]
        # The comparison with other agencies still covers the whole folder.
        peers = load_peers(SAMPLES, cache=paths[key], items=mine)
        assert len(mine) < len(items) == len(peers) == 6
        assert set(peers["agency"]) == {r.meta.agency for r in items}


@pytest.fixture(scope="module")
def sheets_run(tmp_path_factory, corpus):
    out = tmp_path_factory.mktemp("sheets")
    db = out / "review.db"
    _, findings, _ = corpus
    # A decision made before the run must show up beside its finding.
    store = ReviewStore(db)
    store.sync(findings)
    store.decide(findings[0].id, "confirmed", "审核员意见：属实", who="审核员甲")
    results = run_sheets(SAMPLES, out, jobs=2, review_db=db, progress=False)
    return out, results


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            parts.append(str(data.get("text/html", "")))
            parts.append(str(data.get("text/plain", "")))
            parts.append(str(o.get("text", "")))
    return "\n".join(parts)


def _row_cells(page: str, label: str) -> list[str]:
    """The <td> texts of the table row whose heading is ``label``."""
    i = page.find(">" + html.escape(label) + "</th>")
    assert i != -1, label
    row = page[i : page.find("</tr>", i)]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]


@pytest.mark.slow
def test_every_agency_gets_a_sheet(sheets_run, corpus) -> None:
    out, results = sheets_run
    names = {name for name, _ in corpus[2].values()}
    assert {r.agency for r in results} == names
    for r in results:
        assert r.ok, r.error
        assert r.directory.parent == out
        present = sorted(p.name for p in r.directory.iterdir())
        # An agency with PDF findings boxed also gets its pages' pictures beside the sheet.
        sources = next(rs for name, rs in corpus[2].values() if name == r.agency)
        pictured = any(f.bbox for f in corpus[1] if f.source in {x.source for x in sources})
        extra = ["evidence"] if pictured else []
        assert present == sorted(["audit_sheet.html", "audit_sheet.ipynb", "findings.xlsx", *extra])  # no temp files left
        if pictured:
            assert [p.suffix for p in (r.directory / "evidence").iterdir()] and all(
                p.suffix == ".png" for p in (r.directory / "evidence").iterdir()
            )
    assert (out / "index.html").exists()
    assert not list(out.glob(".*"))  # the audit cache is gone


@pytest.mark.slow
def test_notebook_shows_agency_tables_and_decisions(sheets_run, corpus) -> None:
    _, results = sheets_run
    _, findings, groups = corpus
    by_name = {name: rs for name, rs in groups.values()}
    for r in results:
        nb = nbformat.read(r.directory / "audit_sheet.ipynb", as_version=4)
        params = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
        injected = {
            node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(params.source).body
            if isinstance(node, ast.Assign)
        }
        assert injected["agency"] == r.agency
        assert injected["write_excel"] is False  # the worker writes the workbook from the payload, beside the kernel
        text = _outputs_text(nb)
        assert html.escape(r.agency) in text
        for rep in by_name[r.agency]:
            pt = rep.tables["table3"]
            for row in ("new_received", "total_handled"):
                label = pt.labels.get(row) or pt.layout.row(row).label
                shown = _row_cells(text, label)
                want = [pt.get(row, c.key) for c in pt.layout.row(row).columns]
                assert len(shown) == len(want)
                for s, w in zip(shown, want, strict=True):
                    if w is not None:
                        assert s == str(int(w)), (r.agency, row, shown, want)
    first = findings[0]
    mine = next(
        r for r in results if r.agency in {n for k, (n, rs) in groups.items() if first.source in {x.source for x in rs}}
    )
    text = _outputs_text(nbformat.read(mine.directory / "audit_sheet.ipynb", as_version=4))
    assert "审核员意见：属实" in text and "已确认" in text


@pytest.mark.slow
def test_static_html(sheets_run) -> None:
    out, results = sheets_run
    for r in results:
        page = (r.directory / "audit_sheet.html").read_text(encoding="utf-8")
        assert html.escape(r.agency) in page
        # No code input: none of the notebook's code shows.
        for code in ("load_audit(", "import warnings", "write_agency_workbook(", "styled_table(r, t, fdf)"):
            assert code not in page
        assert "plotly-graph-div" in page and "Plotly.newPlot" in page
        assert "window.Plotly" in page
        # Nothing to fetch: plotly.js and the style sheet are the outputs folder's one copy, beside
        # index.html, referred to relatively (charts work offline), never embedded in each page.
        refs = re.findall(r"<(?:script|link)[^>]*\b(?:src|href)=\"([^\"]*)\"", page)
        assert sorted(refs) == sorted([f"../{PLOTLY_JS}", f"../{SHEET_CSS}"])
        for ref in refs:
            assert (r.directory / ref).resolve().parent == out.resolve() and (r.directory / ref).is_file()
        js = (out / PLOTLY_JS).read_text(encoding="utf-8")
        assert "plotly.js v" in js[:200] and "newPlot" in js
        assert "--jp-" in (out / SHEET_CSS).read_text(encoding="utf-8")
        assert len(page.encode()) < 150_000  # the 4.6 MB of plotly.js and 240 KB of CSS are not in it
        # Evidence at the source: pictures beside the sheet, by relative path, never inside it.
        assert "原文位置" in page
        # The exporter re-quotes attributes; only a scanned cell's tiny picture may be inline.
        imgs = [i for i in re.findall(r"<img[^>]*\ssrc=[\"']([^\"']+)", page) if not i.startswith("data:")]
        assert not re.findall(r"auditlib-evidence[^<]*<img[^>]*src=[\"']data:", page)
        for img in imgs:
            assert img.startswith("evidence/") and (r.directory / img).is_file(), img
        if (r.directory / "evidence").exists():
            assert imgs
        else:
            assert "<mark>" in page  # a text report: the spans marked in its text


@pytest.mark.slow
def test_sheet_pages_draw_their_charts_offline_in_chromium(sheets_run) -> None:
    from tests.test_dashboard import _browser, _playwright

    out, results = sheets_run
    page_path = results[0].directory / "audit_sheet.html"
    playwright = _playwright()
    fetched: list[str] = []
    with playwright.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: (fetched.append(route.request.url), route.continue_()))
            page.goto(page_path.as_uri())
            every_drawn = "[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('.main-svg'))"
            page.wait_for_function(every_drawn, timeout=60_000)
            drawn = page.evaluate("document.querySelectorAll('.plotly-graph-div .main-svg').length")
            charts = page.evaluate("document.querySelectorAll('.plotly-graph-div').length")
        finally:
            browser.close()
    # Outcomes and peers (and year by year when there are several years), each drawn by plotly.js.
    assert charts == page_path.read_text(encoding="utf-8").count('class="plotly-graph-div"') >= 2
    assert drawn >= charts
    assert all(u.startswith("file://") for u in fetched), fetched  # nothing from the network
    assert (out / PLOTLY_JS).as_uri() in fetched


@pytest.mark.slow
def test_sheets_stay_small(sheets_run) -> None:
    # 5 MB a page and 5 MB a notebook before: plotly.js was embedded in both.
    _, results = sheets_run
    for r in results:
        size = sum(p.stat().st_size for p in r.directory.rglob("*") if p.is_file())  # evidence/ included
        assert size < 300 * 1024, (r.agency, size)
        assert "plotly.js v" not in (r.directory / "audit_sheet.ipynb").read_text(encoding="utf-8")


def _sheet_cell(ws, year: int, label: str, col_label: str):
    """The cell of the row ``label`` (year ``year``) under the header ``col_label``."""
    header = None
    for row in ws.iter_rows():
        if row[0].value == "年度" and row[1].value == "项目":
            header = {c.value: c.column for c in row}
        elif header and row[0].value == year and row[1].value == label:
            return ws.cell(row=row[0].row, column=header[col_label])
    raise AssertionError(f"{label} / {col_label} not found")


@pytest.mark.slow
def test_excel_workbook(sheets_run, corpus) -> None:
    _, results = sheets_run
    _, findings, groups = corpus
    fdf = findings_frame(findings)
    checked = 0
    for r in results:
        wb = openpyxl.load_workbook(r.directory / "findings.xlsx")
        assert {"表二", "表三", "表四", "发现"} <= set(wb.sheetnames)
        ws = wb["发现"]
        head = [c.value for c in ws[1]]
        assert head[: len(FINDINGS_HEADERS)] == FINDINGS_HEADERS
        reports = next(rs for n, rs in groups.values() if n == r.agency)
        mine = fdf[fdf["source"].isin({x.source for x in reports})]
        if len(mine):
            assert ws.max_row - 1 == len(mine)
            assert {c.value for c in ws["A"][1:]} == set(mine["rule"])
        t3 = [c.value for c in wb["表三"][2]]
        assert t3[:2] == ["年度", "项目"] and "自然人" in t3 and "总计" in t3
        # Every finding that points at a cell has that cell filled by its severity.
        by_source = {x.source: x for x in reports}
        for f in mine.to_dict("records"):
            if not (isinstance(f["table"], str) and isinstance(f["row"], str) and isinstance(f["column"], str)):
                continue
            rep = by_source[f["source"]]
            pt = rep.tables[f["table"]]
            label = pt.labels.get(f["row"]) or pt.layout.row(f["row"]).label
            col_label = next(c.label for c in pt.layout.row(f["row"]).columns if c.key == f["column"])
            cell = _sheet_cell(
                wb[{"table2": "表二", "table3": "表三", "table4": "表四"}[f["table"]]], rep.meta.year, label, col_label
            )
            assert cell.fill.fgColor.rgb.endswith(SEVERITY_FILL[str(f["severity"])].fgColor.rgb[-6:])
            assert cell.comment is not None and f["rule"] in cell.comment.text
            checked += 1
    assert checked > 0


@pytest.mark.slow
def test_a_failing_agency_is_reported_and_the_rest_go_on(tmp_path: Path, corpus) -> None:
    _, _, groups = corpus
    names = sorted(n for n, _ in groups.values())[:2]
    bad, good = names
    nb = nbformat.read(NOTEBOOK, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(f"if agency == {bad!r}:\n    raise RuntimeError('表格坏了')"))
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, broken)
    out = tmp_path / "out"
    results = run_sheets(SAMPLES, out, jobs=2, agencies=names, notebook=broken, progress=False)
    by = {r.agency: r for r in results}
    assert not by[bad].ok and "RuntimeError" in by[bad].error and "表格坏了" in by[bad].error
    assert (by[bad].directory / "error.txt").exists()
    assert not (by[bad].directory / "audit_sheet.html").exists()
    # The worker's workbook of a failed notebook is removed with it, not left behind half a sheet.
    assert not (by[bad].directory / "findings.xlsx").exists() and not list(by[bad].directory.glob(".*"))
    assert by[good].ok and (by[good].directory / "findings.xlsx").exists()

    # The failed agency alone again, now with the real notebook: its line is updated, the other kept.
    from auditlib.index_page import read_manifest

    kept = read_manifest(out)[good]
    again = run_sheets(SAMPLES, out, jobs=1, agencies=[bad], progress=False)
    assert [r.agency for r in again] == [bad] and again[0].ok
    index = read_manifest(out)
    assert set(index) == {bad, good}
    assert index[good] == kept
    assert index[bad].ok and index[bad].error is None
    rs = next(rs for name, rs in groups.values() if name == bad)
    assert index[bad].reports == len(rs) and index[bad].years == sorted({r.meta.year for r in rs})
    mine = [f for f in corpus[1] if f.source in {r.source for r in rs}]
    assert index[bad].findings == {s: sum(f.severity == s for f in mine) for s in ("error", "warning", "info")}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert html.escape(bad) in page and html.escape(good) in page and "http://127.0.0.1:8866/" in page


def _mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.glob("*/*")}


@pytest.mark.slow
def test_a_rerun_renders_only_the_agencies_a_change_affects(tmp_path: Path) -> None:
    reports = tmp_path / "in"
    reports.mkdir()
    for name in ("003_c430893fbea2ae1b.txt", "004_27f28e9d7369eeba.txt"):
        (reports / name).write_bytes((SAMPLES / name).read_bytes())
    changed = reports / "004_27f28e9d7369eeba.txt"
    groups = agency_groups(load_reports(reports))
    owner = {Path(r.source).name: name for name, rs in groups.values() for r in rs}
    out = tmp_path / "out"
    first = run_sheets(reports, out, jobs=1, progress=False)
    assert len(first) == 2 and all(r.ok and not r.skipped for r in first)
    dirs = {r.agency: r.directory.name for r in first}
    before = _mtimes(out)

    # Nothing changed: nothing is rendered, every file is left as it was.
    again = run_sheets(reports, out, jobs=1, progress=False)
    assert [r.agency for r in again] == [r.agency for r in first]
    assert all(r.ok and r.skipped for r in again)
    assert _mtimes(out) == before

    # One report changed: its agency's sheet, and only that, is rendered again, and shows the new figure.
    text = changed.read_text(encoding="utf-8")
    m = re.search(r"本年新收政府信息公开申请数量\t(\d+)", text)
    assert m
    new_value = int(m.group(1)) + 7000
    changed.write_text(text[: m.start(1)] + str(new_value) + text[m.end(1) :], encoding="utf-8")
    third = run_sheets(reports, out, jobs=1, progress=False)
    assert [r.agency for r in third if not r.skipped] == [owner[changed.name]]
    after = _mtimes(out)
    redone = dirs[owner[changed.name]]
    for path, t in before.items():
        assert (after[path] != t) == path.startswith(redone + "/"), path
    assert f">{new_value}<" in (out / redone / "audit_sheet.html").read_text(encoding="utf-8")

    # An auditor's decision shows on the sheet: the agency it concerns, and only that one, is rendered again.
    store = ReviewStore(out / "audit.db")
    other = owner["003_c430893fbea2ae1b.txt"]
    fs = store.findings()
    fid = next(i for i, src in zip(fs["id"], fs["source"], strict=True) if owner.get(Path(src).name) == other)
    store.decide(fid, "dismissed", "核实无误，不影响", who="审核员乙")
    fourth = run_sheets(reports, out, jobs=1, progress=False)
    assert [r.agency for r in fourth if not r.skipped] == [other]
    assert "核实无误，不影响" in (out / dirs[other] / "audit_sheet.html").read_text(encoding="utf-8")

    # force: every sheet again.
    assert not any(r.skipped for r in run_sheets(reports, out, jobs=1, progress=False, force=True))


@pytest.mark.slow
def test_cli_sheets(tmp_path: Path, corpus) -> None:
    _, _, groups = corpus
    name = sorted(n for n, _ in groups.values())[0]
    out = tmp_path / "cli-out"
    proc = subprocess.run(
        [sys.executable, "-m", "auditlib", "sheets", str(SAMPLES), "--out", str(out), "--jobs", "1", "--agency", name],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(out.resolve()) in proc.stdout
    d = out / safe_dirname(name)
    assert (d / "audit_sheet.html").exists() and (out / "audit.db").exists()
