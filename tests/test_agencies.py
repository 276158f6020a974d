"""auditlib.agencies: which reports come from one agency, however it wrote its name."""

from __future__ import annotations

from auditlib.agencies import agency_key, group_by_agency, resolve


def test_agency_key_normalises_spelling_only():
    assert agency_key("柳州市 城中区（本级）") == "柳州市城中区"
    assert agency_key("城中街道办") == "城中街道办事处"
    assert agency_key(None) == agency_key("") == ""


def test_a_short_name_joins_the_one_name_it_abbreviates():
    got = resolve(["城中街道办", "柳州市城中区城中街道办事处", None])
    assert got == {"城中街道办": "柳州市城中区城中街道办事处", "柳州市城中区城中街道办事处": "柳州市城中区城中街道办事处"}


def test_two_districts_offices_stay_apart():
    names = ["柳州市柳江区发展和改革局", "柳州市城中区发展和改革局", "发展和改革局"]
    # 发展和改革局 abbreviates both: it joins neither, and the two districts are not merged.
    assert resolve(names) == {n: n for n in names}


def test_group_by_agency_on_the_samples(parsed_samples):
    reports = list(parsed_samples.values())
    index = group_by_agency(reports)
    assert set(index.names) == {r.meta.agency for r in reports}
    # Each sample is the only report of its agency: none has a previous year.
    assert all(index.previous(r) is None for r in reports)
    # The run's own resolution, when given, is used as it is.
    carried = {r.meta.agency: "同一机关" for r in reports}
    merged = group_by_agency(reports, carried)
    assert list(merged.years) == ["同一机关"]
    assert {r.meta.year for r in reports} == set(merged.years["同一机关"])
    by_year = merged.years["同一机关"]
    later = by_year[2022]
    assert merged.previous(later) is by_year[2021]
