"""Sheets on a real Dask cluster (a LocalCluster of worker processes), through the CLI path."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from auditlib.sheets import run_sheets
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow


def test_sheets_on_a_local_dask_cluster(tmp_path):
    from distributed import LocalCluster

    reports = tmp_path / "in"
    reports.mkdir()
    for name in ("003_c430893fbea2ae1b.txt", "004_27f28e9d7369eeba.txt"):
        shutil.copy(SAMPLES / name, reports / name)
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results = run_sheets(reports, out, scheduler=cluster.scheduler_address, progress=False)
    assert sorted(r.agency for r in results) == ["柳州市城中区城中街道办事处", "石龙区人民政府办公室"]
    assert all(r.ok for r in results), [r.error for r in results]
    for r in results:
        # Gathered into outputs/ by the client, not left on the workers.
        assert r.directory.parent == out.resolve()
        names = {p.name for p in r.directory.iterdir()}
        assert {"audit_sheet.ipynb", "audit_sheet.html", "findings.xlsx"} <= names
        nb = nbformat.read(r.directory / "audit_sheet.ipynb", as_version=4)
        assert r.agency in str(nb)
    assert "石龙区人民政府办公室" in (out / "index.html").read_text(encoding="utf-8")
