"""auditlib.claims: the figures the narrative states, in the report's own words."""

from __future__ import annotations

from auditlib.claims import GRANTED, claims_of, extract, of_kind, where


def test_extract_a_count_and_its_breakdown():
    cs = extract("本年度共收到政府信息公开申请12件，其中予以公开5件。", year=2021)
    assert [(c.kind, c.value) for c in cs] == [("received", 12), ("sum", 12), (GRANTED, 5)]
    received = cs[0]
    assert received.text == "收到政府信息公开申请12件" and received.unit == "件"


def test_claims_of_a_sample_quote_the_report(parsed_samples):
    r = parsed_samples["000_bebe3e000f0fa92c"]
    cs = claims_of(r)
    assert claims_of(r) is cs or claims_of(r) == cs  # read once per report
    got = {(c.kind, c.value) for c in cs}
    assert {("received", 78), ("review", 6), ("litigation", 2), ("sum", 164)} <= got
    for c in cs:
        a, b = c.span
        assert r.narrative[a:b] == c.text, c
        assert c.text in c.sentence
    total = next(c for c in cs if c.kind == "sum" and c.value == 164)
    assert any(p.value == 29 for p in total.parts)
    assert of_kind(cs, "review")[0].value == 6
    assert where(r, of_kind(cs, "received")[0].span[0])


def test_a_nil_statement_is_a_zero(parsed_samples):
    cs = claims_of(parsed_samples["003_c430893fbea2ae1b"])
    assert ("received", 0) in {(c.kind, c.value) for c in cs}
    assert of_kind(cs, "received")[0].text == "未收到政府信息公开申请"
