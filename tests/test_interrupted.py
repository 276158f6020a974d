"""Killing `auditlib sheets` mid-run leaves no partial output, and the next run completes the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from tests.conftest import ROOT, SAMPLES

pytestmark = pytest.mark.slow


def _complete(path):
    """An output file that is whole: the notebook is JSON, the HTML ends, the workbook is a zip."""
    if path.suffix == ".ipynb":
        json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix == ".html":
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")
    elif path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None


def test_kill_midway_then_rerun(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "auditlib", "sheets", str(SAMPLES), "--out", str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    try:
        # Wait until the batch is writing (a temp file, or a first agency's folder: warm kernels
        # write a sheet in well under a second, so a temp file alone is easily missed), then
        # kill everything at once.
        while time.time() < deadline and proc.poll() is None:
            if out.exists() and any((p.name.startswith(".") and ".tmp" in p.name) or p.is_dir() for p in out.rglob("*")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    for p in out.rglob("*"):
        if p.is_file() and not p.name.startswith("."):
            _complete(p)
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    agencies = [d for d in out.iterdir() if d.is_dir()]
    assert len(agencies) == 6
    for d in agencies:
        for name in ("audit_sheet.ipynb", "audit_sheet.html", "findings.xlsx"):
            _complete(d / name)
