"""Across agencies: a report whose narrative is largely another agency's report of the same year.

Every report shares sentences with hundreds of others: the 条例's wording, the format's own
phrases, the political preamble. Those are learnt from the corpus, not listed: a stretch of
text that many agencies print is standard, and only the rest is compared.

The text is cut into overlapping character shingles (numbers masked, punctuation and space
removed); about one in ``SAMPLE`` is kept, chosen by its first character (a content-defined
sample, as Broder's mod-m: both copies keep the same shingles, so the share they have in common
is estimated from a quarter of the work). Counting in how many
agencies each kept shingle occurs marks the standard ones; an inverted index of the rest,
per year, finds each report's peers. A shingle counts as standard once it is printed by
``min(COMMON_CAP, max(COMMON_MIN, COMMON_SHARE × agencies))`` agencies, so no posting list
is longer than ``COMMON_CAP`` and the work stays linear in the corpus.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from auditlib.findings import Finding
from auditlib.report import Report
from auditlib.rules import Context, agency_years, make, rule
from auditlib.rules.crossyear import _CLAUSE, _DIGITS, MIN_CLAUSE, _prose

SHINGLE = 10  # characters: long enough that two agencies' own sentences rarely share one by chance
SAMPLE = 4  # keep about one shingle in SAMPLE (see _ANCHORS)
COMMON_MIN = 5  # a stretch printed by this many agencies is standard, however small the corpus
COMMON_SHARE = 0.01  # … or by this share of the corpus's agencies
COMMON_CAP = 50  # … and always once this many print it (bounds every posting list)
MIN_OWN = 40  # kept shingles of own text (≈ 160 characters) below which a report is too short to judge
PEER_THRESHOLD = 0.6
_MASK64 = (1 << 64) - 1
_IDX_BITS = 24  # reports in one audit: up to 16 million
_IDX_MASK = (1 << _IDX_BITS) - 1


@dataclass
class _Entry:
    report: Report
    agency: str
    shingles: frozenset[int]


def _normalised(report: Report) -> str:
    return _CLAUSE.sub("", _DIGITS.sub("#", _prose(report)))


# Shingles are kept when their first character is one of these: about one character in SAMPLE,
# fixed (not Python's per-process string hash), so a re-run keeps the same shingles and states
# the same share; a set lookup per character is what keeps building the index cheap.
_ANCHORS = frozenset(
    chr(c) for c in (*range(0x20, 0x7F), *range(0x3000, 0xA000)) if (c * 0x9E3779B1 >> 12) % SAMPLE == 0
)


_ANCHOR_CLASS = "[" + "".join(re.escape(c) for c in sorted(_ANCHORS)) + "]"
# A look-ahead captures every kept shingle, overlapping, in one C-level scan.
_KEPT = re.compile(f"(?=({_ANCHOR_CLASS}.{{{SHINGLE - 1}}}))", re.S)
_EVERY = re.compile(f"(?=(.{{{SHINGLE}}}))", re.S)


def shingles(text: str, every: bool = False) -> frozenset[int]:
    """The kept shingles of a normalised text, as hashes (``every``: all of them)."""
    return frozenset(map(hash, (_EVERY if every else _KEPT).findall(text)))


def common_threshold(agencies: int) -> int:
    return min(COMMON_CAP, max(COMMON_MIN, math.ceil(COMMON_SHARE * agencies)))


@dataclass
class PeerIndex:
    """The corpus's same-year reports by their non-standard shingles."""

    entries: list[_Entry]
    common: frozenset[int]
    threshold: int

    @classmethod
    def build(cls, reports: list[Report], names: dict[str, str]) -> PeerIndex:
        entries = []
        for r in reports:
            if r.meta.agency and r.meta.year:
                entries.append(_Entry(r, names.get(r.meta.agency, r.meta.agency), shingles(_normalised(r))))
        # In how many agencies each shingle occurs (an agency's own years count once).
        by_agency: dict[str, set[int]] = defaultdict(set)
        for e in entries:
            by_agency[e.agency] |= e.shingles
        df: Counter[int] = Counter()
        for s in by_agency.values():
            df.update(s)
        threshold = common_threshold(len(by_agency))
        common = frozenset(h for h, n in df.items() if n >= threshold)
        return cls(entries, common, threshold)

    def matches(self) -> Iterator[tuple[_Entry, _Entry, float]]:
        """(report, its closest other-agency report of the same year, share of its own text in that one)."""
        # One sorted list of plain ints (year-salted shingle << 24 | report) rather than a dict of
        # lists: ints are not tracked by the garbage collector, whose passes over a large corpus
        # of parsed reports would otherwise cost more than the index itself.
        entries = self.entries
        own = [e.shingles - self.common for e in entries]
        codes: list[int] = []
        for i, e in enumerate(entries):
            salt = (e.report.meta.year or 0) * 0x9E3779B97F4A7C15
            codes.extend(((((h ^ salt) & _MASK64) << _IDX_BITS) | i) for h in own[i])
        codes.sort()
        shared: Counter[int] = Counter()  # i << _IDX_BITS | j → shingles of i's own text also in j
        n, k = len(codes), 0
        while k < n:
            key = codes[k] >> _IDX_BITS
            end = k + 1
            while end < n and codes[end] >> _IDX_BITS == key:
                end += 1
            if end - k > 1:
                members = [c & _IDX_MASK for c in codes[k:end]]
                for a in members:
                    for b in members:
                        if a != b and entries[a].agency != entries[b].agency:
                            shared[a << _IDX_BITS | b] += 1
            k = end
        best: dict[int, tuple[int, int]] = {}
        for pair, count in shared.items():
            i, j = pair >> _IDX_BITS, pair & _IDX_MASK
            if i not in best or (count, -j) > (best[i][0], -best[i][1]):
                best[i] = (count, j)
        for i in sorted(best):
            count, j = best[i]
            if len(own[i]) >= MIN_OWN:
                yield entries[i], entries[j], count / len(own[i])


def _shared_clause(a: Report, b: Report, common: frozenset[int]) -> str:
    """The longest clause both print that is not standard text, numbers shown as …."""

    def clauses(r: Report) -> set[str]:
        return {c for c in _CLAUSE.split(_DIGITS.sub("#", _prose(r))) if len(c) >= MIN_CLAUSE}

    both = clauses(a) & clauses(b)
    own = [c for c in both if len(c) >= SHINGLE and not shingles(c, every=True) <= common]
    return max(own or both or {""}, key=lambda c: (len(c), c)).replace("#", "…")


@rule(
    "COPY_OF_PEER",
    "warning",
    "正文与同年度其他机关的报告大量雷同（众多报告共有的标准语句除外）",
    "the narrative is largely the same text as another agency's report of the same year (standard sentences excluded)",
    scope="corpus",
)
def copy_of_peer(reports: list[Report], ctx: Context) -> Iterator[Finding]:
    index = PeerIndex.build(reports, agency_years(reports, ctx).names)
    for e, peer, share in index.matches():
        if share < PEER_THRESHOLD:
            continue
        other = peer.report
        yield make(
            e.report,
            "COPY_OF_PEER",
            "一、总体情况；五、存在的主要问题及改进情况",
            f"正文（除{index.threshold}个以上机关共有的标准语句外）有 {share:.0%} 与{other.meta.agency}"
            f"{other.meta.year}年度报告（{other.source}）相同（数字除外），疑似照搬其他机关的报告"
            f"（{share:.0%} of the narrative, standard sentences aside, is the same as {other.source}; "
            "the 2021 format forbids 内容雷同）",
            f"两份报告相同的一句：{_shared_clause(e.report, other, index.common)}",
            actual=round(share, 3),
            key=f"peer:{other.digest or other.source}",
            extra={"peer_source": other.source, "peer_agency": other.meta.agency},
        )
