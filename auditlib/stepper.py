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

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from auditlib.review import ReviewStore
from auditlib.view import SEVERITY_CSS, esc, narrative_excerpt, styled_table
from auditlib.vocab import DECISIONS, REVIEW_STATUSES, SEVERITIES, STATUS, STATUS_ZH, severity_zh, status_zh

FILTERS = ("agency", "year", "rule", "severity", "status")
_FILTER_LABELS = {"agency": "机关", "year": "年度", "rule": "规则", "severity": "严重程度", "status": "审核状态"}
_COLUMN = {"agency": "agency", "year": "year", "rule": "rule", "severity": "severity", "status": "review_status"}


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
    ) -> None:
        self.store = store
        self.who = who
        self.advance = advance
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
        self.position = 0
        self._view = self._compute()
        self._widgets: dict[str, Any] = {}
        self._widget: Any = None

    # ------------------------------------------------------------ state
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
        return self.current()

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
        if note is None:
            note = self._widgets["note"].value if "note" in self._widgets else ""
        fid = str(cur["id"])
        self.store.ensure(self._base[self._base["id"] == fid])
        rec = self.store.decide(fid, status, note, who=self.who)
        before = self.position
        self._refresh(keep=fid)
        still_here = len(self._view) and self._view.iloc[self.position]["id"] == fid
        if self.advance and still_here:
            self.next()
        elif not still_here:
            # It left the view (e.g. filtered to open ones): the next one took its place.
            self.position = max(0, min(before, len(self._view) - 1))
        return rec

    def confirm(self, note: str | None = None) -> dict[str, str]:
        """Confirm the current finding (stored at once) and move on."""
        return self._decide("confirmed", note)

    def dismiss(self, note: str | None = None) -> dict[str, str]:
        """Dismiss the current finding as a false alarm (stored at once) and move on."""
        return self._decide("dismissed", note)

    # ------------------------------------------------------------ rendering
    def render_html(self) -> str:
        """The current finding as HTML: what, where, the table cell, the text, the decision."""
        cur = self.current()
        if cur is None:
            return "<div class='auditlib-stepper'><p>没有符合筛选条件的发现。</p></div>"
        sev = str(cur.get("severity"))
        status = str(cur.get("review_status") or "open")
        parts = [
            "<div class='auditlib-stepper' style='font-size: 14px; line-height: 1.6'>",
            f"<div><b>{esc(self.counter)}</b> · "
            f"<span style='background:{SEVERITY_CSS.get(sev, '#EEE')}; padding: 0 6px'>{esc(severity_zh(sev))}</span> · "
            f"<code>{esc(cur.get('rule'))}</code> · "
            f"<span style='background:{STATUS[status].fill if status in STATUS else '#FFF'}; padding: 0 6px; border: 1px solid #CCC'>"
            f"{esc(status_zh(status))}</span></div>",
            f"<h4 style='margin: 6px 0'>{esc(cur.get('agency') or '（未知机关）')} {esc(cur.get('year'))}年度 — "
            f"{esc(cur.get('location'))}</h4>",
            f"<p>{esc(cur.get('message'))}</p>",
        ]
        exp, act = cur.get("expected"), cur.get("actual")
        if not (pd.isna(exp) and pd.isna(act)):
            parts.append(
                "<table style='border-collapse: collapse'><tr>"
                f"<th style='padding: 0 8px'>预期</th><td style='padding: 0 8px'>{esc(_num_text(exp))}</td>"
                f"<th style='padding: 0 8px'>实际</th><td style='padding: 0 8px'>{esc(_num_text(act))}</td></tr></table>"
            )
        if status in DECISIONS:
            parts.append(
                f"<p style='color: #555'>审核：{esc(STATUS_ZH.get(status))} · {esc(cur.get('reviewer'))} · "
                f"{esc(cur.get('reviewed_at'))}<br>备注：{esc(cur.get('review_note'))}</p>"
            )
        report = self.reports.get(str(cur.get("source")))
        table = cur.get("table")
        if report is not None and isinstance(table, str) and table in getattr(report, "tables", {}):
            one = self._view.iloc[[self.position]]
            parts.append(styled_table(report, table, one, uuid=f"st{cur['id']}").to_html())
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

    # ------------------------------------------------------------ widget
    @property
    def widget(self) -> Any:
        """The ipywidgets UI (built once)."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> Any:
        import ipywidgets as w

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
            dd = w.Dropdown(
                options=[("全部", ""), *labels],
                value="",
                description=_FILTER_LABELS[name],
                layout=w.Layout(width="auto"),
            )
            dd.observe(lambda ch, name=name: self._on_filter(name, ch["new"]), names="value")
            dropdowns[name] = dd
        prev_b = w.Button(description="上一项", icon="arrow-left")
        next_b = w.Button(description="下一项", icon="arrow-right")
        confirm_b = w.Button(description="确认问题", button_style="danger", icon="check")
        dismiss_b = w.Button(description="驳回（误报）", button_style="", icon="times")
        counter = w.Label(self.counter)
        note = w.Textarea(placeholder="审核备注（可选）", layout=w.Layout(width="100%", height="4em"))
        body = w.HTML(self.render_html())
        message = w.HTML("")
        self._widgets = dict(
            dropdowns=dropdowns,
            prev=prev_b,
            next=next_b,
            confirm=confirm_b,
            dismiss=dismiss_b,
            counter=counter,
            note=note,
            body=body,
            message=message,
        )

        def act(fn: Any) -> Any:
            def handler(_: Any) -> None:
                try:
                    fn()
                    message.value = ""
                except Exception as exc:  # shown, not raised into the void of a callback
                    message.value = f"<span style='color:#C00000'>{esc(exc)}</span>"
                self._sync_widgets()

            return handler

        prev_b.on_click(act(self.prev))
        next_b.on_click(act(self.next))
        confirm_b.on_click(act(lambda: self.confirm()))
        dismiss_b.on_click(act(lambda: self.dismiss()))
        self._sync_widgets()
        return w.VBox(
            [
                w.HBox(list(dropdowns.values()), layout=w.Layout(flex_flow="row wrap")),
                w.HBox([prev_b, counter, next_b]),
                body,
                note,
                w.HBox([confirm_b, dismiss_b]),
                message,
            ]
        )

    def _on_filter(self, name: str, value: str) -> None:
        self.set_filter(**{name: value or None})
        self._sync_widgets()

    def _sync_widgets(self) -> None:
        if not self._widgets:
            return
        self._widgets["counter"].value = self.counter
        self._widgets["body"].value = self.render_html()
        cur = self.current()
        self._widgets["note"].value = str(cur.get("review_note") or "") if cur is not None else ""
        n = len(self._view)
        self._widgets["prev"].disabled = self.position <= 0
        self._widgets["next"].disabled = self.position >= n - 1
        self._widgets["confirm"].disabled = n == 0
        self._widgets["dismiss"].disabled = n == 0


def _num_text(v: Any) -> str:
    if v is None or pd.isna(v):
        return "—"
    f = float(v)
    return str(int(f)) if f.is_integer() else f"{f:g}"
