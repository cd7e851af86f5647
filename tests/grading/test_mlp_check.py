"""The mlp.py check on student-style submissions (tests/submissions/mlp/, written for these tests):
correct ones in several styles PASS with full points, each catalogued mistake FAILs with its
diagnosis named, the four styles that lose float32 precision near ŷ = 1 pass with a warning,
autograd inside mlp.py is a flag that costs the rule's points. One checker run over the class (as
a TA runs it) keeps this fast. Hostile submissions: tests/grading/test_hostile.py (sandbox)."""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grading import mlp_check, rubric
from lab import mistakes

ROOT = Path(__file__).resolve().parents[2]
SUBS = ROOT / "tests" / "submissions" / "mlp"

GOOD = ["good_bias_row.py", "good_einsum.py", "good_batch_loops.py", "good_jacobians.py", "good_textbook_bce.py",
        "good_functional.py", "good_float64.py", "good_base_style.py"]
# correct, but float32 loses 1 − ŷ near ŷ = 1: today's checker failed them (FAIL 1.8e-03 / 1.4e-03)
PRECISION = ["good_exp_derivative.py", "good_symmetric_sigmoid.py", "good_cosh_form.py", "good_logsigmoid.py"]
# submission -> the catalogue key its diagnosis must name
BUGS = {
    "bug_relu_derivative_missing.py": "activation_derivative_missing",
    "bug_sigmoid_derivative_at_output.py": "activation_derivative_of_output",
    "bug_output_activation_not_applied.py": "activation_not_applied",
    "bug_identity_not_handled.py": "activation_name_unhandled",
    "bug_dJdy_hat_summed.py": "factor_NK",
    "bug_mse_sum_over_batch.py": "factor_N",
    "bug_mse_sum_over_outputs.py": "factor_K",
    "bug_mse_missing_two.py": "factor_half",
    "bug_bce_gradient_doubled.py": "factor_2",
    "bug_divides_by_batch_again.py": "factor_1_over_N",
    "bug_averaged_twice.py": "factor_1_over_NK",
    "bug_half_mse.py": "loss_half_convention",
    "bug_mse_sign_flipped.py": "sign_flipped",
    "bug_bce_sign_flipped.py": "bce_sign_flipped",
    "bug_transposed_weight_grads.py": "transpose",
    "bug_bias_keepdim.py": "wrong_shape",
    "bug_bias_not_summed.py": "bias_grad_not_summed",
    "bug_inplace_dJdy_hat.py": "inputs_modified_in_place",
}
RULE = ["rule_autograd_inside.py"]


def test_the_catalogue_code_mistakes_all_have_a_submission():
    code = {k for k, m in mistakes.CATALOGUE.items() if "student code" in m.seen}
    assert code <= set(BUGS.values()), sorted(code - set(BUGS.values()))


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    """A class folder as a TA gets it: some students as files, some as subfolders with mlp.py, one empty."""
    cls = tmp_path_factory.mktemp("class")
    names = GOOD + PRECISION + RULE + sorted(BUGS)
    for i, name in enumerate(names):
        if i % 2:
            (cls / name.removesuffix(".py")).mkdir()
            shutil.copy(SUBS / name, cls / name.removesuffix(".py") / "mlp.py")
        else:
            shutil.copy(SUBS / name, cls / name)
    (cls / "no_submission").mkdir()
    out = tmp_path_factory.mktemp("out")
    proc = subprocess.run([sys.executable, str(ROOT / "mlp.py"), "--check", str(cls), "--json", str(out / "r.json"),
                           "--csv", str(out / "r.csv"), "--gradebook", str(out / "grades.csv"),
                           "--feedback", str(out / "feedback"), "--no-progress"],
                          cwd=out, capture_output=True, text=True, timeout=900)
    data = json.loads((out / "r.json").read_text())
    by_name = {Path(r["path"]).name if Path(r["path"]).name != "mlp.py" else Path(r["path"]).parent.name + ".py": r
               for r in data["submissions"]}
    return dict(proc=proc, data=data, by_name=by_name, out=out, n=len(names) + 1)


def test_correct_styles_pass_with_full_points(class_run):
    for name in GOOD + PRECISION:
        rep = class_run["by_name"][name]
        assert rep["verdict"] == "PASS", (name, rep["reason"], rep["diagnoses"])
        assert rep["core_passed"] == rep["core_total"] == 36
        assert rep["score"] == rep["max_score"] == 35 and rep["flags"] == []


def test_float32_saturation_passes_with_a_precision_warning(class_run):
    for name in PRECISION:
        rep = class_run["by_name"][name]
        [row] = [r for r in rep["rows"] if r["kind"] == "core" and any(c.get("precision") for c in r["cells"].values())]
        assert (row["f"], row["g"], row["loss"], row["shape"]) == ("identity", "sigmoid", "bce", "10x2-20-5")
        rescued = {q: c for q, c in row["cells"].items() if c.get("precision")}
        assert set(rescued) == {"dJdW1", "dJdb1", "dJdW2"}
        # the float32 error is over the limit (what today's checker failed) and float64 is exact
        assert all(c["value"] > 1e-3 and c["value64"] < 1e-9 for c in rescued.values())
        warning = next(w for w in rep["warnings"] if w.startswith("precision:"))
        assert "the course's float32 test script would print False" in warning
    # the criterion is unchanged elsewhere: no correct style needs the rescue on any other row
    for name in GOOD:
        assert not any(c.get("precision") for r in class_run["by_name"][name]["rows"] for c in r["cells"].values())


def test_autograd_inside_is_a_flag_that_costs_the_rule_points_only(class_run):
    rep = class_run["by_name"]["rule_autograd_inside.py"]
    assert rep["verdict"] == "PASS" and rep["core_passed"] == 36          # the numbers are right
    assert rep["flags"] == [mlp_check.autograd_flag(
        mlp_check.scan_autograd((SUBS / "rule_autograd_inside.py").read_text()), rep["rows"])]
    assert rep["flags"][0].startswith("uses autograd: line 36 `y_hat.backward(dJdy_hat)`")
    assert rep["flags"][0].endswith("— the homework forbids it")
    rule_group = next(g for g in rep["groups"] if "autograd" in g["name"])
    assert rule_group["score"] == 0 and rep["score"] == 35 - rule_group["max_score"]
    line = next(ln for ln in class_run["proc"].stdout.splitlines() if "rule_autograd_inside" in ln)
    assert "flag: uses autograd" in line


def test_clamp_free_bce_is_a_warning_not_a_failure(class_run):
    rep = class_run["by_name"]["good_textbook_bce.py"]
    assert rep["verdict"] == "PASS"
    assert len(rep["warnings"]) == 1 and "inf/nan" in rep["warnings"][0] and "clamps each log at −100" in rep["warnings"][0]
    sat = [r for r in rep["rows"] if r["kind"] == "saturated"]
    assert len(sat) == 1 and not mlp_check.row_passed(sat[0])
    assert class_run["by_name"]["good_functional.py"]["warnings"] == []        # F.binary_cross_entropy clamps


def test_a_shape_the_course_broadcasts_is_a_warning_and_a_column_is_a_failure(class_run):
    row = class_run["by_name"]["good_bias_row.py"]
    assert row["verdict"] == "PASS"
    assert any(w.startswith("shapes differ from PyTorch's .grad (dJdb1 expected (20,), got (1, 20)")
               for w in row["warnings"]), row["warnings"]
    assert class_run["by_name"]["bug_bias_keepdim.py"]["verdict"] == "FAIL"


@pytest.mark.parametrize("name,key", sorted(BUGS.items()))
def test_each_catalogued_mistake_fails_with_its_diagnosis(class_run, name, key):
    rep = class_run["by_name"][name]
    assert rep["verdict"] == "FAIL", rep["reason"]
    top = [d["key"] for d in rep["diagnoses"] if d["key"] != "follows"]
    assert top and top[0] == key, (name, rep["diagnoses"][:3])
    assert 0 <= rep["score"] < rep["max_score"] == 35
    line = next(ln for ln in class_run["proc"].stdout.splitlines() if name.removesuffix(".py") in ln)
    assert line.startswith("FAIL") and f"[{key}," in line


def test_partial_credit_follows_the_rows_passed(class_run):
    rep = class_run["by_name"]["bug_bce_sign_flipped.py"]        # every BCE row fails, nothing else
    groups = {g["name"].split(" (")[0]: g for g in rep["groups"]}
    assert groups["BCE, g = sigmoid"]["score"] == 0
    assert all(g["score"] == g["max_score"] for n, g in groups.items() if n != "BCE, g = sigmoid")
    assert rep["score"] == 35 - 8
    relu = class_run["by_name"]["bug_relu_derivative_missing.py"]   # 18 of 36 rows pass
    assert relu["core_passed"] == 18
    expected = sum(g.points * sum(mlp_check.row_passed(r) for r in relu["rows"] if r["kind"] == "core" and g.selects(r))
                   / 9 for g in rubric.load("mlp").groups if not g.rule) + 3
    assert relu["score"] == pytest.approx(expected)


def test_the_summed_dJdy_hat_message(class_run):
    rep = class_run["by_name"]["bug_dJdy_hat_summed.py"]
    assert rep["diagnoses"][0]["text"] == ("dJdy_hat is N·K × the reference: you return the summed gradient; your "
                                           "parameter gradients are still right because backward divides later")


def test_batch_output_totals_exit_code_and_the_files_written(class_run):
    proc = class_run["proc"]
    assert proc.returncode == 1, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("sandbox: ")
    assert lines[1].startswith("rule: ‖ours − autograd‖ < 1e-3")
    assert sum(ln.startswith(("PASS ", "FAIL ", "ERROR")) for ln in lines) == class_run["n"]
    n_pass = len(GOOD) + len(PRECISION) + len(RULE)
    assert f"totals: {class_run['n']} submission(s) — {n_pass} PASS, {len(BUGS)} FAIL, 1 ERROR" in proc.stdout
    assert "no mlp.py in" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    data = class_run["data"]
    assert data["rule"] == mlp_check.RULE_FULL and all({"path", "verdict", "score", "flags", "cases"} <= set(s)
                                                       for s in data["submissions"])
    with open(class_run["out"] / "r.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == (class_run["n"] - 1) * 41 + 1          # 36 core, 4 extras, 1 saturated; the empty folder
    summed = [r for r in rows if "bug_dJdy_hat_summed" in r["path"] and r["kind"] == "core"]
    expect = {"10x2-20-5": "N·K ×", "1x4-6-3": "K ×", "8x3-5-1": "N ×"}
    assert all(r["diagnoses"].startswith(f"dJdy_hat is {expect[r['shape']]}") for r in summed)
    with open(class_run["out"] / "grades.csv") as fh:
        grades = list(csv.DictReader(fh))
    assert [g["submission"] for g in grades] == [s["path"] for s in data["submissions"]]
    assert {g["verdict"] for g in grades} == {"PASS", "FAIL", "ERROR"}
    by = {Path(g["submission"]).name: g for g in grades}
    assert by["good_bias_row.py"]["score"] == "35.00" and by["good_bias_row.py"]["max"] == "35"
    assert by["good_bias_row.py"]["reason"] == ""                      # a FAIL says why, a PASS nothing
    assert "the ½·(ŷ − y)² convention" in by["bug_half_mse.py"]["reason"]
    feedback = sorted(p.name for p in (class_run["out"] / "feedback").iterdir())
    assert len(feedback) == class_run["n"] and "bug_half_mse.md" in feedback
    text = (class_run["out"] / "feedback" / "bug_half_mse.md").read_text()
    assert "**FAIL**" in text and "## What went wrong" in text and "the ½·(ŷ − y)² convention" in text
    assert "| MSE, g = identity" in text and "## Your results, case by case" in text


def test_single_file_report_reads_in_a_terminal(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "mlp.py"), "--check", str(SUBS / "bug_relu_derivative_missing.py"),
                           "--no-progress"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    out = proc.stdout
    lines = out.splitlines()
    assert lines[0].startswith("FAIL 19/35 points — ")                  # verdict and score first
    assert max(len(ln) for ln in lines) <= 100
    rule = [ln for ln in lines if ln.startswith("rule: ")]
    assert len(rule) == 1 and len(rule[0]) < 100 and "--explain" in rule[0]
    for text in ("core (decides the verdict", "extras (", "cells: ok", "=> dJdW1: the activation's derivative is missing",
                 "diagnosis (likely mistakes", "points:", "summary: FAIL 19/35 — core 18/36 rows"):
        assert text in out, text
    explained = subprocess.run([sys.executable, "-m", "grading", "mlp", str(SUBS / "good_base_style.py"), "--explain",
                                "--no-progress"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert explained.returncode == 0 and mlp_check.RULE_FULL in explained.stdout


def test_the_number_shown_is_the_number_tested():
    ref = torch.tensor([3.0, 4.0])                       # norm 5 > 1: relative
    cell = mlp_check.tested_error(torch.tensor([3.0, 4.02]), ref)
    assert cell["relative"] and cell["value"] == pytest.approx(0.02 / 5) and not cell["ok"]
    assert mlp_check.cell_text("y_hat", dict(cells={"y_hat": cell}, error=None)) == f"{0.02 / 5:.1e}r"
    small = torch.tensor([0.3, 0.4])                     # norm 0.5 ≤ 1: absolute
    cell = mlp_check.tested_error(small + torch.tensor([0.0, 2e-3]), small)
    assert not cell["relative"] and cell["value"] == pytest.approx(2e-3, rel=1e-4) and not cell["ok"]
    assert mlp_check.cell_text("y_hat", dict(cells={"y_hat": cell}, error=None)) == "2.0e-03"
    big = torch.full((50,), 400.0)
    assert mlp_check.tested_error(big * (1 + 1e-6), big)["ok"]
    assert not mlp_check.tested_error(big * (1 + 1e-2), big)["ok"]
