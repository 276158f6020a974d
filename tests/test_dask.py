"""Sheets on a real Dask cluster (a LocalCluster of worker processes), through the CLI path."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from auditlib import kernels
from auditlib.sheets import run_sheets
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow


def test_sheets_on_a_local_dask_cluster(tmp_path):
    from distributed import Client, LocalCluster

    reports = tmp_path / "in"
    reports.mkdir()
    names = ("000_bebe3e000f0fa92c.txt", "002_70eac6e8a2e0d3d2.txt", "003_c430893fbea2ae1b.txt", "004_27f28e9d7369eeba.txt")
    for name in names:
        shutil.copy(SAMPLES / name, reports / name)
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results = run_sheets(reports, out, scheduler=cluster.scheduler_address, progress=False)
        with Client(cluster) as client:
            warm = client.run(kernels.stats)
    assert len(results) == 4
    assert {"柳州市城中区城中街道办事处", "石龙区人民政府办公室"} <= {r.agency for r in results}
    # Each worker kept its kernel warm between the agencies it ran: 4 sheets, at most 2 kernels.
    per_worker = [k for ks in warm.values() for k in ks]
    assert 1 <= len(per_worker) <= 2 and sum(k["uses"] for k in per_worker) == 4
    assert all(r.ok for r in results), [r.error for r in results]
    for r in results:
        # Gathered into outputs/ by the client, not left on the workers.
        assert r.directory.parent == out.resolve()
        names = {p.name for p in r.directory.iterdir()}
        assert {"audit_sheet.ipynb", "audit_sheet.html", "findings.xlsx"} <= names
        nb = nbformat.read(r.directory / "audit_sheet.ipynb", as_version=4)
        assert r.agency in str(nb)
    assert "石龙区人民政府办公室" in (out / "index.html").read_text(encoding="utf-8")
