"""Files that are not reports at all. The pipeline makes these findings (see
:func:`auditlib.audit.unreadable_finding`); they are declared here so that the
catalogue, the README and the contract name every rule a user can meet."""

from __future__ import annotations

from auditlib.rules import declare

declare(
    "INPUT_UNREADABLE",
    "error",
    "文件无法作为年度报告读取（加密、损坏、扫描件无文字、格式不支持等）",
    "the file cannot be read as a report",
)
