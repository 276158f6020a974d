"""Across agencies: a report whose narrative is largely another agency's report of the same year.

Every report shares sentences with hundreds of others: the 条例's wording, the format's own
phrases, the political preamble. Those are learnt from the corpus, not listed: a stretch of
text that many agencies print is standard, and only the rest is compared.

The text (sections 一 and 五) is cut into overlapping 10-character shingles, numbers masked,
punctuation and space removed; about one in ``SAMPLE`` is kept, chosen by its first character (a
content-defined sample, as Broder's mod-m: both copies keep the same shingles, so the share they
have in common is estimated from a quarter of the work). Counting in how many agencies each kept
shingle occurs marks the standard ones: those printed by
``min(COMMON_CAP, max(COMMON_MIN, COMMON_SHARE × agencies))`` agencies or more. A report is a
copy when ``PEER_THRESHOLD`` of the rest is in one other agency's report of the same year;
candidates come from prefix filtering (see :meth:`PeerIndex.matches`) and are measured exactly
by set intersection, so the work grows linearly with the corpus
(``benchmarks/bench_peers.py``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

import numpy as np

from auditlib.findings import Finding
from auditlib.report import Report
from auditlib.rules import Context, agency_years, make, rule
from auditlib.rules.crossyear import CLAUSE_BREAK, DIGITS, MIN_CLAUSE, prose

SHINGLE = 10  # characters: long enough that two agencies' own sentences rarely share one by chance
SAMPLE = 4  # keep about one shingle in SAMPLE (see _anchor)
COMMON_MIN = 5  # a stretch printed by this many agencies is standard, however small the corpus
COMMON_SHARE = 0.01  # … or by this share of the corpus's agencies
COMMON_CAP = 50  # … and always once this many print it (bounds every posting list)
MIN_OWN = 40  # kept shingles of own text (≈ 160 characters) below which a report is too short to judge
PEER_THRESHOLD = 0.6


@dataclass
class _Entry:
    report: Report
    agency: str
    shingles: frozenset[int]


def _normalised(report: Report) -> str:
    return CLAUSE_BREAK.sub("", DIGITS.sub("#", prose(report)))


# Shingles are kept when their first character is one of these: about one character in SAMPLE,
# fixed (not Python's per-process string hash), so a re-run keeps the same shingles and states
# the same share.
def _anchors() -> np.ndarray:
    """Per code point below 0xA000, whether it starts a kept shingle: printable ASCII and the
    CJK blocks, one in SAMPLE by a fixed multiplicative hash; nothing from 0xA000 up."""
    c = np.arange(0xA001, dtype=np.uint64)
    known = ((c >= 0x20) & (c < 0x7F)) | ((c >= 0x3000) & (c < 0xA000))
    return known & ((c * np.uint64(0x9E3779B1) >> np.uint64(12)) % np.uint64(SAMPLE) == 0)


_ANCHOR = _anchors()
_BASE = np.uint64(0x100000001B3)


def shingles(text: str, every: bool = False) -> frozenset[int]:
    """The kept shingles of a normalised text, as hashes (``every``: all of them).

    Each SHINGLE-character window is hashed as a polynomial in its code points (mod 2⁶⁴), all
    windows at once in a few whole-array operations: no string is made per shingle.
    """
    n = len(text) - SHINGLE + 1
    if n <= 0:
        return frozenset()
    a = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    h = a[:n].copy()
    for k in range(1, SHINGLE):
        h *= _BASE  # wraps modulo 2⁶⁴, as meant
        h += a[k : k + n]
    if not every:
        h = h[_ANCHOR[np.minimum(a[:n], 0xA000)]]
    return frozenset(h.view(np.int64).tolist())


def common_threshold(agencies: int) -> int:
    return min(COMMON_CAP, max(COMMON_MIN, math.ceil(COMMON_SHARE * agencies)))


@dataclass
class PeerIndex:
    """The corpus's same-year reports by their non-standard shingles."""

    entries: list[_Entry]
    common: frozenset[int]  # standard: printed by ``threshold`` agencies or more
    threshold: int
    uniq: np.ndarray  # every shingle of the corpus, sorted …
    counts: np.ndarray  # … and how many agencies print it
    single: frozenset[int]  # printed by one agency only: no peer can share it

    @classmethod
    def build(cls, reports: list[Report], names: dict[str, str]) -> PeerIndex:
        entries = []
        for r in reports:
            if r.meta.agency and r.meta.year:
                entries.append(_Entry(r, names.get(r.meta.agency, r.meta.agency), shingles(_normalised(r))))
        # In how many agencies each shingle occurs (an agency's own years count once): one
        # C-level sort of every agency's shingles, not a dictionary update per shingle.
        by_agency: dict[str, frozenset[int]] = {}
        for e in entries:
            have = by_agency.get(e.agency)
            by_agency[e.agency] = e.shingles if have is None else have | e.shingles
        threshold = common_threshold(len(by_agency))
        every = np.fromiter(chain.from_iterable(by_agency.values()), dtype=np.int64)
        uniq, counts = np.unique(every, return_counts=True)
        common = frozenset(uniq[counts >= threshold].tolist())
        single = frozenset(uniq[counts == 1].tolist())
        return cls(entries, common, threshold, uniq, counts, single)

    def agencies_printing(self, hs: list[int]) -> list[int]:
        """How many agencies print each of the shingles ``hs`` (all of them in the corpus)."""
        return self.counts[np.searchsorted(self.uniq, np.array(hs, dtype=np.int64))].tolist()

    def matches(self, threshold: float = PEER_THRESHOLD) -> Iterator[tuple[_Entry, _Entry, float]]:
        """(report, the other agency's same-year report holding most of its own text, that share),
        for every report whose share reaches ``threshold``.

        Prefix filtering: a peer holding ``threshold`` of a report's own shingles must hold one of
        its ``len - ceil(threshold·len) + 1`` rarest. Only those shingles' postings are looked up,
        and each candidate is then measured exactly by one set intersection (C-level), so the
        frequent (but not yet standard) shingles never multiply into pairs.
        """
        entries = self.entries
        own = [e.shingles - self.common for e in entries]
        # Rarest first (fewest agencies): one agency's own shingles, then the rest.
        prefixes: dict[int, list[int]] = {}
        for i, mine in enumerate(own):
            size = len(mine)
            if size < MIN_OWN:
                continue
            shared = mine - self.single
            room = size - math.ceil(threshold * size) + 1 - (size - len(shared))
            if room > 0:
                hs = list(shared)
                prefixes[i] = [h for _, h in sorted(zip(self.agencies_printing(hs), hs, strict=True))[:room]]
        # Postings only for the shingles some prefix holds: set intersections do the filtering.
        needed = frozenset(chain.from_iterable(prefixes.values()))
        postings: dict[int, list[int]] = defaultdict(list)
        if needed:
            for i, mine in enumerate(own):
                for h in mine & needed:
                    postings[h].append(i)
        for i in sorted(prefixes):
            e = entries[i]
            mine, year = own[i], e.report.meta.year
            cands: set[int] = set()
            for h in prefixes[i]:
                cands.update(postings[h])
            best: tuple[int, int] | None = None
            for j in sorted(cands):
                o = entries[j]
                if j == i or o.agency == e.agency or o.report.meta.year != year:
                    continue
                n = len(mine & own[j])
                if best is None or n > best[0]:
                    best = (n, j)
            if best is not None and best[0] / len(mine) >= threshold:
                yield e, entries[best[1]], best[0] / len(mine)


def _shared_clause(a: Report, b: Report, common: frozenset[int]) -> str:
    """The longest clause both print that is not standard text, numbers shown as …."""

    def clauses(r: Report) -> set[str]:
        return {c for c in CLAUSE_BREAK.split(DIGITS.sub("#", prose(r))) if len(c) >= MIN_CLAUSE}

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
    for e, peer, share in index.matches(PEER_THRESHOLD):
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
