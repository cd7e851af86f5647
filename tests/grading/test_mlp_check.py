"""The TA checker on student-style submissions (tests/submissions/mlp/, written for these tests):
correct ones in several styles PASS, each catalogued mistake FAILs with its diagnosis named, and
hostile ones end with a one-line reason inside the time limit while the TA's files survive.
Each group is one checker run over many submissions (as a TA would run it), to keep this fast."""
import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lab import mistakes, selfcheck

ROOT = Path(__file__).resolve().parent.parent
SUBS = ROOT / "tests" / "submissions" / "mlp"

GOOD = ["good_bias_row.py", "good_einsum.py", "good_batch_loops.py", "good_jacobians.py", "good_textbook_bce.py",
        "good_functional.py", "good_float64.py", "good_base_style.py"]
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


def test_the_catalogue_code_mistakes_all_have_a_submission():
    # every mistake the catalogue has seen in student code is played by a submission here
    code = {k for k, m in mistakes.CATALOGUE.items() if "student code" in m.seen}
    assert code <= set(BUGS.values()), sorted(code - set(BUGS.values()))


def run_checker(args, cwd, timeout=240):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "mlp.py"), "--check", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    return proc, time.perf_counter() - t0


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    """A class folder as a TA gets it: some students as files, some as subfolders with mlp.py, one empty."""
    cls = tmp_path_factory.mktemp("class")
    names = GOOD + sorted(BUGS)
    for i, name in enumerate(names):
        if i % 2:
            (cls / name.removesuffix(".py")).mkdir()
            shutil.copy(SUBS / name, cls / name.removesuffix(".py") / "mlp.py")
        else:
            shutil.copy(SUBS / name, cls / name)
    (cls / "no_submission").mkdir()
    out = tmp_path_factory.mktemp("out")
    proc, seconds = run_checker([cls, "--json", out / "r.json", "--csv", out / "r.csv"], cwd=out)
    data = json.loads((out / "r.json").read_text())
    by_name = {Path(r["path"]).name if Path(r["path"]).name != "mlp.py" else Path(r["path"]).parent.name + ".py": r
               for r in data["submissions"]}
    return dict(proc=proc, seconds=seconds, data=data, by_name=by_name, csv=out / "r.csv", n=len(names) + 1)


def test_correct_styles_pass(class_run):
    for name in GOOD:
        rep = class_run["by_name"][name]
        assert rep["verdict"] == "PASS", (name, rep["reason"], rep["diagnoses"])
        assert rep["core_passed"] == rep["core_total"] == 36


def test_clamp_free_bce_is_a_warning_not_a_failure(class_run):
    rep = class_run["by_name"]["good_textbook_bce.py"]
    assert rep["verdict"] == "PASS"
    assert len(rep["warnings"]) == 1 and "inf/nan" in rep["warnings"][0] and "clamps each log at −100" in rep["warnings"][0]
    sat = [r for r in rep["rows"] if r["kind"] == "saturated"]
    assert len(sat) == 1 and not selfcheck.row_passed(sat[0])        # it really differs there
    assert "WARNING" not in json.dumps(class_run["by_name"]["good_functional.py"]["warnings"])  # F.bce clamps


def test_a_shape_the_course_broadcasts_is_a_warning_and_a_column_is_a_failure(class_run):
    row = class_run["by_name"]["good_bias_row.py"]
    assert row["verdict"] == "PASS"
    assert any(w.startswith("shapes differ from PyTorch's .grad (dJdb1 expected (20,), got (1, 20)")
               for w in row["warnings"]), row["warnings"]
    col = class_run["by_name"]["bug_bias_keepdim.py"]
    assert col["verdict"] == "FAIL"        # (h, 1) broadcasts to h × h: the course fails it too


@pytest.mark.parametrize("name,key", sorted(BUGS.items()))
def test_each_catalogued_mistake_fails_with_its_diagnosis(class_run, name, key):
    rep = class_run["by_name"][name]
    assert rep["verdict"] == "FAIL", rep
    top = [d["key"] for d in rep["diagnoses"] if d["key"] != "follows"]
    assert top and top[0] == key, (name, rep["diagnoses"][:3])
    line = next(ln for ln in class_run["proc"].stdout.splitlines() if name.removesuffix(".py") in ln)
    assert line.startswith("FAIL") and f"[{key}," in line


def test_the_summed_dJdy_hat_message(class_run):
    rep = class_run["by_name"]["bug_dJdy_hat_summed.py"]
    assert rep["diagnoses"][0]["text"] == ("dJdy_hat is N·K × the reference: you return the summed gradient; your "
                                           "parameter gradients are still right because backward divides later")
    rows = [r for r in rep["rows"] if r["kind"] == "core"]
    assert all(r["cells"][q]["ok"] for r in rows for q in ("dJdW1", "dJdb1", "dJdW2", "dJdb2"))


def test_batch_output_totals_exit_code_and_reports(class_run):
    proc = class_run["proc"]
    assert proc.returncode == 1                              # not every submission passes
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("rule: a quantity passes")
    assert sum(ln.startswith(("PASS ", "FAIL ", "ERROR")) for ln in lines) == class_run["n"]
    assert f"totals: {class_run['n']} submission(s) — {len(GOOD)} PASS, {len(BUGS)} FAIL, 1 ERROR" in proc.stdout
    assert "no mlp.py in" in proc.stdout                    # the empty student folder
    assert "Traceback" not in proc.stdout + proc.stderr
    with open(class_run["csv"]) as fh:
        rows = list(csv.DictReader(fh))
    # 41 rows (36 core, 4 extras, the saturated one) per checked submission, one for the empty folder
    assert len(rows) == (len(GOOD) + len(BUGS)) * 41 + 1
    summed = [r for r in rows if "bug_dJdy_hat_summed" in r["path"] and r["kind"] == "core"]
    assert len(summed) == 36 and all(r["dJdy_hat"].startswith("FAIL") for r in summed)
    # per row the factor is named as it shows on that row's sizes (N = 1: K×, K = 1: N×)
    expect = {"10x2-20-5": "N·K ×", "1x4-6-3": "K ×", "8x3-5-1": "N ×"}
    assert all(r["diagnoses"].startswith(f"dJdy_hat is {expect[r['shape']]}") for r in summed)
    assert class_run["data"]["rule"] == selfcheck.RULE


def test_single_file_keeps_the_full_table_with_diagnosis_and_legend(tmp_path):
    proc, _ = run_checker([SUBS / "bug_relu_derivative_missing.py"], cwd=tmp_path)
    assert proc.returncode == 1
    out = proc.stdout
    for text in ("core (decides the verdict", "extras (", "columns: f, g", "cells: ok = passed",
                 "=> dJdW1: the activation's derivative is missing (f = relu", "diagnosis (likely mistakes",
                 "summary: FAIL — core 18/36 rows"):
        assert text in out, text


def test_the_number_shown_is_the_number_tested():
    ref = torch.tensor([3.0, 4.0])                       # norm 5 > 1: relative
    cell = selfcheck.tested_error(torch.tensor([3.0, 4.02]), ref)
    assert cell["relative"] and cell["value"] == pytest.approx(0.02 / 5) and not cell["ok"]
    row = dict(cells={"y_hat": cell}, error=None)
    shown = selfcheck._cell("y_hat", row)
    assert shown == f"FAIL {0.02 / 5:.1e}r"
    small = torch.tensor([0.3, 0.4])                     # norm 0.5 ≤ 1: absolute
    cell = selfcheck.tested_error(small + torch.tensor([0.0, 2e-3]), small)
    assert not cell["relative"] and cell["value"] == pytest.approx(2e-3, rel=1e-4) and not cell["ok"]
    assert selfcheck._cell("y_hat", dict(cells={"y_hat": cell}, error=None)) == "FAIL 2.0e-03"
    # a large reference with a tiny relative error passes (it failed under the old absolute rule)
    big = torch.full((50,), 400.0)
    assert selfcheck.tested_error(big * (1 + 1e-6), big)["ok"]
    assert not selfcheck.tested_error(big * (1 + 1e-2), big)["ok"]


HOSTILE = {
    "hostile_hang.py": "time limit of 5 s exceeded (during forward(x)",
    "hostile_os_exit.py": "the process ended (exit status 0) (during import) before the checker could report",
    "hostile_sys_exit.py": "cannot load: sys.exit(0) called while importing",
    "hostile_syntax.py": "cannot load: SyntaxError: expected ':'",
    "hostile_print_flood.py": "output flood: it printed or wrote more than 8.0 MiB",
    "hostile_huge_alloc.py": "cannot load: out of memory: it asked for 16.0 GiB at once — over the memory limit of 2048 MiB",
}


def test_hostile_submissions_get_a_reason_and_the_ta_files_survive(tmp_path):
    subs, ta = tmp_path / "subs", tmp_path / "ta"
    subs.mkdir()
    ta.mkdir()
    for name in list(HOSTILE) + ["hostile_files.py"]:
        shutil.copy(SUBS / name, subs / name)
    for folder in (subs, ta):
        (folder / "sentinel.txt").write_text("the TA's file\n")
    before_subs = sorted(p.name for p in subs.iterdir())
    proc, seconds = run_checker([subs, "--timeout", "5", "--json", ta / "r.json"], cwd=ta)
    reports = {Path(r["path"]).name: r for r in json.loads((ta / "r.json").read_text())["submissions"]}
    assert proc.returncode == 1
    for name, reason in HOSTILE.items():
        rep = reports[name]
        assert rep["verdict"] in ("ERROR", "FAIL") and reason in rep["reason"], (name, rep["reason"])
        assert "\n" not in rep["reason"]
        assert rep["seconds"] <= 5 + 1.5, (name, rep["seconds"])
        line = next(ln for ln in proc.stdout.splitlines() if name in ln)
        assert reason in line
    files = reports["hostile_files.py"]
    assert files["verdict"] == "PASS"                       # a correct submission with side effects
    assert any("wrote 2 file(s)" in n and "debug_log.txt" in n for n in files["notes"])
    assert any("deleted files in its working directory" in n for n in files["notes"])
    # nothing in the TA's folder or the submissions' folder changed
    assert (ta / "sentinel.txt").read_text() == "the TA's file\n"
    assert (subs / "sentinel.txt").read_text() == "the TA's file\n"
    assert sorted(p.name for p in ta.iterdir()) == ["r.json", "sentinel.txt"]
    assert sorted(p.name for p in subs.iterdir()) == before_subs          # no __pycache__, nothing deleted
    assert "#####" not in proc.stdout                                      # the flood stays captured
    assert seconds < 60


def test_what_a_submission_printed_is_shown_on_request_only(tmp_path):
    sub = SUBS / "hostile_sys_exit.py"            # prints a line at import, then calls sys.exit(0)
    quiet, _ = run_checker([sub], cwd=tmp_path)
    loud, _ = run_checker([sub, "--show-output"], cwd=tmp_path)
    assert "--- its stdout ---" not in quiet.stdout and "(--show-output prints what it printed)" in quiet.stdout
    assert "--- its stdout ---\nmy tests pass!" in loud.stdout
