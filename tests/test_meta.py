"""auditlib.meta: the title, agency, year and dates of a report."""

from __future__ import annotations

from auditlib.ingest import read
from auditlib.meta import find_title, is_abbreviation, is_generic
from tests.conftest import sample_path


def test_generic_names_and_abbreviations():
    assert is_generic("人民政府") and is_generic(None)
    assert not is_generic("柳州市人民政府")
    assert is_abbreviation("城中街道办", "柳州市城中区城中街道办事处")
    assert not is_abbreviation("城中区街道", "城中街道办")


def test_find_title_on_the_samples():
    blocks = read(sample_path("huaian-2024")).blocks
    assert find_title(blocks) == (0, "淮安市人民政府2024年政府信息公开工作年度报告", "淮安市人民政府", 2024)
    # A title without the agency: the agency comes from elsewhere (the signature).
    i, title, agency, year = find_title(read(sample_path("000_bebe3e000f0fa92c")).blocks)
    assert (title, agency, year) == ("2021年政府信息公开工作年度报告", "", 2021)
    assert i > 0


def test_meta_of_the_samples(parsed_samples):
    m = parsed_samples["000_bebe3e000f0fa92c"].meta
    assert (m.agency, m.year) == ("柳州市人民政府办公室", 2021)
    assert parsed_samples["huaian-2024"].meta.agency == "淮安市人民政府"
