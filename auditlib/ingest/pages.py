"""A report a web site published over several pages, saved as one file a page.

Government CMSes break a long article into pages (``t20220126_123.html``,
``t20220126_123_1.html``, ``…_2.html``), and a crawler saves each page as a
file. Read one by one, each page is half a report and a cascade of false alarms
(sections missing, tables not found). The pages are joined here, in order, into
one document, with the site's pager and the page header repeated on every page
left out.

Pages are joined only on evidence: the continuation files exist beside the first
page, numbered without a gap, and the first page points at them (a link to the
next page's file, or a pager: 下一页, 共N页, or the TRS script ``createPageHTML``
naming the article). Two reports that only happen to be named ``a.html`` and
``a_1.html`` stay two reports.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

from auditlib.blocks import Block, Document, Paragraph

HTML_SUFFIXES = (".htm", ".html", ".shtml")
# A site that splits a yearly report into more pages than this is not one we have seen.
MAX_PAGES = 20
_NUMBERED = re.compile(r"^(?P<base>.+?)(?P<sep>[_-])(?P<n>\d{1,2})$")
_PAGER_WORDS = (b"createPageHTML", *(w.encode(enc) for w in ("下一页", "下页", "尾页") for enc in ("utf-8", "gb18030")))
# A paragraph that is only the site's pager: 上一页 1 2 3 下一页 共3页 (in any order and spacing).
_PAGER = re.compile(r"^(?:\s*(?:首页|上一页|上页|下一页|下页|尾页|末页|共\s*\d+\s*页|第\s*\d+\s*页|\d{1,2}|[<>«»|｜]+)\s*)+$")
_PAGER_WORD = re.compile(r"首页|上一页|上页|下一页|下页|尾页|末页|共\s*\d+\s*页")


def _candidates(path: Path) -> list[Path]:
    """The files numbered after ``path`` (``X_1.html``, ``X_2.html`` … or ``X-2.html`` …), in
    order and without a gap; numbering may start at 1 or 2 (the first page has none)."""
    if path.suffix.lower() not in HTML_SUFFIXES:
        return []
    for sep in ("_", "-"):
        start = next((n for n in (1, 2) if path.with_name(f"{path.stem}{sep}{n}{path.suffix}").is_file()), None)
        if start is None:
            continue
        out = []
        for n in range(start, start + MAX_PAGES):
            p = path.with_name(f"{path.stem}{sep}{n}{path.suffix}")
            # A link is never followed into a page: it could point anywhere on the machine.
            if p.is_symlink() or not p.is_file():
                break
            out.append(p)
        return out
    return []


def continuations(path: str | Path, data: bytes) -> list[Path]:
    """The later pages of the report whose first page is ``path`` (with bytes ``data``);
    [] for a report in one file."""
    path = Path(path)
    pages = _candidates(path)
    if not pages:
        return []
    # The first page must point at the second: a link to its file, or a pager naming the article.
    linked = pages[0].name.encode() in data
    pager = path.stem.encode() in data and any(w in data for w in _PAGER_WORDS)
    return pages if linked or pager else []


def is_continuation(path: Path) -> bool:
    """True for a later page of a report whose first page stands beside it (read with that page)."""
    m = _NUMBERED.match(path.stem)
    if not m or path.suffix.lower() not in HTML_SUFFIXES:
        return False
    first = path.with_name(m["base"] + path.suffix)
    if not first.is_file():
        return False
    from auditlib.ingest import read_file

    try:
        return path in continuations(first, read_file(first))
    except Exception:  # an unreadable first page is that file's own finding, not this one's
        return False


def _text(block: Block) -> str | None:
    return block.text if isinstance(block, Paragraph) else None


def _is_pager(text: str) -> bool:
    """A line that is nothing but the site's pager, and says so (下一页, 共2页): never report text."""
    return bool(_PAGER.match(text)) and bool(_PAGER_WORD.search(text))


def _span(blocks: list[Block], head: set[str], foot: set[str]) -> tuple[int, int]:
    """Where the page's part of the article starts and ends: after the leading lines that
    stood before the first page's article (``head``), before the trailing lines every
    page ends with (``foot``)."""
    start, end = 0, len(blocks)
    while start < end and (t := _text(blocks[start])) is not None and (not t or t in head or _is_pager(t)):
        start += 1
    while end > start and (t := _text(blocks[end - 1])) is not None and (not t or t in foot or _is_pager(t)):
        end -= 1
    return start, end


def join_pages(first: Document, rest: list[Document]) -> Document:
    """One document from the pages of one report, in order.

    Every page repeats the site's chrome around its part of the article. What stood
    before the article on the first page (site name, navigation, title, date) is left
    out at the head of the later pages; the lines every page ends with (the footer,
    as the last page shows it) are left out at the foot of all but the last page, which
    keeps them as a report in one file would; the pager goes everywhere.
    """
    pages = [first, *rest]
    head = {t for b in first.blocks[:40] if (t := _text(b))}
    foot = {t for b in rest[-1].blocks[-15:] if (t := _text(b))}
    blocks: list[Block] = []
    images: list[tuple[int, str]] = []
    warnings: list[str] = []
    for k, doc in enumerate(pages):
        start, end = _span(doc.blocks, head if k else set(), foot if k < len(pages) - 1 else set())
        keep = [i for i in range(start, end) if not ((t := _text(doc.blocks[i])) and _is_pager(t))]
        # A picture stands before a block: one before a dropped block moves to the next kept one.
        images += [(len(blocks) + bisect.bisect_left(keep, i), src) for i, src in doc.images if start <= i <= end]
        blocks += [doc.blocks[i] for i in keep]
        warnings += [w for w in doc.warnings if w not in warnings]
    names = "、".join(Path(d.source).name for d in pages)
    warnings.append(
        f"报告分{len(pages)}页发布，已按页序合并读取：{names}（report published over {len(pages)} web pages, read as one）"
    )
    return Document(
        source=first.source, blocks=blocks, kind=first.kind, encoding=first.encoding, warnings=warnings, images=images
    )
