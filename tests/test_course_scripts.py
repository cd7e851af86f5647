"""Run each course-style script the way the course's graders do: mlp.py beside it, `python script.py`.

The scripts live in tests/course_style/ (their names do not start with test_, so pytest does not
collect them itself). Each must exit 0 and print at least one line, every line exactly "True".
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "tests" / "course_style").glob("course_*.py"))


def test_there_are_course_scripts():
    assert len(SCRIPTS) >= 3, f"expected 3-4 course-style scripts, found {[s.name for s in SCRIPTS]}"


def run_script(script, tmp_path, mlp_source=ROOT / "mlp.py"):
    shutil.copy(mlp_source, tmp_path / "mlp.py")
    shutil.copy(script, tmp_path / script.name)
    return subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_course_script_prints_only_true(script, tmp_path):
    proc = run_script(script, tmp_path)
    assert proc.returncode == 0, f"{script.name} exited {proc.returncode}:\n{proc.stderr}"
    lines = proc.stdout.splitlines()
    assert lines, f"{script.name} printed nothing"
    bad = [(i + 1, line) for i, line in enumerate(lines) if line != "True"]
    assert not bad, f"{script.name}: lines that are not 'True': {bad}"


def test_course_script_catches_a_wrong_gradient(tmp_path):
    """The scripts can fail: with the ReLU mask dropped from mlp.py, some line prints False."""
    source = (ROOT / "mlp.py").read_text()
    good = "    return dJda * (z > 0)"
    assert source.count(good) == 1, "relu_backward's line changed; update this test"
    broken = tmp_path / "broken_mlp.py"
    broken.write_text(source.replace(good, "    return dJda"))
    script = ROOT / "tests" / "course_style" / "course_relu_identity_mse.py"
    proc = run_script(script, tmp_path, mlp_source=broken)
    assert proc.returncode == 0, proc.stderr
    assert "False" in proc.stdout.splitlines()
