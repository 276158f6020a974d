"""Numbers read by OCR are trusted only where the table's own arithmetic confirms them.

The format carries checksums: every 表三 row's 总计, the column identities
一 + 二 = （七）总计 + 四 and （七）总计 = （一）+…+（六）, and each 表四 group's 总计.
A number read from an image becomes a value only when some identity that
involves it holds with every one of its cells filled. A misread digit breaks
each identity it is in, so it is never confirmed; two misreadings that cancel
out in the same identity are the only way through, and they would have to
happen in one row or column at once.

A number that nothing confirms is set back to ``None`` and kept as an
:class:`OcrCheck` for the ``OCR_UNVERIFIED`` finding: what was read, how sure
the recogniser was, where it stands on the page, and, when changing one digit
would make every identity around it hold, that reading as a suggestion — never
as the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditlib.ingest.ocr import OcrText
from auditlib.layouts import T3_RESULT_ROWS_2019, T3_RESULT_ROWS_2021
from auditlib.tables import ParsedTable

Key = tuple[str, str, str]  # table, row, column
Number = int | float


@dataclass(frozen=True)
class Identity:
    """sum(left) == sum(right)."""

    left: tuple[Key, ...]
    right: tuple[Key, ...]
    name: str  # for people: which identity, in the format's words

    @property
    def cells(self) -> tuple[Key, ...]:
        return self.left + self.right


@dataclass(frozen=True)
class OcrCheck:
    table: str
    row: str
    column: str
    read: str  # the text as the recogniser returned it
    value: Number | None  # the number in it, when it is one
    confidence: float
    page: int
    bbox: tuple[float, float, float, float]
    broken: tuple[str, ...]  # identities it is in that fail with it
    suggestion: Number | None = None  # one digit changed, every identity holds
    image: str = ""  # the picture it was read from, in a document that is not all scans
    chars: tuple[float, ...] = ()  # the recogniser's confidence in each character read
    crop: bytes = b""  # the cell as read (PNG)

    @property
    def doubt(self) -> int | None:
        """The position (0-based) of the character the recogniser was least sure of, when it said."""
        return min(range(len(self.chars)), key=self.chars.__getitem__) if self.chars else None


def identities(tables: dict[str, ParsedTable], fmt: str | None) -> list[Identity]:
    out: list[Identity] = []
    t3 = tables.get("table3")
    if t3 is not None and t3.found:
        cols = [c.key for c in t3.layout.columns or ()]
        parts = [c for c in cols if c != "total"]
        for row in t3.layout.rows:
            out.append(
                Identity(
                    tuple(("table3", row.key, c) for c in parts),
                    (("table3", row.key, "total"),),
                    f"表三“{row.label}”行：六类申请人之和 = 总计",
                )
            )
        results = T3_RESULT_ROWS_2019 if fmt == "2019" else T3_RESULT_ROWS_2021
        for c in cols:
            out.append(
                Identity(
                    tuple(("table3", r, c) for r in results),
                    (("table3", "total_handled", c),),
                    f"表三“{c}”列：（一）至（六）之和 = （七）总计",
                )
            )
            out.append(
                Identity(
                    (("table3", "new_received", c), ("table3", "carried_over", c)),
                    (("table3", "total_handled", c), ("table3", "carried_forward", c)),
                    f"表三“{c}”列：一 + 二 = （七）总计 + 四",
                )
            )
    t4 = tables.get("table4")
    if t4 is not None and t4.found:
        for row in t4.layout.rows:
            out.append(
                Identity(
                    tuple(("table4", row.key, c.key) for c in row.columns if c.key != "total"),
                    (("table4", row.key, "total"),),
                    f"表四“{row.label}”：四项之和 = 总计",
                )
            )
    return out


def verify(tables: dict[str, ParsedTable], fmt: str | None) -> list[OcrCheck]:
    """Null every OCR'd number no identity confirms; return what was nulled and why."""
    read: dict[Key, OcrText] = {}
    for name, pt in tables.items():
        for (row, col), raw in pt.raw.items():
            if isinstance(raw, OcrText) and raw.strip():
                read[(name, row, col)] = raw
    if not read:
        return []

    def value(k: Key) -> Number | None:
        return tables[k[0]].values.get((k[1], k[2]))

    ids = identities(tables, fmt)
    holds: dict[Identity, bool | None] = {}
    for ident in ids:
        vals = [value(k) for k in ident.cells]
        holds[ident] = None if any(v is None for v in vals) else _sum(ident.left, value) == _sum(ident.right, value)
    confirmed = {k for ident in ids if holds[ident] for k in ident.cells}

    checks: list[OcrCheck] = []
    for k, raw in read.items():
        if k in confirmed:
            continue
        mine = [i for i in ids if k in i.cells]
        v = value(k)
        suggestion = _one_digit_fix(k, raw, mine, value, confirmed, read) if v is not None else None
        tables[k[0]].values[(k[1], k[2])] = None
        checks.append(
            OcrCheck(
                k[0],
                k[1],
                k[2],
                raw.seen,
                v,
                round(raw.conf, 3),
                raw.page,
                raw.bbox,
                tuple(i.name for i in mine if holds[i] is False),
                suggestion,
                raw.image,
                raw.chars,
                raw.crop,
            )
        )
    return checks


def _sum(keys: tuple[Key, ...], value) -> Number:  # type: ignore[no-untyped-def]
    return sum(value(k) for k in keys)


def _one_digit_fix(k: Key, raw: OcrText, mine: list[Identity], value, confirmed: set[Key], read) -> Number | None:  # type: ignore[no-untyped-def]
    """The number one digit away from the reading that makes every identity of the cell hold.

    Only identities whose other cells are all filled and trusted (confirmed, or
    from a text layer) can say what the cell should be, and they must agree.
    """
    wanted: set[Number] = set()
    for ident in mine:
        others = [o for o in ident.cells if o != k]
        if any(value(o) is None or (o in read and o not in confirmed) for o in others):
            continue
        left = sum(value(o) for o in ident.left if o != k)
        right = sum(value(o) for o in ident.right if o != k)
        wanted.add(right - left if k in ident.left else left - right)
    if len(wanted) != 1:
        return None
    target = wanted.pop()
    if not isinstance(target, int) or target < 0:
        return None
    digits = "".join(ch for ch in str(raw) if not ch.isspace())
    new = str(target)
    if len(new) != len(digits) or sum(a != b for a, b in zip(new, digits, strict=True)) != 1:
        return None
    # Where the recogniser scored each character, the digit to change must be the one it
    # was least sure of: a confident digit that the sums disagree with is no one-digit slip.
    if len(raw.chars) == len(digits):
        changed = next(i for i, (a, b) in enumerate(zip(new, digits, strict=True)) if a != b)
        if raw.chars[changed] > min(raw.chars):
            return None
    return target
