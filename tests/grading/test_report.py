"""grading/report.py: one report type for both checkers (summary, to_dict, the crashed form)."""
import json
import math

from grading.report import ClassReport, SubmissionReport, plain_json


def test_the_crashed_form_is_an_error_with_zero_points():
    groups = [dict(name="a", score=0.0, max_score=5.0, extra_credit=False, output="")]
    rep = SubmissionReport.crashed("s/mlp.py", "mlp", "cannot load: SyntaxError: expected ':'", groups=groups,
                                   max_score=5.0)
    assert rep.verdict == "ERROR" and rep.exit == 2 and rep.score == 0
    assert rep.groups[0]["output"] == "cannot load: SyntaxError: expected ':'"
    line = rep.summary()
    assert line.split()[:3] == ["ERROR", "0/5", "s/mlp.py"] and "SyntaxError" in line


def test_to_dict_keeps_the_old_shape_and_is_plain_json():
    rep = SubmissionReport(path="x.py", kind="mlp", verdict="FAIL", score=17.5, max_score=35, flags=["uses autograd"],
                           cases=[dict(value=float("nan"))], details=dict(core_passed=3, core_total=36, rows=[]),
                           headline="core 3/36 rows")
    d = rep.to_dict()
    assert d["headline"] == "core 3/36 rows"
    assert d["path"] == "x.py" and d["verdict"] == "FAIL" and d["exit"] == 1
    assert d["score"] == 17.5 and d["flags"] == ["uses autograd"] and d["core_total"] == 36
    assert d["cases"][0]["value"] == "nan"
    json.dumps(d, allow_nan=False)
    assert "flag: uses autograd" in rep.summary()


def test_class_totals():
    reps = [SubmissionReport(path=f"{i}.py", kind="gd", verdict=v, score=s, max_score=15)
            for i, (v, s) in enumerate([("PASS", 15), ("FAIL", 6), ("ERROR", 0)])]
    cls = ClassReport(kind="gd", submissions=reps, wall_s=3.0, jobs=2)
    assert cls.summary().startswith("totals: 3 submission(s) — 1 PASS, 1 FAIL, 1 ERROR")
    assert "mean score 7/15" in cls.summary() and cls.exit_code() == 1
    d = cls.to_dict()
    assert [s["verdict"] for s in d["submissions"]] == ["PASS", "FAIL", "ERROR"] and d["totals"]["PASS"] == 1
    assert ClassReport(kind="gd", submissions=reps[:1]).exit_code() == 0


def test_plain_json():
    assert plain_json({"a": [math.inf, -math.inf, 1.0]}) == {"a": ["inf", "-inf", 1.0]}
