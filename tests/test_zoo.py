"""The layout zoo (tests/zoo.py): documents made by LibreOffice from the official
template with known numbers. Every cell must come out right, or null with a
warning that names its row; no value may be wrong; a clean document gets no finding.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from auditlib.blocks import IngestError
from auditlib.corpus import Unreadable, load_one
from auditlib.layouts import TABLE_NAMES, layout
from auditlib.report import Report
from tests.zoo import ZooDoc, soffice, zoo

pytestmark = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is needed to build the zoo")


@dataclass
class Score:
    right: int = 0
    wrong: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # null, and a warning names the row
    silent: list[str] = field(default_factory=list)  # null with no warning naming it

    def line(self, name: str) -> str:
        return (
            f"{name:<28} right {self.right:>3}  wrong {len(self.wrong):>2}  "
            f"missing {len(self.missing) + len(self.silent):>3} (unexplained {len(self.silent)})"
        )


def score(doc: ZooDoc, report: Report | Unreadable) -> Score:
    s = Score()
    exp = doc.expected
    fmt = exp["format"]
    if isinstance(report, Unreadable):
        s.silent = [f"{report.code} {report.message}"] * sum(len(layout(t, fmt).cells()) for t in exp if t.startswith("table"))
        return s
    for table in ("table2", "table3", "table4"):
        lay = layout(table, fmt)
        pt = report.tables[table]
        warned = " ".join(report.warnings)
        for row in lay.rows:
            for col in row.columns:
                want = exp[table][row.key][col.key]
                got = pt.values.get((row.key, col.key)) if pt.layout.format == lay.format or table == "table4" else None
                where = f"{TABLE_NAMES[table]} {row.key}.{col.key}"
                if want is None and got is None:
                    s.right += 1  # left blank in the report, read as blank
                elif got is None:
                    named = TABLE_NAMES[table] in warned and (row.key in warned or "找不到该表" in warned or "表格" in warned)
                    (s.missing if named else s.silent).append(where)
                elif want is None or abs(float(got) - float(want)) > 1e-9:
                    s.wrong.append(f"{where}: {got!r} (put in {want!r})")
                else:
                    s.right += 1
    return s


@pytest.fixture(scope="module")
def docs() -> list[ZooDoc]:
    return zoo()


def _load(doc: ZooDoc) -> Report | Unreadable:
    return load_one(doc.path, cache=None)


@pytest.fixture(scope="module")
def loaded(docs) -> dict[str, Report | Unreadable]:
    """Each zoo document parsed once (the containers go through LibreOffice)."""
    return {d.name: _load(d) for d in docs}


def test_zoo_every_cell_right(docs, loaded, capsys):
    scores = {d.name: score(d, loaded[d.name]) for d in docs}
    with capsys.disabled():
        print()
        for name, s in scores.items():
            print(s.line(name))
        total = Score()
        for s in scores.values():
            total.right += s.right
            total.wrong += s.wrong
            total.missing += s.missing
            total.silent += s.silent
        print(total.line("ALL"))
    assert {n: s.wrong for n, s in scores.items() if s.wrong} == {}
    assert {n: s.silent for n, s in scores.items() if s.silent} == {}
    assert {n: s.missing for n, s in scores.items() if s.missing} == {}


def test_zoo_metadata_and_format(docs, loaded):
    for d in docs:
        r = loaded[d.name]
        assert isinstance(r, Report), (d.name, r)
        got = (r.meta.agency, r.meta.year, r.format, "".join(r.sections))
        assert got == (d.expected["agency"], d.expected["year"], d.expected["format"], "一二三四五六"), d.name


def test_zoo_clean_documents_get_no_findings(docs, loaded):
    from auditlib.audit import audit

    found = {}
    for d in docs:
        findings = audit([loaded[d.name]])
        if sorted(f.rule for f in findings) != d.deserved:
            found[d.name] = [f"{f.rule} {f.location} {f.message}" for f in findings]
    assert found == {}


# ------------------------------------------------------------------ containers without a converter


def _first(docs: list[ZooDoc], container: str) -> ZooDoc:
    return next(d for d in docs if d.container == container)


@pytest.mark.parametrize("container", ["odt", "rtf", "doc", "wps"])
def test_container_without_libreoffice_is_a_clear_error(docs, container, tmp_path, monkeypatch):
    from auditlib.ingest import read

    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where soffice is not installed
    with pytest.raises(IngestError) as err:
        read(_first(docs, container).path)
    assert err.value.code == ("DOC_LEGACY" if container in ("doc", "wps") else "OFFICE_MISSING")
    assert "LibreOffice" in err.value.message and "libreoffice-writer-nogui" in err.value.message
    assert f".{container}" in err.value.message


def test_conversion_time_limit_ends_libreoffice(docs):
    from auditlib.ingest.office import to_docx

    with pytest.raises(IngestError) as err:
        to_docx(_first(docs, "odt").path.read_bytes(), "odt", timeout=0.2)
    assert err.value.code == "CONVERT_TIMEOUT"


def test_broken_container_is_a_file_finding_not_a_crash(tmp_path):
    from auditlib.corpus import load_one

    bad = tmp_path / "broken.rtf"
    bad.write_bytes(b"{\\rtf1\\ansi " + bytes(range(256)) * 4)
    item = load_one(bad, cache=None)
    assert isinstance(item, Unreadable)
    assert item.code == "CONVERT_FAILED" and "LibreOffice" in item.message


def test_mht_without_page(tmp_path):
    from auditlib.ingest import read_bytes

    data = b'MIME-Version: 1.0\nContent-Type: multipart/related; boundary="b"\n\n--b\nContent-Type: image/png\n\nxx\n--b--\n'
    with pytest.raises(IngestError) as err:
        read_bytes(data, "x.mht")
    assert err.value.code == "MHT_NO_PAGE"


# ------------------------------------------------------------------ parse --explain


def _explain(path: Path) -> str:
    from click.testing import CliRunner

    from auditlib.cli import main

    result = CliRunner().invoke(main, ["parse", str(path), "--explain"])
    assert result.exit_code == 0, result.output
    return result.output


def test_explain_says_how_a_borderless_table_was_rebuilt(docs):
    doc = next(d for d in docs if d.name == "blanks-borderless.pdf")
    out = _explain(doc.path)
    assert "按文字位置重建" in out
    assert "识别的行 (rows matched): 25/25" in out  # 表三, 2021 layout
    blank = [(r, c) for r, cols in doc.expected["table3"].items() for c, v in cols.items() if v is None]
    assert f"留空的单元格 (cells left empty): {len(blank)}" in out
    assert out.count("原文空白 (blank in the report)") == len(blank)


def test_explain_names_pages_of_a_table_across_a_page_break(docs):
    doc = next(d for d in docs if d.name == "lastrow.pdf")
    out = _explain(doc.path)
    section3 = out[out.index("表三（") : out.index("表四")]
    assert "第3、4页" in section3 and "跨页续表已合并" in section3 and "PDF 表格线" in section3
    assert "识别的行 (rows matched): 25/25" in section3  # with the row alone on the next page


def test_explain_with_json_keeps_stdout_json():
    import json

    from click.testing import CliRunner

    from auditlib.cli import main
    from tests.conftest import SAMPLE_STEMS, sample_path

    path = sample_path(SAMPLE_STEMS[0])
    result = CliRunner().invoke(main, ["parse", str(path), "--json", "--explain"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["source"] == str(path)
    assert "解析过程" in result.stderr


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext is needed (scripts/setup test installs it)")
def test_zoo_pdfs_as_pdftotext_layout_text(docs, tmp_path, capsys):
    """Every zoo PDF turned into text by ``pdftotext -layout``, as agencies' PDFs reach some
    crawlers: columns set off by spaces, labels wrapped over lines with a row's numbers on two
    lines out of column order. No value may be wrong; every null has a finding on its row."""
    from auditlib.audit import audit

    right, wrong, unexplained, nulls, false_alarms = 0, [], [], 0, []
    for d in docs:
        if d.container != "pdf":
            continue
        out = tmp_path / f"{d.variant}.txt"
        subprocess.run(["pdftotext", "-layout", str(d.path), str(out)], check=True, timeout=60)
        report = load_one(out, cache=None)
        assert isinstance(report, Report), (d.variant, report)
        found = audit([report])
        flagged = {(f.table, f.row) for f in found if f.rule in ("TABLE_SHAPE", "TABLE_CELL_MISSING")}
        # Every figure in the zoo adds up: a sum rule speaking here would be a false alarm.
        false_alarms += [f"{d.variant} {f.rule} {f.location}" for f in found if f.rule in ("T3_BALANCE", "T3_ROW_TOTAL", "T3_RESULTS_SUM", "T4_TOTAL")]
        for table in ("table2", "table3", "table4"):
            for row, cols in d.expected[table].items():
                for col, want in cols.items():
                    got = report.tables[table].values.get((row, col))
                    if got is None and want is not None:
                        nulls += 1
                        if (table, row) not in flagged and (table, None) not in flagged:
                            unexplained.append(f"{d.variant} {table} {row}.{col}")
                    elif got is not None and (want is None or abs(float(got) - float(want)) > 1e-9):
                        wrong.append(f"{d.variant} {table} {row}.{col}: {got!r} (put in {want!r})")
                    else:
                        right += 1
    with capsys.disabled():
        print(f"\npdftotext -layout, every zoo PDF: right {right}  wrong {len(wrong)}  null {nulls}")
    assert wrong == []
    assert unexplained == []
    assert false_alarms == []
    assert right >= 0.9 * (right + nulls)
