"""The gd.py checker (lab/gdcheck.py) on student-style gd.py files written for these tests
(tests/submissions/gd/, none needs torchvision except the one that shows the install hint).
One checker run over all of them, on two labels (--labels exists to shorten runs; the default is
the course's ten), with a short time limit, from a TA folder holding a sentinel file."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab import gdcheck

ROOT = Path(__file__).resolve().parent.parent
SUBS = ROOT / "tests" / "submissions" / "gd"
TIMEOUT = 8


@pytest.fixture(scope="module")
def gd_run(tmp_path_factory):
    ta = tmp_path_factory.mktemp("ta")
    (ta / "sentinel.txt").write_text("the TA's file\n")
    proc = subprocess.run([sys.executable, "-m", "lab.gdcheck", str(SUBS), "--labels", "0,3", "--timeout", str(TIMEOUT),
                           "--json", str(ta / "gd.json")], cwd=ta, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    data = json.loads((ta / "gd.json").read_text())
    return dict(proc=proc, ta=ta, reports={Path(r["path"]).name: r for r in data["submissions"]}, data=data)


def test_a_good_submission_passes_with_its_numbers(gd_run):
    rep = gd_run["reports"]["gd_good.py"]
    assert rep["verdict"] == "PASS", rep["reason"]
    assert [r["label"] for r in rep["labels"]] == [0, 3]
    for r in rep["labels"]:
        assert r["p_course"] > r["p_start"] and r["raised"]
        assert 0 <= r["p_normalized"] <= 1 and r["seconds"] > 0
        assert r["judge"] in range(-1, 10)
    assert rep["summary"]["raised"] == 2 and rep["summary"]["seconds_per_label"] > 0


def test_leaving_eval_mode_on_is_a_note_not_a_failure(gd_run):
    rep = gd_run["reports"]["gd_eval_left_on.py"]
    assert rep["verdict"] == "PASS"
    assert any("left the model in eval mode (it was in training mode)" in n for n in rep["notes"])


def test_optimizing_the_weights_is_flagged(gd_run):
    rep = gd_run["reports"]["gd_optimizes_weights.py"]
    assert rep["verdict"] == "FAIL"
    assert "changed the model's weights/buffers" in rep["reason"] and "model.parameters()" in rep["reason"]


def test_a_submission_that_never_returns_is_stopped(gd_run):
    rep = gd_run["reports"]["gd_never_returns.py"]
    assert rep["verdict"] == "FAIL"
    assert rep["reason"].startswith(f"time limit of {TIMEOUT} s exceeded (during gradient_descent, label 0)")
    assert "(0 of 2 labels done)" in rep["reason"]
    assert rep["seconds"] <= TIMEOUT + 1.5


def test_needing_cuda_at_import_is_named(gd_run):
    rep = gd_run["reports"]["gd_needs_cuda.py"]
    assert rep["verdict"] == "ERROR" and rep["reason"].startswith("cannot load: needs CUDA (")
    assert "torch.cuda.is_available()" in rep["reason"]


def test_nan_results_are_flagged(gd_run):
    rep = gd_run["reports"]["gd_returns_nan.py"]
    assert rep["verdict"] == "FAIL" and "returned NaN/inf" in rep["reason"]


def test_descending_the_logit_fails(gd_run):
    rep = gd_run["reports"]["gd_descends.py"]
    assert rep["verdict"] == "FAIL"
    assert rep["reason"] == "did not raise the target's probability for label(s) 0, 3"
    assert all(r["p_course"] < r["p_start"] for r in rep["labels"])


def test_torchvision_missing_says_how_to_install(gd_run):
    rep = gd_run["reports"]["gd_torchvision.py"]
    assert rep["verdict"] == "ERROR"
    assert "needs torchvision" in rep["reason"] and "pip install torchvision" in rep["reason"]


def test_batch_output_exit_code_and_the_ta_folder(gd_run):
    proc = gd_run["proc"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("PASS ", "FAIL ", "ERROR"))]
    assert len(lines) == len(list(SUBS.glob("*.py"))) == len(gd_run["reports"])
    assert "totals: 8 submission(s) — 2 PASS, 4 FAIL, 2 ERROR" in proc.stdout
    assert sorted(p.name for p in gd_run["ta"].iterdir()) == ["gd.json", "sentinel.txt"]
    assert (gd_run["ta"] / "sentinel.txt").read_text() == "the TA's file\n"
    assert "Traceback" not in proc.stdout


def test_labels_option():
    assert gdcheck.parse_labels("0-9") == list(range(10))
    assert gdcheck.parse_labels("1, 4,7") == [1, 4, 7]
    with pytest.raises(ValueError, match="digits 0-9"):
        gdcheck.parse_labels("10")
