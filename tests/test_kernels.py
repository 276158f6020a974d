"""The warm-kernel papermill engine: one kernel runs notebook after notebook, each in a clean namespace."""

from __future__ import annotations

import nbformat
import papermill as pm
import pytest

from auditlib import kernels

pytestmark = pytest.mark.slow


def _notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _run(nb: nbformat.NotebookNode, cwd, **params) -> nbformat.NotebookNode:
    return pm.execute_notebook(
        nb, None, parameters=params, engine_name=kernels.ENGINE, progress_bar=False, kernel_cwd=str(cwd)
    )


def _printed(nb: nbformat.NotebookNode, i: int) -> str:
    return "".join(o.get("text", "") for o in nb.cells[i].outputs)


# The first cell is papermill's parameters; the second tells what it finds of earlier notebooks,
# the third leaves state of every kind behind for the next.
PROBE = _notebook(
    'agency = "?"',
    "import os, sys\n"
    "left = sorted(k for k in globals() if k in {'secret', 'agency_before', 'frame', 'helper'})\n"
    "print(os.getpid(), agency, left, os.getcwd(), len(Out), get_ipython().execution_count)",
    "secret = agency\nagency_before = agency\nimport pandas as pd\nframe = pd.DataFrame({'a': [1]})\n"
    "def helper():\n    return secret\n_ = helper()",
)


def test_one_agencys_state_never_reaches_the_next(tmp_path) -> None:
    kernels.shutdown_all()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    try:
        first = _printed(_run(PROBE, a, agency="甲机关"), 2).split()
        second = _printed(_run(PROBE, b, agency="乙机关"), 2).split()
        # The same kernel process: it was kept warm ...
        assert first[0] == second[0]
        assert kernels.stats() == [{"pid": int(first[0]), "uses": 2}]
        # ... and the second notebook saw nothing the first defined, ran in its own folder,
        # with no output history and numbering from the start, as in a new kernel.
        assert second[1] == "乙机关"
        assert second[2] == "[]" and first[2] == "[]"
        assert second[3] == str(b) and first[3] == str(a)
        assert second[4] == first[4] == "0"
        assert second[5] == first[5]
    finally:
        kernels.shutdown_all()


def test_a_failed_notebook_leaves_no_kernel_behind(tmp_path) -> None:
    kernels.shutdown_all()
    try:
        pid = _printed(_run(PROBE, tmp_path, agency="甲"), 2).split()[0]
        broken = _notebook('agency = "?"', "secret = 1\nraise RuntimeError('坏了')")
        with pytest.raises(pm.PapermillExecutionError, match="坏了"):
            _run(broken, tmp_path, agency="乙")
        assert kernels.stats() == []  # the kernel that saw the error is gone
        after = _printed(_run(PROBE, tmp_path, agency="丙"), 2).split()
        assert after[0] != pid and after[2] == "[]"
    finally:
        kernels.shutdown_all()


def test_a_kernel_is_replaced_after_its_uses(tmp_path, monkeypatch) -> None:
    kernels.shutdown_all()
    monkeypatch.setattr(kernels, "MAX_USES", 2)
    try:
        pids = [_printed(_run(PROBE, tmp_path, agency=str(i)), 2).split()[0] for i in range(3)]
        assert pids[0] == pids[1] != pids[2]
        assert len(kernels.stats()) == 1  # the worn-out one was shut down, not kept beside the new one
    finally:
        kernels.shutdown_all()
