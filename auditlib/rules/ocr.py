"""OCR_UNVERIFIED: numbers read from a scanned table that its own arithmetic did not confirm."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from auditlib.findings import Finding
from auditlib.layouts import TABLE_NAMES
from auditlib.report import Report
from auditlib.rules import Context, make, rule


@rule(
    "OCR_UNVERIFIED",
    "warning",
    "扫描表格中的数字未能由表内勾稽关系验证，已置空",
    "a number read from a scanned table that the table's own arithmetic does not confirm; left null",
)
def ocr_unverified(report: Report, ctx: Context) -> Iterator[Finding]:
    for check in report.ocr_checks:
        pt = report.tables[check.table]
        row = pt.layout.row(check.row)
        col = next(c for c in row.columns if c.key == check.column)
        label = pt.labels.get(check.row) or row.label
        if check.broken:
            why = "与其相关的勾稽关系不成立：" + "；".join(check.broken)
        elif check.table == "table2":
            why = "表二没有可用于验证的勾稽关系"
        else:
            why = "相关的勾稽关系中有单元格空白或未能识别，无法验证"
        hint = ""
        if check.suggestion is not None:
            doubt = check.doubt
            which = "" if doubt is None else f"第{doubt + 1}位，识别置信度{check.chars[doubt]:.2f}，为该数中最低；"
            hint = (
                f"。提示：若将“{check.read}”改为“{check.suggestion}”（只改一位数字：{which}改后相关勾稽关系全部成立），"
                "请对照原件核实，本系统不采用此推测值 (changing one digit would make every identity hold; a hint, not the value)"
            )
        where = f"第{check.page}页" if check.page else ""
        what = f"图片“{check.image}”" if check.image else "扫描表格"
        extra: dict[str, Any] = {
            "bbox": list(check.bbox),
            "read": check.read,
            "confidence": check.confidence,
            "suggestion": check.suggestion,
        }
        if check.page:
            extra["page"] = check.page
        if check.image:
            extra["image"] = check.image
        if check.chars:
            extra["char_confidence"] = list(check.chars)
        if check.crop:
            # The cell as read, small enough (a few hundred bytes) to travel with the finding.
            extra["cell_image"] = "data:image/png;base64," + base64.b64encode(check.crop).decode("ascii")
        yield make(
            report,
            "OCR_UNVERIFIED",
            f"{TABLE_NAMES[check.table]} {label} / {col.label}",
            f"{where}{what}中识别为“{check.read}”（识别置信度{check.confidence:.2f}），{why}，"
            f"该单元格按空值处理{hint}（OCR reading not confirmed by the table's arithmetic; cell left null）",
            f"{label}｜{col.label}：识别为“{check.read}”",
            actual=check.value,
            table=check.table,
            row=check.row,
            column=check.column,
            key=f"{check.table}:{check.row}:{check.column}",
            extra=extra,
        )
