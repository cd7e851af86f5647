"""The gd.py check (grading/gd_check.py) on student-style gd.py files written for these tests
(tests/submissions/gd/, none needs torchvision except the one that shows the install hint).
One checker run over all of them, on two labels (--labels exists to shorten runs; the default is
the course's ten), with a per-label budget, from a TA folder holding a sentinel file."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grading import gd_check

ROOT = Path(__file__).resolve().parents[2]
SUBS = ROOT / "tests" / "submissions" / "gd"
TIMEOUT = 30          # seconds per label (the machine is shared: generous; gd_never_returns uses all of it)


@pytest.fixture(scope="module")
def gd_run(tmp_path_factory):
    ta = tmp_path_factory.mktemp("ta")
    (ta / "sentinel.txt").write_text("the TA's file\n")
    cls = tmp_path_factory.mktemp("class")        # the gd_* files (the hostile ones: test_hostile.py)
    for f in SUBS.glob("gd_*.py"):
        shutil.copy(f, cls / f.name)
    proc = subprocess.run([sys.executable, str(ROOT / "gd.py"), "--check", str(cls), "--labels", "0,3",
                           "--case-timeout", str(TIMEOUT), "--json", str(ta / "gd.json"), "--gradebook",
                           str(ta / "gd.csv"), "--no-progress"], cwd=ta, capture_output=True, text=True, timeout=900,
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
    assert rep["score"] >= 15 == rep["max_score"]           # 15 for the labels raised, + extra credit by the judge
    assert rep["score"] == 15 + 5 * rep["summary"]["judge_reads_target"] / 2


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
    assert rep["reason"].startswith("TIMEOUT: ") and "[2 label(s)]" in rep["reason"]   # each label its own budget
    assert all(r["status"] == "timeout" for r in rep["labels"]) and rep["score"] == 0


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
    assert len(lines) == len(list(SUBS.glob("gd_*.py"))) == len(gd_run["reports"]) == 8
    assert "totals: 8 submission(s) — 2 PASS, 4 FAIL, 2 ERROR" in proc.stdout
    assert sorted(p.name for p in gd_run["ta"].iterdir()) == ["gd.csv", "gd.json", "sentinel.txt"]
    assert (gd_run["ta"] / "sentinel.txt").read_text() == "the TA's file\n"
    assert "Traceback" not in proc.stdout


def test_labels_option():
    assert gd_check.parse_labels("0-9") == list(range(10))
    assert gd_check.parse_labels("1, 4,7") == [1, 4, 7]
    with pytest.raises(ValueError, match="digits 0-9"):
        gd_check.parse_labels("10")


def test_the_same_submission_gets_the_same_picture_every_run(tmp_path):
    # jitter is random: a student's gradient_descent that draws from random, NumPy and torch must
    # give the same picture (so the same extra credit) on every run and in every order
    import importlib.util

    import torch

    from grading.tasks import gd as task

    src = tmp_path / "gd.py"
    src.write_text(
        "import random\nimport numpy as np\nimport torch\n\n"
        "def gradient_descent(input, model, loss, iterations=3):\n"
        "    img = input.detach().clone()\n"
        "    for _ in range(iterations):\n"
        "        img = img + 0.01 * torch.randn_like(img) + 0.01 * float(np.random.rand()) + 0.01 * random.random()\n"
        "    return img\n")
    spec = importlib.util.spec_from_file_location("student_gd_seeded", src)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first = [task.run_case(module, {"label": lab, "size": 32}) for lab in (0, 1)]
    again = [task.run_case(module, {"label": lab, "size": 32}) for lab in (1, 0)][::-1]
    for a, b in zip(first, again):
        assert a["error"] is None and a["image"] == b["image"]
    assert first[0]["image"] != first[1]["image"]   # seeded per label, not one fixed draw
    torch.seed()
