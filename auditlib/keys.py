"""Keyboard shortcuts for a widget in JupyterLab: ipywidgets has no key events.

:class:`KeyBridge` is a tiny invisible anywidget placed inside the widget tree it
serves. Its front end finds the enclosing ``.auditlib-stepper-root`` element,
makes it focusable, and reports J/K/C/D (and Ctrl+Enter) pressed while focus is
inside it. N moves focus into the note box, Esc out of it, both in the browser
alone. The listener sits on the stepper's root in the capture phase (ipywidgets'
text boxes stop keydown from bubbling). Keys that are handled are stopped there, so JupyterLab's own
command-mode shortcuts (J/K select cells, C copies one, D D deletes one) never
see them; JupyterLab listens on the document in the bubbling phase.
While the note box has focus, letters are text: only Ctrl+Enter and Esc act.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

_ESM = r"""
const KEYS = new Set(["j", "k", "c", "d"]);

function isTyping(t) {
  return t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT" || t.isContentEditable);
}

function attach(model, root) {
  if (!root.hasAttribute("tabindex")) root.setAttribute("tabindex", "0");
  const note = () => root.querySelector(".auditlib-note textarea");
  // The note's text goes with every key: ipywidgets may still hold back the box's
  // last keystrokes (it sends state at most one message ahead of the kernel), and a
  // decision must carry what is on screen.
  const send = (key) => {
    const box = note();
    model.send({ key, note: box ? box.value : null });
  };
  const onKey = (e) => {
    const typing = isTyping(e.target);
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      send("save");
    } else if (e.key === "Escape" && typing) {
      e.target.blur();
      root.focus();
    } else if (typing || e.ctrlKey || e.metaKey || e.altKey) {
      return;
    } else if (e.key.toLowerCase() === "n") {
      const box = note();
      if (box) box.focus();
    } else if (KEYS.has(e.key.toLowerCase())) {
      send(e.key.toLowerCase());
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  };
  // Capture phase: ipywidgets' text boxes stop their keydown events from bubbling,
  // and Ctrl+Enter / Esc must work from inside the note box.
  root.addEventListener("keydown", onKey, true);
  model.set("ready", true);
  model.save_changes();
  return () => root.removeEventListener("keydown", onKey, true);
}

function render({ model, el }) {
  el.style.display = "none";
  let detach = null;
  let tries = 0;
  // The widget tree is attached to the page after this view renders: wait for the root.
  const find = () => {
    const root = el.closest(".auditlib-stepper-root");
    if (root) {
      detach = attach(model, root);
    } else if (tries++ < 200) {
      setTimeout(find, 50);
    }
  };
  find();
  return () => { if (detach) detach(); };
}

export default { render };
"""


class KeyBridge(anywidget.AnyWidget):
    """Reports shortcut keys pressed inside the enclosing stepper to :meth:`on_key` callbacks."""

    _esm = _ESM
    ready = traitlets.Bool(False).tag(sync=True)  # set by the browser once the keys are wired

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._callbacks: list[Callable[[str, str | None], None]] = []
        self.on_msg(self._handle)

    def on_key(self, callback: Callable[[str, str | None], None]) -> None:
        """Call ``callback(key, note)`` for each shortcut pressed: key is "j", "k", "c", "d" or
        "save"; note the note box's text on screen at that moment (None if there is none)."""
        self._callbacks.append(callback)

    def press(self, key: str, note: str | None = None) -> None:
        """What the browser does on a key press (for use without a browser)."""
        self._handle(self, {"key": key, "note": note}, [])

    def _handle(self, _widget: Any, content: Any, _buffers: Any) -> None:
        key = content.get("key") if isinstance(content, dict) else None
        note = content.get("note") if isinstance(content, dict) else None
        if isinstance(key, str):
            for cb in self._callbacks:
                cb(key, note if isinstance(note, str) else None)
