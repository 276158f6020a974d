"""auditlib.pipeline: the one load → audit → summarise step every output starts from."""

from __future__ import annotations

from auditlib import summary
from auditlib.audit import audit
from auditlib.cache import Cache
from auditlib.corpus import Unreadable, load_reports
from auditlib.pipeline import audit_folder
from tests.conftest import SAMPLES


def test_audit_folder_on_the_samples(tmp_path):
    cache = Cache(tmp_path / "cache")
    run = audit_folder(SAMPLES, cache)
    items = load_reports(SAMPLES, cache=False)
    assert [i.source for i in run.items] == [i.source for i in items]
    assert [f.to_json() for f in run.findings] == [f.to_json() for f in audit(items)]
    # Agency names resolved once, for every report, and carried.
    assert set(run.agencies) == {r.meta.agency for r in run.reports if r.meta.agency}
    assert run.agencies["柳州市人民政府办公室"] == "柳州市人民政府办公室"
    # The dashboard's summary is stored for exactly these paths.
    assert run.summary is not None
    stored = summary.load(SAMPLES, cache)
    assert stored is not None and len(stored.findings) == len(run.findings)
    assert summary.load_or_build(SAMPLES, cache).built_at == run.summary.built_at
    items2, findings2 = run  # unpacks as the pair most callers want
    assert items2 is run.items and findings2 is run.findings


def test_without_a_cache_nothing_is_stored(tmp_path):
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "empty.txt").write_text("", encoding="utf-8")
    run = audit_folder([bad], None)
    assert run.summary is None and run.agencies == {}
    assert isinstance(run.items[0], Unreadable)
    assert [f.rule for f in run.findings] == ["INPUT_UNREADABLE"]
