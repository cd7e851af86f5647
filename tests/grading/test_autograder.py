"""The Gradescope autograders: `make autograder`'s zips, unpacked as Gradescope does, run on a
correct, a buggy and a hostile submission, and on the failures run_autograder must survive (no
file to check, a checker that crashes, one that runs out of time). Every results.json is checked
against Gradescope's specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBS = ROOT / "tests" / "submissions"
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
STATUS = {"passed", "failed"}


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_autograder.py"), "--out", str(out)],
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {kind: out / f"{kind}.zip" for kind in ("mlp", "gd")}


def install(zip_path: Path, root: Path) -> Path:
    """What Gradescope does: the zip into /autograder/source, run_autograder copied to /autograder."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
    for name in ("run_autograder", "setup.sh"):
        (source / name).chmod(0o755)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def run(root: Path, timeout=400, **env) -> dict:
    done = subprocess.run([str(root / "run_autograder")], cwd=root, capture_output=True, text=True, timeout=timeout,
                          env=dict({k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, AUTOGRADER_ROOT=str(root),
                                   **env))
    assert done.returncode == 0, done.stderr[-2000:]
    results = root / "results" / "results.json"
    assert results.exists(), done.stdout[-2000:]
    data = json.loads(results.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in results.json"))
    check_gradescope(data)
    return data


def check_gradescope(d: dict) -> None:
    """The fields Gradescope reads, with their types and allowed values."""
    assert isinstance(d, dict)
    assert isinstance(d["score"], (int, float)) and not isinstance(d["score"], bool) and math.isfinite(d["score"])
    assert isinstance(d.get("execution_time", 0), (int, float))
    assert isinstance(d.get("output", ""), str)
    for key in ("visibility", "stdout_visibility"):
        assert d.get(key, "visible") in VISIBILITY
    assert isinstance(d["tests"], list) and d["tests"]
    for t in d["tests"]:
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
        assert 0 <= t["score"] <= t["max_score"]
        assert t.get("status", "passed") in STATUS
        assert isinstance(t.get("output", ""), str)
        assert t.get("visibility", "visible") in VISIBILITY
    assert d["score"] <= sum(t["max_score"] for t in d["tests"]) + 1e-9


def test_zips_hold_what_gradescope_needs_and_no_solution(zips):
    for kind, path in zips.items():
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        assert {"setup.sh", "run_autograder", "grading/cli.py", "grading/sandbox.py", "lab/mistakes.py"} <= names
        assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
        assert "mlp.py" not in names and "gd.py" not in names and not any(n.startswith("lab/exercises") for n in names)
        assert ("dream/models.py" in names) == (kind == "gd")
        with zipfile.ZipFile(path) as zf:
            setup = zf.read("setup.sh").decode()
        assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in setup


@pytest.mark.parametrize("fixture, verdict", [("good_functional.py", "PASS"), ("bug_mse_sign_flipped.py", "FAIL"),
                                              ("hostile_patched_norms.py", "FAIL")])
def test_mlp_autograder_end_to_end(zips, tmp_path, fixture, verdict):
    root = install(zips["mlp"], tmp_path / "autograder")
    shutil.copyfile(SUBS / "mlp" / fixture, root / "submission" / "mlp.py")
    d = run(root)
    assert d["output"].startswith(verdict), d["output"][:200]
    total = sum(t["max_score"] for t in d["tests"])
    assert total == 35
    if verdict == "PASS":
        assert d["score"] == 35 and all(t["status"] == "passed" for t in d["tests"])
    else:
        assert d["score"] < 35 and any(t["status"] == "failed" for t in d["tests"])


def test_hostile_submission_in_fallback_isolation(zips, tmp_path):
    """Gradescope's container may refuse user namespaces: process isolation, still a valid result."""
    root = install(zips["mlp"], tmp_path / "autograder")
    shutil.copyfile(SUBS / "mlp" / "hostile_forge_fds.py", root / "submission" / "mlp.py")
    d = run(root, BACKPROP_SANDBOX="off")
    assert d["score"] == 0 and d["output"].startswith("ERROR") and "malformed" in d["output"]


def test_gd_autograder_end_to_end(zips, tmp_path):
    root = install(zips["gd"], tmp_path / "autograder")
    folder = root / "submission" / "my_hw"          # uploaded inside a folder: found one level down
    folder.mkdir()
    shutil.copyfile(SUBS / "gd" / "gd_good.py", folder / "gd.py")
    d = run(root, timeout=500)
    assert d["output"].startswith("PASS") and d["score"] >= 15


def test_no_file_to_check_still_gives_a_result(zips, tmp_path):
    root = install(zips["mlp"], tmp_path / "autograder")
    (root / "submission" / "notes.txt").write_text("oops")
    d = run(root)
    assert d["score"] == 0 and "No mlp.py in your submission" in d["output"] and "notes.txt" in d["output"]
    assert d["tests"][0]["max_score"] == 35


def test_checker_that_crashes_or_runs_out_of_time_still_gives_a_result(zips, tmp_path):
    root = install(zips["mlp"], tmp_path / "crash")
    shutil.copyfile(SUBS / "mlp" / "good_functional.py", root / "submission" / "mlp.py")
    # the checker cannot even start (a broken copy, not a missing one: a missing package could be
    # found elsewhere, e.g. through this repository's own editable install)
    (root / "source" / "grading" / "cli.py").write_text("raise RuntimeError('broken checker')\n")
    d = run(root)
    assert d["score"] == 0 and "The checker failed (exit status 1)" in d["output"]

    root = install(zips["mlp"], tmp_path / "slow")
    shutil.copyfile(SUBS / "mlp" / "hostile_hang.py", root / "submission" / "mlp.py")
    d = run(root, BACKPROP_AUTOGRADER_TIMEOUT="2")
    assert d["score"] == 0 and "ran out of time (2 s)" in d["output"]
