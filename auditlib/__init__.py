"""auditlib: read, parse and audit 政府信息公开工作年度报告.

    >>> import auditlib
    >>> reports = auditlib.load_reports("reports_in/")
    >>> reports[0].table3            # DataFrame, rows and columns keyed and labelled
    >>> auditlib.tidy(reports)       # one long frame across reports
"""

from auditlib.blocks import IngestError
from auditlib.corpus import Unreadable, load_one, load_reports, tidy
from auditlib.report import Report, load

__version__ = "0.1.0"

__all__ = ["IngestError", "Report", "Unreadable", "__version__", "load", "load_one", "load_reports", "tidy"]
