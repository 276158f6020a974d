"""A Plotly chart as a widget that is redrawn in place: the dashboard's charts.

The dashboard used to show each figure as a new Output widget holding a plotly
mime bundle. Every filter then replaced five widgets, sent five figures with
their widget scaffolding, and JupyterLab's plotly renderer drew each one from
scratch and drew it a second time to keep a PNG snapshot. :class:`Chart` keeps
one widget per chart: setting :attr:`Chart.figure` sends only the new figure
(nothing when it is unchanged), and the page calls ``Plotly.react`` on the
chart already drawn.

The page's plotly.js is the copy inside the Python ``plotly`` package, served
by the dashboard's own Voilà template (:func:`static_dir`) and loaded once,
asynchronously, while Voilà's scripts load; nothing comes from a CDN.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import anywidget
import traitlets

# Where the template looks for it: <data dir>/voila/templates/<template>/static/plotly.min.js,
# served at <base>voila/templates/<template>/static/plotly.min.js.
PLOTLY_JS = "plotly.min.js"

_ESM = r"""
// plotly.js: the <script id="adash-plotly-js"> the template put in the page, or one added here.
function plotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  let s = document.getElementById("adash-plotly-js");
  if (!s) {
    let base = "/";
    try { base = JSON.parse(document.getElementById("jupyter-config-data").textContent).baseUrl || "/"; } catch (e) {}
    s = document.createElement("script");
    s.id = "adash-plotly-js";
    s.async = true;
    s.src = base.replace(/\/?$/, "/") + "voila/templates/auditlib/static/plotly.min.js";
    document.head.appendChild(s);
  }
  return new Promise((resolve, reject) => {
    if (window.Plotly) return resolve(window.Plotly);
    s.addEventListener("load", () => resolve(window.Plotly));
    s.addEventListener("error", () => reject(new Error("plotly.js did not load")));
  });
}

const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["toImage"] };

function render({ model, el }) {
  el.classList.add("adash-chart");
  const div = document.createElement("div");
  el.appendChild(div);
  let Plotly = null;  // null: not asked for yet; false: loading
  let queue = Promise.resolve();
  let drawn = 0;
  let inflight = 0;
  let stale = Object.keys(model.get("figure") || {}).length > 0;
  let gone = false;
  // A chart is drawn only while it is on the page with a width: drawn detached or hidden,
  // plotly would take its default 700 px. data-pending marks a visible chart whose figure
  // is not drawn yet, data-drawn counts the draws (the benchmark reads both).
  const visible = () => div.isConnected && div.clientWidth > 0;
  const draw = () => {
    stale = false;
    inflight++;
    el.dataset.pending = "1";
    queue = queue.then(() => {
      if (gone || inflight > 1) return;  // a newer figure is queued: draw that one only
      const fig = model.get("figure") || {};
      return Plotly.react(div, fig.data || [], fig.layout || {}, CONFIG);
    }).catch((e) => console.error("auditlib chart:", e)).then(() => {
      el.dataset.drawn = String(++drawn);
      if (--inflight === 0) delete el.dataset.pending;
    });
  };
  const seen = new ResizeObserver(() => {
    if (!visible()) return;
    if (Plotly === null) {
      Plotly = false;
      el.dataset.pending = "1";
      plotly().then((P) => { Plotly = P; if (visible()) draw(); }, (e) => { console.error(e); delete el.dataset.pending; });
    } else if (Plotly && stale) {
      draw();
    } else if (Plotly && drawn) {
      Plotly.Plots.resize(div);
    }
  });
  seen.observe(div);
  const changed = () => {
    stale = true;
    if (Plotly && visible()) draw();
  };
  model.on("change:figure", changed);
  return () => {
    gone = true;
    seen.disconnect();
    model.off("change:figure", changed);
    if (Plotly) Plotly.purge(div);
  };
}

export default { render };
"""


class Chart(anywidget.AnyWidget):
    """One Plotly figure, drawn by the page's plotly.js and redrawn in place (``Plotly.react``) when set again."""

    _esm = _ESM
    figure = traitlets.Dict().tag(sync=True)

    def show(self, fig: Any) -> None:
        """Draw ``fig`` (its plotly.js JSON, as :mod:`auditlib.figures` makes, or a plotly Figure);
        nothing is sent when it is what is shown."""
        self.figure = figure_json(fig) if not isinstance(fig, dict) else fig


def figure_json(fig: Any) -> dict[str, Any]:
    """The figure as plain JSON (data, layout), numpy arrays as plotly.js's typed-array form.

    Through plotly's own JSON encoder, without ``plotly.io``'s renderers: those import
    nbformat and jsonschema, seconds of a cold kernel.
    """
    import json

    from plotly.io.json import to_json_plotly

    return json.loads(to_json_plotly(fig.to_plotly_json()))


def plotlyjs_source() -> Path:
    """The plotly.js the page loads: the cartesian bundle when setup fetched it, else the package's full copy.

    The dashboard draws bars and heat maps only. plotly.js's cartesian bundle (1.5 MB,
    ``plotly.js-cartesian-dist-min`` from npm, at the very version of the plotly package's
    own plotly.js) is evaluated by the browser in under half the time of the full 4.8 MB
    one; ``scripts/setup`` puts it in ``<venv>/share/auditlib/``.
    """
    import plotly
    from plotly.offline import get_plotlyjs_version

    cartesian = Path(sys.prefix) / "share" / "auditlib" / f"plotly-cartesian-{get_plotlyjs_version()}.min.js"
    if cartesian.is_file():
        return cartesian
    return Path(plotly.__file__).resolve().parent / "package_data" / PLOTLY_JS


def static_dir(template: str, parent: str | os.PathLike | None = None) -> Path:
    """A Jupyter data folder whose ``voila/templates/<template>/static/`` holds plotly.min.js.

    Put on JUPYTER_PATH beside the template's own folder: Voilà serves a template's
    static files from every data folder. The file (:func:`plotlyjs_source`) is a hard link,
    or a copy across file systems (tornado refuses a symbolic link out of its folder), in a
    new folder the caller removes.
    """
    src = plotlyjs_source()
    root = Path(tempfile.mkdtemp(prefix="auditlib-voila-data-", dir=parent))
    static = root / "voila" / "templates" / template / "static"
    static.mkdir(parents=True)
    try:
        os.link(src, static / PLOTLY_JS)
    except OSError:
        import shutil

        shutil.copyfile(src, static / PLOTLY_JS)
    return root
