"""grading/rubric.py: the default follows the homework; a bad rubric file is a one-line error."""
import pytest

from grading import rubric


def test_the_default_follows_the_homework():
    mlp = rubric.load("mlp")
    assert mlp.max_score == 35                                   # part 2.1
    assert any(g.rule == "autograd" for g in mlp.groups)
    rows = [dict(f=f, g=g, loss=loss, shape=s) for s in rubric.ROW_KEYS["shape"] for f in rubric.ROW_KEYS["f"]
            for g in rubric.ROW_KEYS["g"] for loss in (("mse", "bce") if g == "sigmoid" else ("mse",))]
    assert len(rows) == 36
    for row in rows:                                             # every core row counts in exactly one group
        assert sum(g.selects(row) for g in mlp.groups if not g.rule) == 1, row
    gd = rubric.load("gd")
    assert gd.max_score == 15                                    # part 2.2; the 5 extra points on top
    assert [(g.measure, g.points, g.extra_credit) for g in gd.groups] == [("raised", 15, False), ("judge", 5, True)]


def _write(tmp_path, text):
    p = tmp_path / "r.toml"
    p.write_text(text)
    return p


GROUP = '[[mlp.group]]\nname = "all"\npoints = 10\n'


@pytest.mark.parametrize("text,message", [
    ("[mlp\n", "not valid TOML"),
    ("[gd]\n[[gd.group]]\nname='x'\npoints=1\nmeasure='raised'\n", "no [mlp] section"),
    ("[mlp]\n[nope]\n", "unknown section(s) nope"),
    ("[mlp]\ntitle = 'x'\n", "needs at least one [[mlp.group]]"),
    (GROUP.replace("10", "-2"), "points must be ≥ 0, got -2"),
    (GROUP.replace("10", "'ten'"), "points must be a number"),
    (GROUP + "colour = 'red'\n", "unknown key(s) colour"),
    (GROUP + "f = ['tanh']\n", "unknown f 'tanh'; the battery has: relu, sigmoid, identity"),
    (GROUP + "shape = '10x2-20-5'\n", "shape must be a non-empty list"),
    (GROUP + "rule = 'no_numpy'\n", "unknown rule 'no_numpy'"),
    (GROUP + GROUP, "group name(s) used twice: all"),
    (GROUP.replace("10", "0"), "worth 0 points in all"),
    (GROUP + "loss = ['bce']\ng = ['relu']\n", "BCE rows exist only for g = sigmoid"),
])
def test_bad_rubrics_say_what_is_wrong(tmp_path, text, message):
    with pytest.raises(rubric.RubricError) as info:
        rubric.load("mlp", _write(tmp_path, text))
    assert message in str(info.value) and str(tmp_path) in str(info.value)


def test_gd_groups_need_a_known_measure(tmp_path):
    p = _write(tmp_path, "[gd]\n[[gd.group]]\nname = 'x'\npoints = 3\nmeasure = 'beauty'\n")
    with pytest.raises(rubric.RubricError, match="measure must be one of raised, judge"):
        rubric.load("gd", p)


def test_a_missing_file(tmp_path):
    with pytest.raises(rubric.RubricError, match="no such file"):
        rubric.load("mlp", tmp_path / "nope.toml")


def test_a_custom_rubric_changes_the_points(tmp_path):
    r = rubric.load("mlp", _write(tmp_path, GROUP + "[[mlp.group]]\nname = 'rule'\nrule = 'autograd'\npoints = 5\n"))
    assert r.max_score == 15 and [g.name for g in r.groups] == ["all", "rule"]
