"""Step through findings one at a time in JupyterLab and record a decision on each.

    >>> from auditlib.stepper import Stepper
    >>> st = Stepper(store.status_frame(findings_frame(findings)), reports, store)
    >>> st.widget                       # in a notebook cell

Everything the widget does is a method (``filtered``, ``next``, ``prev``,
``current``, ``confirm``, ``dismiss``, ``render_html``) so that it can be used
and tested without a browser; the widget only wires buttons to them.
Report text is untrusted: all of it is escaped before it is highlighted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from auditlib.clock import beijing_text
from auditlib.review import ReviewStore, reviewer_name, set_reviewer_name
from auditlib.view import SEVERITY_CSS, esc, narrative_excerpt, ocr_cell_images, styled_table
from auditlib.vocab import DECISIONS, REVIEW_STATUSES, SEVERITIES, STATUS, STATUS_ZH, rule_label, severity_zh, status_zh

FILTERS = ("agency", "year", "rule", "severity", "status")
_FILTER_LABELS = {"agency": "机关", "year": "年度", "rule": "规则", "severity": "严重程度", "status": "审核状态"}
_COLUMN = {"agency": "agency", "year": "year", "rule": "rule", "severity": "severity", "status": "review_status"}
DEFAULT_FILTERS = {"status": "open"}  # a day's work starts on what is still to review

# What a rule's expected / actual numbers are, so that "300 / 400" reads as something.
VALUE_LABELS: dict[str, tuple[str, str]] = {
    "T3_BALANCE": ("一＋二（新收＋上年结转）", "（七）总计＋四（结转下年度）"),
    "T3_ROW_TOTAL": ("六类申请人之和", "表格总计值"),
    "T3_RESULTS_SUM": ("表格（七）总计", "（一）至（六）各项之和"),
    "T4_TOTAL": ("四项之和", "表格总计值"),
    "TEXT_TABLE_MISMATCH": ("表格值", "正文值"),
    "NARRATIVE_SUM": ("正文所称合计", "各分项之和"),
    "NARRATIVE_PERCENT": ("按数字算得的占比（%）", "正文所称占比（%）"),
    "YOY_IMPOSSIBLE": ("最接近的可能变化", "正文所称同比变化"),
    "YOY_MISMATCH": ("按上年报告算得的变化", "正文所称同比变化"),
    "CARRYOVER_MISMATCH": ("上年值（结转下年度）", "本年上年结转"),
    "STOCK_MISMATCH": ("上年现行有效＋制发−废止", "本年现行有效"),
    "COPY_OF_PREVIOUS": ("", "与上年相同的比例"),
    "PROBLEM_REPEATED": ("", "与上年逐字相同的句数"),
    "OUTLIER_RATE": ("各报告中位数", "本报告占比"),
}
KEYS_HELP = "快捷键：J 下一项 · K 上一项 · C 确认 · D 驳回 · N 写备注 · Ctrl+Enter 保存备注 · Esc 离开备注框"


def value_labels(rule: str) -> tuple[str, str]:
    """(expected, actual) labels for a rule's numbers; generic ones for other rules."""
    return VALUE_LABELS.get(rule, ("预期", "实际"))


def rule_title(rule: str) -> str:
    """A rule's Chinese name (the shared vocabulary reads it from the rule registry)."""
    zh, _ = rule_label(rule)
    return "" if zh == rule else zh


def _same(a: Any, b: Any) -> bool:
    """Filter equality that survives Int64 vs int and str(year) from a dropdown."""
    if a is None or (not isinstance(a, str) and pd.isna(a)):
        return False
    return str(a) == str(b)


class Stepper:
    """Findings one at a time, filtered, with the report's table and text beside each."""

    def __init__(
        self,
        findings: pd.DataFrame,
        reports: Iterable[Any] | Mapping[str, Any],
        store: ReviewStore,
        who: str | None = None,
        advance: bool = True,
        filters: Mapping[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.who = who or reviewer_name()
        self.advance = advance
        self._pending: Callable[[], Any] | None = None
        self._lock = threading.RLock()
        if isinstance(reports, Mapping):
            self.reports = dict(reports)
        else:
            self.reports = {r.source: r for r in reports if hasattr(r, "tables")}
        base = findings.reset_index(drop=True)
        # Only the finding fields: review columns are always read fresh from the store.
        self._base = base.drop(
            columns=[c for c in ("review_status", "review_note", "reviewer", "reviewed_at") if c in base]
        )
        self.filters: dict[str, Any] = dict.fromkeys(FILTERS)
        saved = self._load_state() if filters is None else {"filters": dict(filters)}
        chosen = saved["filters"] if isinstance(saved.get("filters"), dict) else DEFAULT_FILTERS
        self.filters.update({k: v for k, v in chosen.items() if k in FILTERS})
        self.position = 0
        self._view = self._compute()
        if saved.get("current"):
            self.go(str(saved["current"]))
        self._widgets: dict[str, Any] = {}
        self._widget: Any = None

    # ------------------------------------------------------------ state
    @property
    def drafts(self) -> dict[str, str]:
        """Notes typed on findings still open (Ctrl+Enter), kept in the review database until
        the finding is decided: they outlive a kernel restart."""
        return self.store.drafts()

    def _compute(self) -> pd.DataFrame:
        df = (
            self.store.status_frame(self._base)
            if len(self._base)
            else self._base.assign(
                review_status=pd.Series(dtype=object), review_note="", reviewer=None, reviewed_at=None
            )
        )
        mask = pd.Series(True, index=df.index)
        for name, value in self.filters.items():
            if value is None or value == "":
                continue
            col = df[_COLUMN[name]]
            mask &= col.map(lambda v, value=value: _same(v, value))
        return df[mask].reset_index(drop=True)

    def _refresh(self, keep: str | None = None) -> None:
        """Recompute the view; stay on finding ``keep`` if it is still in it."""
        self._view = self._compute()
        if keep is not None:
            hits = self._view.index[self._view["id"] == keep]
            if len(hits):
                self.position = int(hits[0])
        self.position = max(0, min(self.position, len(self._view) - 1))

    def set_filter(self, **filters: Any) -> pd.Series | None:
        """Filter by agency, year, rule, severity, status (None or "" = all); returns the current finding."""
        unknown = set(filters) - set(FILTERS)
        if unknown:
            raise ValueError(f"unknown filter(s) {sorted(unknown)}; use {FILTERS}")
        cur = self.current()
        self.filters.update(filters)
        self.position = 0
        self._refresh(keep=None if cur is None else cur["id"])
        self._save_state()
        return self.current()

    # The filters and the finding in view outlive a re-run of the notebook: they are
    # kept beside the review database (per database, since each holds its own work).
    @property
    def state_path(self) -> Path:
        return self.store.path.with_name(self.store.path.name + ".stepper.json")

    def _load_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_state(self) -> None:
        from auditlib.excel import atomic_path

        cur = self.current() if hasattr(self, "_view") else None
        state = {"filters": {k: v for k, v in self.filters.items() if v not in (None, "")},
                 "current": None if cur is None else str(cur["id"])}
        try:
            with atomic_path(self.state_path) as tmp:
                tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        except OSError:
            pass  # a read-only folder: the stepper still works, it just starts afresh next time

    def options(self) -> dict[str, list[Any]]:
        """The values each filter can take, from the findings themselves."""
        df = self.store.status_frame(self._base) if len(self._base) else self._base
        out: dict[str, list[Any]] = {}
        for name in FILTERS:
            col = _COLUMN[name]
            if col == "review_status":
                out[name] = list(REVIEW_STATUSES)
                continue
            vals = [v for v in df[col].dropna().unique().tolist() if v != ""] if col in df else []
            if name == "severity":
                out[name] = [s for s in SEVERITIES if s in vals] + sorted(v for v in vals if v not in SEVERITIES)
            else:
                out[name] = sorted(vals, key=lambda v: (str(type(v)), v))
        return out

    def filtered(self) -> pd.DataFrame:
        """The findings passing the filters, with their current review status."""
        cur = self.current()
        self._refresh(keep=None if cur is None else cur["id"])
        return self._view.copy()

    def __len__(self) -> int:
        return len(self._view)

    @property
    def counter(self) -> str:
        n = len(self._view)
        return f"{self.position + 1 if n else 0} / {n}"

    def current(self) -> pd.Series | None:
        if not len(self._view):
            return None
        return self._view.iloc[self.position]

    def next(self) -> pd.Series | None:
        if self.position < len(self._view) - 1:
            self.position += 1
        return self.current()

    def prev(self) -> pd.Series | None:
        if self.position > 0:
            self.position -= 1
        return self.current()

    def go(self, finding_id: str) -> pd.Series | None:
        """Jump to a finding by id (if it passes the filters)."""
        hits = self._view.index[self._view["id"] == finding_id]
        if len(hits):
            self.position = int(hits[0])
        return self.current()

    # ------------------------------------------------------------ decisions
    def _decide(self, status: str, note: str | None) -> dict[str, str]:
        cur = self.current()
        if cur is None:
            raise LookupError("没有可审核的发现 (no finding to decide on)")
        fid = str(cur["id"])
        if note is None:
            note = self._widgets["note"].value if "note" in self._widgets else self.drafts.get(fid, "")
        self.store.ensure(self._base[self._base["id"] == fid])
        rec = self.store.decide(fid, status, note, who=self.who)  # drops the finding's draft too
        before = self.position
        self._refresh(keep=fid)
        still_here = len(self._view) and self._view.iloc[self.position]["id"] == fid
        if self.advance and still_here:
            self.next()
        elif not still_here:
            # It left the view (e.g. filtered to open ones): the next one took its place.
            self.position = max(0, min(before, len(self._view) - 1))
        self._save_state()
        return rec

    def confirm(self, note: str | None = None) -> dict[str, str]:
        """Confirm the current finding (stored at once) and move on."""
        return self._decide("confirmed", note)

    def dismiss(self, note: str | None = None) -> dict[str, str]:
        """Dismiss the current finding as a false alarm (stored at once) and move on."""
        return self._decide("dismissed", note)

    def save_note(self, note: str) -> str:
        """Keep ``note`` on the current finding without moving: a decided finding gets its
        decision recorded again with the new note; an open one keeps it as a draft until decided."""
        cur = self.current()
        if cur is None:
            raise LookupError("没有可审核的发现 (no finding to decide on)")
        fid, status = str(cur["id"]), str(cur.get("review_status") or "open")
        if status in DECISIONS:
            self.store.decide(fid, status, note, who=self.who)
            self._refresh(keep=fid)
            return f"备注已保存（{STATUS_ZH[status]}）"
        self.store.ensure(self._base[self._base["id"] == fid])
        self.store.save_draft(fid, note, who=self.who)
        return "备注已暂存（重启后仍在）：按 C 确认或 D 驳回时一并保存（draft kept until you decide）"

    def saved_note(self) -> str:
        """The note as last kept for the current finding (draft, else the stored decision's)."""
        cur = self.current()
        if cur is None:
            return ""
        fid = str(cur["id"])
        return self.drafts.get(fid, str(cur.get("review_note") or ""))

    # ------------------------------------------------------------ rendering
    def render_html(self) -> str:
        """The current finding as HTML: what, where, the table cell, the text, the decision."""
        cur = self.current()
        if cur is None:
            return "<div class='auditlib-stepper'><p>没有符合筛选条件的发现。</p></div>"
        sev = str(cur.get("severity"))
        status = str(cur.get("review_status") or "open")
        rule = str(cur.get("rule"))
        parts = [
            "<div class='auditlib-stepper' style='font-size: 14px; line-height: 1.6'>",
            f"<div><b>{esc(self.counter)}</b> · "
            f"<span style='background:{SEVERITY_CSS.get(sev, '#EEE')}; padding: 0 6px'>{esc(severity_zh(sev))}</span> · "
            f"<code>{esc(rule)}</code> <span class='rule-title'>{esc(rule_title(rule))}</span> · "
            f"<span style='background:{STATUS[status].fill if status in STATUS else '#FFF'}; padding: 0 6px; border: 1px solid #CCC'>"
            f"{esc(status_zh(status))}</span></div>",
            f"<h4 style='margin: 6px 0'>{esc(cur.get('agency') or '（未知机关）')} {esc(cur.get('year'))}年度 — "
            f"{esc(cur.get('location'))}</h4>",
            f"<p>{esc(cur.get('message'))}</p>",
        ]
        exp, act = cur.get("expected"), cur.get("actual")
        if not (pd.isna(exp) and pd.isna(act)):
            exp_label, act_label = value_labels(rule)
            cells = []
            # What the number is, and which side of the comparison it stands on.
            if exp_label or not pd.isna(exp):
                head = f"{exp_label}（预期）" if exp_label and exp_label != "预期" else "预期"
                cells.append(f"<th style='padding: 0 8px'>{esc(head)}</th><td style='padding: 0 8px'>{esc(_num_text(exp))}</td>")
            head = f"{act_label}（实际）" if act_label != "实际" else "实际"
            cells.append(f"<th style='padding: 0 8px'>{esc(head)}</th><td style='padding: 0 8px'>{esc(_num_text(act))}</td>")
            parts.append("<table class='values' style='border-collapse: collapse'><tr>" + "".join(cells) + "</tr></table>")
        if status in DECISIONS:
            parts.append(
                f"<p style='color: #555'>审核：{esc(STATUS_ZH.get(status))} · {esc(cur.get('reviewer'))} · "
                f"{esc(beijing_text(cur.get('reviewed_at')))}（北京时间）<br>备注：{esc(cur.get('review_note'))}</p>"
            )
        report = self.reports.get(str(cur.get("source")))
        table = cur.get("table")
        if report is not None and isinstance(table, str) and table in getattr(report, "tables", {}):
            one = self._view.iloc[[self.position]]
            parts.append(styled_table(report, table, one, uuid=f"st{cur['id']}").to_html())
            if cur.get("rule") == "OCR_UNVERIFIED":
                parts.append(ocr_cell_images(report, [(table, str(cur.get("row")), str(cur.get("column")))]))
        parts.append(self._page_html(cur))
        evidence = cur.get("evidence")
        evidence = evidence if isinstance(evidence, str) else ""
        excerpt = narrative_excerpt(report.narrative, evidence) if report is not None else None
        if excerpt:
            parts.append("<h5 style='margin: 8px 0 2px'>原文</h5>")
            parts.append(f"<blockquote style='white-space: pre-wrap; margin: 0 0 0 8px'>{excerpt}</blockquote>")
        elif evidence:
            where = "（取自表格）" if isinstance(table, str) else ""
            parts.append(f"<h5 style='margin: 8px 0 2px'>原文证据{where}</h5>")
            parts.append(
                f"<blockquote style='white-space: pre-wrap; margin: 0 0 0 8px'><mark>{esc(evidence)}</mark></blockquote>"
            )
        parts.append(f"<p style='color: #888; font-size: 12px'>{esc(cur.get('source'))} · {esc(cur.get('id'))}</p>")
        parts.append("</div>")
        return "".join(parts)

    def _page_html(self, cur: pd.Series) -> str:
        """The PDF page the finding stands on, its cell or sentence boxed; '' when not known."""
        page, bbox = cur.get("page"), cur.get("bbox")
        if page is None or pd.isna(page) or not isinstance(bbox, list | tuple) or len(bbox) != 4:
            return ""
        import base64

        from auditlib.pageimage import SCALE, render_page

        key = (str(cur.get("source")), int(page), tuple(bbox))
        cache = self.__dict__.setdefault("_pages", {})
        if key not in cache:
            try:
                cache[key] = base64.b64encode(render_page(key[0], key[1], bbox)).decode("ascii")
            except Exception as exc:  # the file moved or changed since the audit
                return f"<p style='color:#C00000'>无法显示原件第{int(page)}页：{esc(exc)}</p>"
            if len(cache) > 20:  # a day's PDFs should not pile up in memory
                cache.pop(next(iter(cache)))
        return (
            f"<h5 style='margin: 8px 0 2px'>原件第 {int(page)} 页（红框为本项所在位置）</h5>"
            f"<img class='auditlib-page' data-page='{int(page)}' data-scale='{SCALE}' "
            f"data-bbox='{esc(','.join(f'{v:g}' for v in bbox))}' style='width: 100%' "
            f"src='data:image/png;base64,{cache[key]}'>"
        )

    # ------------------------------------------------------------ widget
    @property
    def widget(self) -> Any:
        """The ipywidgets UI (built once)."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> Any:
        import ipywidgets as w

        from auditlib.keys import KeyBridge

        opts = self.options()
        dropdowns = {}
        for name in FILTERS:
            labels = [
                (
                    STATUS_ZH[v] if name == "status" else severity_zh(str(v)) if name == "severity" else str(v),
                    str(v),
                )
                for v in opts[name]
            ]
            value = self.filters.get(name)
            dd = w.Dropdown(
                options=[("全部", ""), *labels],
                value=str(value) if value is not None and str(value) in {v for _, v in labels} else "",
                description=_FILTER_LABELS[name],
                layout=w.Layout(width="auto"),
            )
            dd.observe(lambda ch, name=name: self._on_filter(name, ch), names="value")
            dropdowns[name] = dd
        prev_b = w.Button(description="上一项 (K)", icon="arrow-left", layout=w.Layout(width="auto"))
        next_b = w.Button(description="下一项 (J)", icon="arrow-right", layout=w.Layout(width="auto"))
        confirm_b = w.Button(description="确认问题 (C)", button_style="danger", icon="check", layout=w.Layout(width="auto"))
        dismiss_b = w.Button(description="驳回（误报）(D)", icon="times", layout=w.Layout(width="auto"))
        save_b = w.Button(description="保存备注 (Ctrl+Enter)", icon="save", layout=w.Layout(width="auto"))
        counter = w.Label(self.counter)
        counter.add_class("auditlib-counter")
        status = w.HTML("")
        note = w.Textarea(placeholder="审核备注（N 聚焦此处）", layout=w.Layout(width="100%", height="3.2em"))
        note.add_class("auditlib-note")
        guard_text = w.HTML("")
        guard_save = w.Button(description="保存备注并继续", button_style="primary", layout=w.Layout(width="auto"))
        guard_drop = w.Button(description="放弃备注并继续", button_style="warning", layout=w.Layout(width="auto"))
        guard_stay = w.Button(description="留在此项", layout=w.Layout(width="auto"))
        guard = w.HBox([guard_text, guard_save, guard_drop, guard_stay], layout=w.Layout(display="none"))
        guard.add_class("auditlib-guard")
        name_box = w.Text(placeholder="审核人姓名", layout=w.Layout(width="12em"))
        name_b = w.Button(description="保存姓名", layout=w.Layout(width="auto"))
        name_row = w.HBox(
            [w.HTML("<b>请输入审核人姓名（只问一次，之后每项决定都记在此名下）：</b>"), name_box, name_b],
            layout=w.Layout(display="none" if self.who else "flex"),
        )
        name_row.add_class("auditlib-name")
        message = w.HTML("")
        keys = KeyBridge()
        body = w.HTML(self.render_html())
        self._widgets = dict(
            dropdowns=dropdowns, prev=prev_b, next=next_b, confirm=confirm_b, dismiss=dismiss_b, save=save_b,
            counter=counter, status=status, note=note, body=body, message=message, guard=guard,
            guard_text=guard_text, guard_save=guard_save, guard_drop=guard_drop, guard_stay=guard_stay,
            name=name_box, name_save=name_b, name_row=name_row, keys=keys,
        )

        # ipykernel 7 may run one widget message's callback while another's is still
        # going (a key press while the last decision redraws): one at a time, in order.
        lock = self._lock

        def act(fn: Callable[[], Any]) -> Callable[[Any], None]:
            def handler(_: Any = None) -> None:
                with lock:
                    self._handle(fn)

            return handler

        def decide(fn: Callable[[], Any]) -> Callable[[], Any]:
            def run() -> Any:
                if not self.who:
                    raise RuntimeError("请先输入审核人姓名 (enter the reviewer's name first)")
                self._pending = None
                return fn()

            return run

        self._act = act
        prev_b.on_click(act(lambda: self._guarded(self.prev)))
        next_b.on_click(act(lambda: self._guarded(self.next)))
        confirm_b.on_click(act(decide(lambda: self.confirm())))
        dismiss_b.on_click(act(decide(lambda: self.dismiss())))
        save_b.on_click(act(lambda: self.save_note(note.value)))
        guard_save.on_click(act(lambda: self._resolve_guard(keep=True)))
        guard_drop.on_click(act(lambda: self._resolve_guard(keep=False)))
        guard_stay.on_click(act(lambda: self._resolve_guard(keep=None)))
        name_b.on_click(act(self._set_name))
        by_key = {
            "j": lambda: self._guarded(self.next),
            "k": lambda: self._guarded(self.prev),
            "c": decide(lambda: self.confirm()),
            "d": decide(lambda: self.dismiss()),
            "save": lambda: self.save_note(note.value),
        }

        def on_key(key: str, text: str | None) -> None:
            with lock:
                self._take_note(text)
                self._handle(by_key.get(key, lambda: None))

        keys.on_key(on_key)

        def on_note(change: Mapping[str, Any]) -> None:
            with lock:
                self._on_note(change)

        note.observe(on_note, names="value")
        filters = w.HBox(list(dropdowns.values()), layout=w.Layout(flex_flow="row wrap"))
        bar = w.VBox(
            [
                w.HBox([prev_b, counter, next_b, status, confirm_b, dismiss_b],
                       layout=w.Layout(align_items="center", flex_flow="row wrap")),
                w.HBox([note, save_b], layout=w.Layout(align_items="center")),
                guard,
                name_row,
                message,
                w.HTML(f"<span style='color:#888; font-size: 12px'>{esc(KEYS_HELP)}</span>"),
                keys,
            ]
        )
        bar.add_class("auditlib-bar")
        # The finding scrolls inside a box of fixed height, so the bar above never moves
        # and the whole widget keeps one height from finding to finding.
        pane = w.Box([body], layout=w.Layout(height="62vh", overflow="auto", display="block", border="1px solid #DDD"))
        pane.add_class("auditlib-pane")
        style = w.HTML(
            "<style>.auditlib-bar{position:sticky;top:0;z-index:5;background:var(--jp-layout-color0,#fff);"
            "border-bottom:1px solid #CCC;padding-bottom:4px}"
            ".auditlib-stepper-root:focus{outline:2px solid #8EA9DB}"
            ".auditlib-counter{font-weight:bold;padding:0 8px}</style>"
        )
        root = w.VBox([style, bar, filters, pane])
        root.add_class("auditlib-stepper-root")
        self._sync_widgets()
        return root

    def _handle(self, fn: Callable[[], Any]) -> None:
        """Run one user action; show what it says or why it failed, then redraw."""
        message = self._widgets["message"]
        try:
            said = fn()
            message.value = f"<span style='color:#375623'>{esc(said)}</span>" if isinstance(said, str) else ""
        except Exception as exc:  # shown, not raised into the void of a callback
            message.value = f"<span style='color:#C00000'>{esc(exc)}</span>"
        self._sync_widgets()

    # ------------------------------------------------------------ the note box
    # A key press carries the note's text as shown; ipywidgets may deliver the box's
    # own copies of that text after the key was handled and the box emptied for the
    # next finding. Such late copies are put back, so the kernel and the screen agree.
    _ECHO_SECONDS = 3.0

    def _take_note(self, text: str | None) -> None:
        if text is None or "note" not in self._widgets:
            return
        self._set_note(text)
        self._echo = (text, time.monotonic())

    def _set_note(self, text: str) -> None:
        self._setting_note = True
        try:
            self._widgets["note"].value = text
        finally:
            self._setting_note = False
        self._note_shown = text

    def _on_note(self, change: Mapping[str, Any]) -> None:
        if getattr(self, "_setting_note", False):
            return
        echo = getattr(self, "_echo", None)
        shown = getattr(self, "_note_shown", None)
        if echo is not None and change["new"] == echo[0] and time.monotonic() - echo[1] < self._ECHO_SECONDS:
            # The box's own late copies (throttled typing, the change on blur) of the text the key carried.
            if shown is not None and change["new"] != shown:
                self._set_note(shown)
            return
        self._echo = None
        self._note_shown = change["new"]

    # ------------------------------------------------------------ the note guard
    def note_dirty(self) -> bool:
        """Whether the note box holds text not kept anywhere yet."""
        if "note" not in self._widgets or self.current() is None:
            return False
        return self._widgets["note"].value.strip() != self.saved_note().strip()

    def _guarded(self, move: Callable[[], Any]) -> str | None:
        """Run ``move`` (navigation, a filter change) unless it would throw a typed note away:
        then ask first (save / discard / stay)."""
        if self.note_dirty():
            self._pending = move
            return None
        self._pending = None
        move()
        self._save_state()
        return None

    def _resolve_guard(self, keep: bool | None) -> str | None:
        move, self._pending = self._pending, None
        said = None
        if keep is None:  # stay: put the filter dropdowns back as they were
            self._sync_dropdowns()
            return None
        if keep:
            said = self.save_note(self._widgets["note"].value)
        if move is not None:
            move()
            self._save_state()
        return said

    def _set_name(self) -> str:
        self.who = set_reviewer_name(self._widgets["name"].value)
        return f"审核人：{self.who}（已记住）"

    def _on_filter(self, name: str, change: Mapping[str, Any]) -> None:
        if getattr(self, "_syncing", False):
            return
        value = change["new"]
        self._act(lambda: self._guarded(lambda: self.set_filter(**{name: value or None})))()

    def _sync_dropdowns(self) -> None:
        self._syncing = True
        try:
            for name, dd in self._widgets["dropdowns"].items():
                v = self.filters.get(name)
                want = str(v) if v is not None and str(v) in {o[1] for o in dd.options} else ""
                if dd.value != want:
                    dd.value = want
        finally:
            self._syncing = False

    def _sync_widgets(self) -> None:
        if not self._widgets:
            return
        wd = self._widgets
        if self._pending is not None:
            # Keep the finding and the typed note as they are; only ask.
            wd["guard_text"].value = "<b style='color:#C00000'>备注尚未保存。</b>"
            wd["guard"].layout.display = "flex"
            return
        wd["guard"].layout.display = "none"
        self._sync_dropdowns()
        wd["counter"].value = self.counter
        wd["body"].value = self.render_html()
        cur = self.current()
        st = str(cur.get("review_status") or "open") if cur is not None else ""
        wd["status"].value = (
            f"<span style='background:{STATUS[st].fill if st in STATUS else '#FFF'}; padding: 2px 8px; border: 1px solid #CCC'>"
            f"{esc(STATUS_ZH.get(st, st))}</span>" if cur is not None else ""
        )
        # The note box is refilled only when another finding comes into view: what is
        # typed stays while the same finding is shown (after "stay", an error, a save).
        shown = None if cur is None else str(cur["id"])
        if shown != getattr(self, "_shown", object()):
            self._set_note(self.saved_note())
            self._shown = shown
        n = len(self._view)
        wd["prev"].disabled = self.position <= 0
        wd["next"].disabled = self.position >= n - 1
        wd["confirm"].disabled = n == 0
        wd["dismiss"].disabled = n == 0
        wd["save"].disabled = n == 0
        wd["name_row"].layout.display = "none" if self.who else "flex"


def _num_text(v: Any) -> str:
    if v is None or pd.isna(v):
        return "—"
    f = float(v)
    return str(int(f)) if f.is_integer() else f"{f:g}"
