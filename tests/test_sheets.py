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
from auditlib.excel import FINDINGS_HEADERS, SEVERITY_FILL
from auditlib.findings import findings_frame
from auditlib.review import ReviewStore
from auditlib.sheets import (
    NOTEBOOK,
    agency_groups,
    agency_reports,
    corpus_frame,
    load_audit,
    load_peers,
    run_sheets,
    safe_dirname,
    write_payloads,
)
from auditlib.view import highlight
from tests.conftest import ROOT, SAMPLES

# ---------------------------------------------------------------- fast


MALICIOUS = [
    "../../etc/passwd",
    "..",
    ".",
    "...",
    "/",
    "/etc",
    "a/../../b",
    "a\\..\\..\\b",
    "C:\\Windows",
    "name\x00with-nul",
    "\x1b[31mred\x1b[0m",
    "局\u202eexe.txt",  # right-to-left override
    "line\nbreak",
    "CON",
    "nul.txt",
    "-rf",
    ".hidden",
    "",
    "   ",
    "x" * 1000,
    "局" * 300,
    "../" * 100,
]


@pytest.mark.parametrize("name", MALICIOUS)
def test_safe_dirname_stays_inside(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    d = safe_dirname(name)
    assert d and d not in (".", "..")
    assert "/" not in d and "\\" not in d and ".." not in d
    assert not any(ord(ch) < 32 or ch in "\u202e\u200b\x7f" for ch in d)
    assert not d.startswith((".", "-"))
    assert len(d.encode("utf-8")) <= 120
    target = out / d
    target.mkdir()
    assert target.resolve().parent == out.resolve()


def test_safe_dirname_keeps_ordinary_names() -> None:
    for name in ["柳州市人民政府办公室", "柳州市城中区城中街道办事处", "某县（本级）财政局"]:
        assert safe_dirname(name) == name
    assert safe_dirname("a/b") != safe_dirname("a/c")
    assert safe_dirname("局" * 300) != safe_dirname("局" * 299 + "厅")  # shortened names stay apart


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
        assert present == ["audit_sheet.html", "audit_sheet.ipynb", "findings.xlsx"]  # no temp files left
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
    _, results = sheets_run
    for r in results:
        page = (r.directory / "audit_sheet.html").read_text(encoding="utf-8")
        assert html.escape(r.agency) in page
        # No code input: none of the notebook's code shows.
        for code in ("load_audit(", "import warnings", "write_agency_workbook(", "styled_table(r, t, fdf)"):
            assert code not in page
        assert "plotly-graph-div" in page and "Plotly.newPlot" in page
        assert "window.Plotly" in page  # plotly.js is embedded
        assert not re.findall(r"<script[^>]*\bsrc=", page)  # nothing to fetch: charts work offline


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
