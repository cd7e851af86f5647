"""The notebooks as text: every notebooks/NN_name.ipynb is paired with its jupytext percent
source nbsrc/NN_name.py (the file contributors edit) and both hold the same cells; the
stored outputs come from a clean top-to-bottom run (nbval re-runs every cell and compares the
outputs: pytest notebooks/); every homework question of 01–05 has its own heading; plus the
small printing helpers in lab/theory.py and the notebook benchmark's argument checks.
"""
import importlib.util
import re
from pathlib import Path

import jupytext
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


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted((ROOT / "nbsrc").glob("[0-9][0-9]_*.py"))
FORMATS = "notebooks///ipynb,nbsrc///py:percent"    # as in jupytext.toml: the sources live in nbsrc/
THEORY = [p for p in NOTEBOOKS if p.name[:2] in {"01", "02", "03", "04", "05"}]
# Cell metadata that only records a run (jupytext leaves it out of the text source on purpose).
RUN_METADATA = {"execution", "ExecuteTime", "collapsed", "scrolled", "trusted", "autoscroll"}


def source_of(notebook):
    """The jupytext text source paired with notebooks/NAME.ipynb: nbsrc/NAME.py."""
    return ROOT / "nbsrc" / f"{notebook.stem}.py"


def test_the_sources_are_not_beside_the_notebooks():
    """JupyterLab's file browser shows notebooks/ with each notebook once, not twice (.ipynb and .py)."""
    assert not list((ROOT / "notebooks").glob("*.py"))
    assert f'formats = "{FORMATS}"' in (ROOT / "jupytext.toml").read_text()


def _stored(path):
    return nbformat.read(path, as_version=4)


def _ids(paths):
    return [p.stem for p in paths]


def test_notebooks_01_to_07_exist():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]
    assert [p.name[:2] for p in THEORY] == ["01", "02", "03", "04", "05"]


def test_every_notebook_has_its_percent_source_and_vice_versa():
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS], \
        "each notebooks/NN_name.ipynb needs its nbsrc/NN_name.py (tools/move_sources.sh sets up the pairing)"
    for path in NOTEBOOKS:
        formats = _stored(path).metadata.get("jupytext", {}).get("formats")
        assert formats == FORMATS, f"{path.name}: jupytext formats metadata is {formats!r}"
        header = source_of(path).read_text().split("# ---", 2)[1]
        assert "format_name: percent" in header, f"{path.stem}.py is not in the percent format"


def _cell_summary(cell):
    """What a reader or a tool sees in a cell: its type, its source and its metadata (tags, the
    collapsed/hidden state), without what only records a run."""
    meta = {k: v for k, v in cell.metadata.items() if k not in RUN_METADATA}
    return cell.cell_type, cell.source, meta


def pair_differences(py_path, ipynb_path):
    """The cells in which the text source and the stored notebook differ, as readable lines."""
    text = jupytext.read(py_path)
    stored = _stored(ipynb_path)
    problems = []
    if len(text.cells) != len(stored.cells):
        problems.append(f"{len(text.cells)} cells in {py_path.name}, {len(stored.cells)} in {ipynb_path.name}")
    for i, (t, s) in enumerate(zip(text.cells, stored.cells)):
        (t_type, t_src, t_meta), (s_type, s_src, s_meta) = _cell_summary(t), _cell_summary(s)
        if t_type != s_type:
            problems.append(f"cell {i}: {t_type} in the .py, {s_type} in the .ipynb")
        if t_src != s_src:
            problems.append(f"cell {i}: source differs (.py: {t_src[:60]!r}; .ipynb: {s_src[:60]!r})")
        if t_meta != s_meta:
            problems.append(f"cell {i}: metadata differs (.py: {t_meta}; .ipynb: {s_meta})")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_the_pair_holds_the_same_cells(path):
    """Edit the .py, then `make sync` and re-execute."""
    problems = pair_differences(source_of(path), path)
    assert not problems, (f"{path.stem}: .py and .ipynb out of sync; run "
                          f"make sync (jupytext --update --to ipynb --output notebooks/{path.stem}.ipynb "
                          f"nbsrc/{path.stem}.py), then execute:\n"
                          + "\n".join(problems))


def _without_version(text):
    return re.sub(r"^#\s+jupytext_version: .*\n", "", text, flags=re.M)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] <= "06"], ids=_ids([p for p in NOTEBOOKS if p.name[:2] <= "06"]))
def test_the_text_source_is_what_jupytext_writes(path):
    """The .py is byte for byte what jupytext writes from the .ipynb (cell metadata in its order too).
    Where jupytext's server extension pairs the two files, JupyterLab refuses to open a notebook whose
    .ipynb is newer than its .py and differs from it in any way ("File Load Error"), even in the
    order of two metadata keys: regenerate with `jupytext --to py:percent --output nbsrc/NN_name.py notebooks/NN_name.ipynb`."""
    written = jupytext.writes(jupytext.read(path), fmt="py:percent")
    assert _without_version(written) == _without_version(source_of(path).read_text()), \
        f"nbsrc/{path.stem}.py differs from what jupytext writes for {path.name}"


def test_the_sync_check_can_fail(tmp_path):
    """An edit of the text source that was not carried into the notebook is caught, cell by cell."""
    src = source_of(NOTEBOOKS[0])
    edited = tmp_path / src.name
    text = src.read_text()
    first_code = text.index("# %%\n")
    edited.write_text(text[:first_code] + "# %%\nx_changed = 1\n\n" + text[first_code:])
    problems = pair_differences(edited, NOTEBOOKS[0])
    assert problems and "cells in" in problems[0]
    retagged = tmp_path / ("t_" + src.name)
    retagged.write_text(text.replace("# %%\n", '# %% tags=["solution"]\n', 1))
    assert any("metadata differs" in p for p in pair_differences(retagged, NOTEBOOKS[0]))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_stored_outputs_are_from_a_clean_run(path):
    """Stored outputs come from one fresh top-to-bottom run (nbval re-runs every cell and compares)."""
    code = [c for c in _stored(path).cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "not a fresh top-to-bottom run"
    for c in code:
        assert not any(o.output_type == "error" for o in c.outputs), c.source[:80]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] <= "06"], ids=_ids([p for p in NOTEBOOKS if p.name[:2] <= "06"]))
def test_notebooks_import_the_installed_project(path):
    """No sys.path edits: the repository is installed editable (`-e .`), and in the student edition the
    notebooks sit beside the edition's own mlp.py and lab/ (tools/make_student.py)."""
    for cell in _stored(path).cells:
        if cell.cell_type == "code":
            assert "sys.path" not in cell.source, f"{path.name}: {cell.source[:80]!r}"
    first = next(c for c in _stored(path).cells if c.cell_type == "code")
    assert re.search(r"^from lab( import|\.)", first.source, flags=re.M), "the first code cell imports lab"


def test_nothing_regenerates_notebooks_from_builders():
    assert not list((ROOT / "tools").glob("build_*notebooks*.py")), "the builder scripts are gone: edit the .py sources"
    assert "build_" not in (ROOT / "Makefile").read_text()


def test_every_homework_question_has_its_own_heading():
    headings = []
    for path in THEORY:
        for cell in _stored(path).cells:
            if cell.cell_type == "markdown":
                headings += re.findall(r"^## (1\.\d\(\w\))", cell.source, flags=re.M)
    expected = ([f"1.2({c})" for c in "abcd"] + [f"1.3({c})" for c in "abc"] + [f"1.4({c})" for c in "123"]
                + [f"1.5({c})" for c in "abcde"])
    assert sorted(headings) == sorted(expected)


def test_ignored_cells_say_why():
    for path in THEORY:
        for cell in _stored(path).cells:
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
