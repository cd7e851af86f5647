"""The verdict is decided in the grader from raw values: whatever the child sends is read strictly
(anything malformed is an ERROR that says so), a case over its budget fails only itself, and the
gd image is scored on the grader's own model. The child side is played by the in-process stand-in
(tests/grading/standin_pool.py) with a ``tamper`` hook, so a forged message is easy to write."""
import copy
from pathlib import Path

import pytest
import torch

from grading import gd_check, mlp_check, rubric, runner, wire
from standin_pool import CaseRun, StandInPool, SubmissionRun

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "tests" / "submissions" / "mlp" / "good_base_style.py"
PLAN = mlp_check.build_cases()
RUBRIC = rubric.load("mlp")


def _check(path, tamper=None):
    factory = lambda task, **kw: StandInPool(task, tamper=tamper, **kw)   # noqa: E731
    return runner.run_class(mlp_check, [str(path)], PLAN, RUBRIC, pool_factory=factory, progress=False).submissions[0]


def test_the_untampered_run_passes():
    rep = _check(GOOD)
    assert rep.verdict == "PASS" and rep.score == 35


@pytest.mark.parametrize("tamper,reason", [
    (lambda p: {**p, "verdict": "PASS"}, "malformed: payload: unknown key(s) verdict"),
    (lambda p: {"runs": {**p["runs"], "float16": p["runs"]["float32"]}}, "malformed: payload.runs: unknown key(s) float16"),
    (lambda p: _set(p, ["runs", "float32", "autograd", "calls"], "none"), "runs.float32.autograd.calls: expected an integer"),
    (lambda p: _set(p, ["runs", "float32", "values", "J", "shape"], [3]), "runs.float32.values.J: b64 holds 4 bytes"),
    (lambda p: _set(p, ["runs", "float32", "values", "y_hat", "dtype"], "object"), "dtype 'object' is not allowed"),
    (lambda p: _set(p, ["runs", "float32", "stage"], "x" * 5000), "runs.float32.stage: string of 5000 characters"),
    (lambda p: "PASS", "malformed: payload: expected an object, got str"),
])
def test_a_forged_or_broken_message_is_an_error_that_says_so(tamper, reason):
    rep = _check(GOOD, tamper=lambda case_id, p: tamper(p) if case_id.startswith("core-05") else p)
    assert rep.verdict == "ERROR" and rep.score == 0
    assert rep.reason.startswith("malformed") and reason in rep.reason, rep.reason


def _set(payload, keys, value):
    p = copy.deepcopy(payload)
    d = p
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value
    return p


def test_forged_values_are_graded_as_answers():
    # a child can only lie about its own outputs, which is what it is graded on: a J of 0 fails J
    def zero_j(case_id, p):
        p = copy.deepcopy(p)
        p["runs"]["float32"]["values"]["J"] = wire.encode(torch.tensor(0.0))
        p["runs"].pop("float64", None)
        return p
    rep = _check(GOOD, tamper=zero_j)
    assert rep.verdict == "FAIL" and rep.details["core_passed"] == 0


def test_a_timeout_fails_only_its_case():
    with StandInPool("grading.tasks.mlp") as pool:
        [(_, run)] = list(pool.run([(str(GOOD), [c for _, c in PLAN])]))
    run.cases[3] = CaseRun(run.cases[3].id, "timeout", None, "case budget 10 s", 10.0)
    rep = mlp_check.judge(str(GOOD), run, PLAN, RUBRIC, source=GOOD.read_text())
    assert rep.verdict == "FAIL" and rep.details["core_passed"] == 35
    row = rep.details["rows"][3]
    assert row["status"] == "timeout" and row["error"] == "TIMEOUT: case budget 10 s"
    assert 0 < rep.score < 35 and "core 35/36 rows" in rep.summary()


def test_cannot_load_and_missing_api_are_errors():
    run = SubmissionRun(path="m.py", load="missing_module", load_error="No module named 'cv2'", missing_module="cv2")
    rep = mlp_check.judge("m.py", run, PLAN, RUBRIC)
    assert rep.verdict == "ERROR" and rep.reason == "cannot load: needs cv2, which is not installed here: pip install opencv-python"
    cases = [CaseRun(c["id"], "ok", {"api_missing": ["MLP"]}) for _, c in PLAN]
    rep = mlp_check.judge("m.py", SubmissionRun(path="m.py", cases=cases), PLAN, RUBRIC)
    assert rep.verdict == "ERROR" and rep.reason == "cannot load: m.py does not define MLP (the course's API)"


def test_gd_scores_the_image_on_the_graders_own_model():
    gd_check.prepare(224)
    plan = gd_check.build_cases([0, 3], 224)
    start = {lab: gd_check.course_start(lab).detach() for lab in (0, 3)}

    def payload(img, **over):
        p = dict(image=wire.encode(img), seconds=0.5, error=None, error_type=None, training_after=True, changed=[])
        p.update(over)
        return p
    # the child claims nothing changed and returns the start image: nothing raised, 0 points
    run = SubmissionRun(path="gd.py", cases=[CaseRun(f"label-{lab}", "ok", payload(start[lab])) for lab in (0, 3)])
    rep = gd_check.judge("gd.py", run, plan, rubric.load("gd"))
    assert rep.verdict == "FAIL" and rep.score == 0
    assert rep.reason == "did not raise the target's probability for label(s) 0, 3"
    assert all(r["p_course"] == pytest.approx(r["p_start"]) for r in rep.details["labels"])
    # weights changed in the child: flagged and failed, whatever the image
    run.cases[0] = CaseRun("label-0", "ok", payload(start[0], changed=["features.0.weight"]))
    rep = gd_check.judge("gd.py", run, plan, rubric.load("gd"))
    assert "changed the model's weights/buffers (features.0.weight)" in rep.reason
    # a malformed image is an error; a NaN image is a flag
    run.cases[1] = CaseRun("label-3", "ok", payload(start[3], verdict="PASS"))
    assert gd_check.judge("gd.py", run, plan, rubric.load("gd")).verdict == "ERROR"
    run.cases[1] = CaseRun("label-3", "ok", payload(torch.full((1, 3, 224, 224), float("nan"))))
    rep = gd_check.judge("gd.py", run, plan, rubric.load("gd"))
    assert "returned NaN/inf (150528 of 150528 values)" in rep.reason
