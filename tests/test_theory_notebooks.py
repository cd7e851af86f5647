"""The theory notebooks 01–05: stored sources match their builder, every homework
question has its own heading, the stored outputs come from a clean top-to-bottom
run; plus the small printing helpers in lab/theory.py and the notebook benchmark's
argument checks. (The notebooks' own checks run under nbval: pytest notebooks/.)
"""
import importlib.util
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from lab.theory import fmt, show

ROOT = Path(__file__).resolve().parent.parent


def _load(relpath, name):
    spec = importlib.util.spec_from_file_location(name, ROOT / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = _load("tools/build_theory_notebooks.py", "build_theory_notebooks")
KEYS = sorted(builder.BUILDERS)


def _stored(key):
    stem, _ = builder.BUILDERS[key]
    return nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)


def test_builder_covers_01_to_05():
    assert KEYS == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("key", KEYS)
def test_stored_notebook_matches_builder(key):
    """Edit the builder, not the .ipynb: the stored cells must be exactly what the builder writes."""
    built = builder.BUILDERS[key][1]()
    stored = _stored(key).cells
    assert [c.cell_type for c in stored] == [c.cell_type for c in built]
    for i, (s, b) in enumerate(zip(stored, built)):
        assert s.source == b.source, f"cell {i} differs: run python3 tools/build_theory_notebooks.py {key} and re-execute"
        assert s.metadata.get("tags", []) == b.metadata.get("tags", []), f"cell {i}: tags differ"


@pytest.mark.parametrize("key", KEYS)
def test_stored_outputs_are_from_a_clean_run(key):
    code = [c for c in _stored(key).cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "not a fresh top-to-bottom run"
    for c in code:
        assert not any(o.output_type == "error" for o in c.outputs), c.source[:80]
    assert code[0].source.startswith("import sys, pathlib; sys.path.insert(0, str(pathlib.Path.cwd().resolve().parent))")


def test_every_homework_question_has_its_own_heading():
    headings = []
    for key in KEYS:
        for cell in _stored(key).cells:
            if cell.cell_type == "markdown":
                headings += re.findall(r"^## (1\.\d\(\w\))", cell.source, flags=re.M)
    expected = ([f"1.2({c})" for c in "abcd"] + [f"1.3({c})" for c in "abc"] + [f"1.4({c})" for c in "123"]
                + [f"1.5({c})" for c in "abcde"])
    assert sorted(headings) == sorted(expected)


def test_ignored_cells_say_why():
    for key in KEYS:
        for cell in _stored(key).cells:
            if "nbval-ignore-output" in cell.metadata.get("tags", []):
                assert cell.source.startswith("# nbval-ignore-output"), "an ignored cell must explain why"


def test_fmt_rounds_and_never_prints_negative_zero():
    assert fmt(torch.tensor([-1e-17, 0.123456, -2.0])) == "[ 0.0000   0.1235  -2.0000]"
    assert "-0.0" not in fmt(np.array([[-1e-9, 1e-9]]), 3)
    assert fmt(torch.tensor(-1e-20)) == "0.0000"
    assert fmt(2.5, 1) == "2.5"


@pytest.mark.parametrize("digits", [-1, 13, 2.0, True])
def test_fmt_rejects_bad_digits(digits):
    with pytest.raises(ValueError, match="digits must be an int from 0 to 12"):
        fmt(torch.zeros(2), digits)


def test_show_prints_name_shape_and_values(capsys):
    show("v", torch.tensor([1.0, -0.0]), 2)
    assert capsys.readouterr().out == "v  shape (2,): [1.00  0.00]\n"


def test_bench_notebooks_rejects_a_missing_file(tmp_path, capsys):
    bench = _load("benchmarks/bench_notebooks.py", "bench_notebooks")
    with pytest.raises(SystemExit):
        bench.main([str(tmp_path / "nope.ipynb")])
    assert "not an existing .ipynb file" in capsys.readouterr().err
