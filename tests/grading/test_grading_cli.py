"""grading/cli.py: `python -m grading mlp|gd ...`, its options and what it writes (Gradescope's
results.json among them)."""
import json
from pathlib import Path

import pytest

from grading import cli

ROOT = Path(__file__).resolve().parents[2]
SUBS = ROOT / "tests" / "submissions" / "mlp"


def test_a_kind_is_required(capsys):
    assert cli.main([]) == 2 and "usage: python -m grading {mlp,gd}" in capsys.readouterr().err
    assert cli.main(["lisp", "x.py"]) == 2


def test_a_bad_rubric_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "r.toml"
    bad.write_text("[mlp]\n[[mlp.group]]\nname = 'x'\npoints = -1\n")
    with pytest.raises(SystemExit) as info:
        cli.main(["mlp", str(SUBS / "good_base_style.py"), "--rubric", str(bad)])
    assert info.value.code == 2
    assert "--rubric:" in capsys.readouterr().err


def test_gradescope_needs_one_submission(tmp_path):
    with pytest.raises(SystemExit) as info:
        cli.main(["mlp", str(SUBS), "--gradescope", str(tmp_path / "results.json")])
    assert info.value.code == 2


def _gradescope(tmp_path, name, capsys):
    sub = tmp_path / "submission"
    sub.mkdir(parents=True)
    (sub / "mlp.py").write_text((SUBS / name).read_text())
    out = tmp_path / "results" / "results.json"
    code = cli.main(["mlp", str(sub), "--gradescope", str(out), "--no-progress"])
    capsys.readouterr()
    return code, json.loads(out.read_text())


def test_gradescope_results_for_a_correct_and_a_buggy_submission(tmp_path, capsys):
    code, res = _gradescope(tmp_path / "good", "good_base_style.py", capsys)
    assert code == 0
    assert set(res) >= {"score", "execution_time", "output", "tests"}
    assert res["score"] == 35 and res["output"].startswith("PASS — 35/35")
    assert len(res["tests"]) == 5 and all(t["status"] == "passed" and t["score"] == t["max_score"] for t in res["tests"])
    assert all(set(t) >= {"name", "score", "max_score", "status", "output", "visibility"} for t in res["tests"])
    code, res = _gradescope(tmp_path / "bug", "bug_bce_sign_flipped.py", capsys)
    assert code == 1 and res["score"] == 27
    bce = next(t for t in res["tests"] if t["name"].startswith("BCE"))
    assert bce["status"] == "failed" and bce["score"] == 0
    assert "the BCE derivative with its sign flipped" in bce["output"]          # the diagnosis in plain words
    assert sum(t["status"] == "passed" for t in res["tests"]) == 4


def test_gradescope_results_for_a_file_that_cannot_load(tmp_path, capsys):
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "mlp.py").write_text("def f(:\n")
    out = tmp_path / "results.json"
    assert cli.main(["mlp", str(sub), "--gradescope", str(out), "--no-progress"]) == 2
    res = json.loads(out.read_text())
    assert res["score"] == 0 and res["output"].startswith("ERROR — 0/35 — cannot load: SyntaxError")
    assert all(t["status"] == "failed" and t["score"] == 0 for t in res["tests"])


def test_what_a_class_folder_holds_instead_of_a_py_file_gets_a_row_that_says_so(tmp_path):
    # a notebook or a zip handed in, an empty folder, a folder of two .py files: each is a row with
    # its reason (never silently left out of the gradebook); a TA's csv beside them is not a student
    from grading.runner import find_submissions

    klass = tmp_path / "class"
    (klass / "dave").mkdir(parents=True)
    (klass / "dave" / "mlp.ipynb").write_text("{}")
    (klass / "frank").mkdir()
    (klass / "frank" / "a.py").write_text("")
    (klass / "frank" / "b.py").write_text("")
    (klass / "gina").mkdir()
    (klass / "jones_mlp.ipynb").write_text("{}")
    (klass / "lee.zip").write_bytes(b"PK")
    (klass / "grades.csv").write_text("a,b\n")
    (klass / "smith_mlp.py").write_text("")
    rows = {Path(label).name: problem for label, _, _, problem in find_submissions([klass], "mlp.py")}
    assert set(rows) == {"dave", "frank", "gina", "jones_mlp.ipynb", "lee.zip", "smith_mlp.py"}
    assert rows["smith_mlp.py"] is None
    assert "notebook mlp.ipynb" in rows["dave"] and "nbconvert" in rows["dave"]
    assert "2 .py files: a.py, b.py" in rows["frank"]
    assert "(it is empty)" in rows["gina"]
    assert "jones_mlp.ipynb is a notebook" in rows["jones_mlp.ipynb"]
    assert "zip archive" in rows["lee.zip"]
