"""One agency's audit sheet: run its notebook in a warm kernel, then write the page and the notebook.

The notebook (``notebooks/audit_sheet.ipynb``) is executed by papermill with the
warm-kernel engine (:mod:`auditlib.kernels`); meanwhile this process writes the
Excel workbook from the same payload (:func:`write_workbook`), so the kernel
needn't (its ``write_excel`` parameter is False). The executed notebook papermill
hands back is exported to HTML as it is, never read back from disk. Files go
in atomically and the notebook last: a notebook whose fingerprint matches the
run's inputs therefore means the page and workbook beside it are of that run too
(what :func:`auditlib.sheets.run_sheets` relies on to skip unchanged agencies).
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from auditlib.charts import PLOTLY_JS
from auditlib.files import atomic_path, clean_stale, write_text_atomic
from auditlib.index_page import SHEET_HTML, SHEET_NOTEBOOK, SHEET_XLSX

FAILED_NOTEBOOK = "audit_sheet.failed.ipynb"
ERROR_FILE = "error.txt"
META_KEY = "auditlib"


@dataclass
class SheetResult:
    agency: str
    directory: Path
    ok: bool
    seconds: float = 0.0
    error: str | None = None
    files: list[Path] = field(default_factory=list)
    skipped: bool = False  # unchanged since the last run: its files were kept


@dataclass
class Task:
    agency: str
    directory: str
    notebook: str
    parameters: dict[str, Any]
    timeout: int
    pythonpath: str
    fingerprint: str = ""


# ================================================================= HTML export
# Neither plotly.js nor JupyterLab's style sheet (240 KB) is in the page: the outputs
# folder has one copy of each, beside index.html (:func:`write_assets`).
SHEET_CSS = "audit_sheet.css"
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head -%}
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{ nb.metadata.get('title', resources['metadata']['name']) | escape_html_keep_quotes }}</title>
<link rel="stylesheet" href="ASSETS/SHEET_CSS">
<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: 'local'};</script>
<script type="text/javascript" src="ASSETS/PLOTLY_JS" charset="utf-8"></script>
{%- endblock html_head -%}
"""
# What the page's head would have held: rendered once, into the shared style sheet.
_CSS_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block body_header -%}{%- endblock body_header -%}
{%- block body_footer -%}{%- endblock body_footer -%}
"""


# What nbconvert's HTMLExporter does to its page after the template, done on the text: its
# BeautifulSoup parse and re-serialisation of the whole page was most of a sheet's export time.
_OUTPUT_DIV = re.compile(r'(<div class="(?:[^"<>]*\s)?(?:jp-OutputArea-output|jp-Cell-inputWrapper)(?:\s[^"<>]*)?"[^<>]*?)(\s*/?>)')
_IMG_NO_ALT = re.compile(r"<(img)(?![^<>]*\salt=)(?=[\s/>])", re.I)


def _accessible(page: str) -> str:
    """Cells and outputs focusable (``tabindex``) and every picture with an ``alt``, as nbconvert's exporter leaves them."""
    page = _OUTPUT_DIV.sub(lambda m: m.group(1) + ' tabindex="0"' + m.group(2), page)
    return _IMG_NO_ALT.sub(r'<\1 alt="No description has been provided for this image"', page)


@lru_cache(maxsize=1)
def _exporter_class() -> type:
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class SheetExporter(HTMLExporter):  # type: ignore[misc]
        """nbconvert's HTML exporter with its post-processing done on the text (:func:`_accessible`)."""

        def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[str, dict]:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter(
                "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            )
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _accessible(page), resources

    return SheetExporter


@lru_cache(maxsize=4)
def _exporter(assets: str, template: str = _TEMPLATE) -> Any:
    from jinja2 import DictLoader

    text = template.replace("ASSETS", assets).replace("SHEET_CSS", SHEET_CSS).replace("PLOTLY_JS", PLOTLY_JS)
    return _exporter_class()(
        extra_loaders=[DictLoader({"auditsheet.html.j2": text})],
        template_file="auditsheet.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def export_html(nb: Any, assets: str = "..") -> str:
    """The executed notebook as a static page: outputs only, its style sheet and plotly.js from ``assets``
    (a relative folder: the outputs folder seen from the agency's). ``nb`` is left as it is."""
    from auditlib.charts import PLOTLY_MIME, figure_html

    page = copy.copy(nb)
    page.cells = []
    for cell in nb.cells:
        outputs = cell.get("outputs")
        if outputs and any(PLOTLY_MIME in o.get("data", {}) and "text/html" not in o["data"] for o in outputs):
            cell = copy.deepcopy(cell)
            for o in cell.outputs:
                data = o.get("data", {})
                if PLOTLY_MIME in data and "text/html" not in data:
                    data["text/html"] = figure_html(data[PLOTLY_MIME])
        page.cells.append(cell)
    body, _ = _exporter(assets).from_notebook_node(page)
    return body


def sheet_css() -> str:
    """JupyterLab's style sheet as nbconvert's lab template inlines it in every page."""
    import nbformat

    page, _ = _exporter("", _CSS_TEMPLATE).from_notebook_node(nbformat.v4.new_notebook())
    return "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", page, flags=re.S))


def write_assets(out_dir: str | os.PathLike[str]) -> list[Path]:
    """The outputs folder's one copy of plotly.js and of the pages' style sheet (rewritten only if changed)."""
    from auditlib.charts import write_plotlyjs

    css = Path(out_dir) / SHEET_CSS
    text = sheet_css()
    if not css.is_file() or css.read_text("utf-8") != text:
        write_text_atomic(css, text)
    return [write_plotlyjs(out_dir), css]


# ================================================================= one sheet
@lru_cache(maxsize=4)
def _template(path: str, mtime: float) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def _literal(path: str) -> str:
    """``path`` as papermill's ``str.format`` gives it back: never a template to fill in.

    :func:`render` hands papermill a notebook node and no output path, so none of
    its paths is formatted; this is for any caller that does pass papermill a path.
    """
    return path.replace("{", "{{").replace("}", "}}")


def notebook_json(nb: Any) -> str:
    """The notebook as nbformat would write it, but compact: no indentation, no strings split into lines.

    Both are allowed by the format; nbformat's own layout made an HTML table's every
    line a JSON string of its own, a third of the notebook's size.
    """
    import json

    import nbformat

    nbformat.validate(nb)
    return json.dumps(nb, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def fingerprint_of(path: Path) -> str | None:
    """The fingerprint recorded in an executed sheet notebook, or None."""
    import json

    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh).get("metadata", {}).get(META_KEY, {}).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def render(task: Task) -> SheetResult:
    """Execute ``task``'s notebook and write its files; a failure is this agency's result, never raised."""
    import papermill as pm

    from auditlib import kernels

    d = Path(task.directory)
    d.mkdir(parents=True, exist_ok=True)
    clean_stale(d)
    # The kernel is a child of this process: it must import this auditlib.
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if task.pythonpath not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([task.pythonpath, *paths])
    t0 = time.perf_counter()
    nb = copy.deepcopy(_template(task.notebook, os.path.getmtime(task.notebook)))
    nb.metadata[META_KEY] = {"fingerprint": task.fingerprint}
    try:
        # The workbook is written here, from the same payload, while the kernel runs the notebook;
        # it takes its place only if the notebook succeeds (then the page, the notebook last).
        with atomic_path(d / SHEET_XLSX, suffix=".tmp.xlsx") as xlsx:
            book = _writer().submit(write_workbook, task.parameters, xlsx)
            try:
                # A notebook node in, nothing written by papermill: no path of ours is ever a format string to it.
                nb = pm.execute_notebook(
                    nb,
                    None,
                    parameters=dict(task.parameters, write_excel=False),
                    engine_name=kernels.ENGINE,
                    progress_bar=False,
                    log_output=False,
                    execution_timeout=task.timeout,
                    start_timeout=120,
                    kernel_cwd=str(d),
                )
                body = export_html(nb)
            except BaseException:
                # Waited for, so that the workbook of a failed notebook is removed whole; the notebook's error is the one told.
                with contextlib.suppress(Exception):
                    book.result()
                raise
            book.result()
    except Exception as exc:
        return _failed(task, d, exc, t0)

    write_text_atomic(d / SHEET_HTML, body)
    with atomic_path(d / SHEET_NOTEBOOK, suffix=".tmp.ipynb") as tmp:
        tmp.write_text(notebook_json(nb), encoding="utf-8")
    for stale in (ERROR_FILE, FAILED_NOTEBOOK):
        with contextlib.suppress(FileNotFoundError):
            (d / stale).unlink()
    files = [p for p in (d / SHEET_NOTEBOOK, d / SHEET_HTML, d / SHEET_XLSX) if p.exists()]
    return SheetResult(task.agency, d, True, time.perf_counter() - t0, None, files)


@lru_cache(maxsize=1)
def _writer() -> Any:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditlib-xlsx")


def write_workbook(parameters: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """An agency's ``findings.xlsx`` from the sheet's own parameters: the payload the kernel
    reads, the same reports, findings and decisions (:func:`auditlib.sheets.agency_findings`)."""
    from auditlib.excel import build_agency_workbook
    from auditlib.sheets import agency_findings, agency_reports, load_audit

    run = load_audit(parameters["reports_dir"], cache=parameters.get("audit_cache"))
    mine = agency_reports(run.items, parameters["agency"], parameters.get("years"), agencies=run.agencies)
    if not mine:  # the notebook says so, in its own words; no workbook
        return Path(path)
    fdf = agency_findings(run.findings, mine, parameters.get("review_db"))
    build_agency_workbook(mine, fdf).save(path)
    return Path(path)


def _failed(task: Task, d: Path, exc: BaseException, t0: float) -> SheetResult:

    from auditlib import kernels

    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    msg = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    detail = msg
    if not ename:  # not an error in a cell: the kernel's own words may say why
        detail += "\n\n--- kernel stderr ---\n" + kernels.failure_log()
    with contextlib.suppress(OSError), atomic_path(d / ERROR_FILE) as etmp:
        etmp.write_text(detail + "\n", encoding="utf-8")
    # Keep the executed notebook with the error in it, under its own name.
    failed = kernels.last_notebook()
    if failed is not None and ename:
        with contextlib.suppress(Exception), atomic_path(d / FAILED_NOTEBOOK, suffix=".tmp.ipynb") as tmp:
            tmp.write_text(notebook_json(failed), encoding="utf-8")
    return SheetResult(task.agency, d, False, time.perf_counter() - t0, msg)
