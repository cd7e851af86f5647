"""The student edition (tools/make_student.py, `make student`): what it holds, that no worked
answer leaks into it, that it runs top to bottom in fresh kernels, and the starter mlp.py.

The no-leak rule. A *solution line* is a line of a cell tagged ``solution`` or a line inside a
``### BEGIN SOLUTION`` … ``### END SOLUTION`` region of the source notebooks. It is *trivial* (and
may appear in the edition) when, stripped, it has fewer than 12 letters and digits (a markdown table
rule), is an import, only opens a bracket (``exercises.check_gradients(``), calls a check on names
only (``exercises.check_steps(my_steps)``, as the exercise cell does too), is code that computes
nothing (no operator and no list of strings: ``net.clear_grad_and_cache()``), or also occurs in
text that ships on purpose: a shared cell of one of the source notebooks (neither solution nor
exercise: setup and prose) or a helper module that ships as it is (GENERIC_LAB, the starter
mlp.py). Every other solution line is distinctive: it must not occur in any file of the edition,
whole or as a run of SHINGLE tokens. Lines that also occur in *exercise* cells are not excused: a
worked answer copied into an exercise cell is a leak (test_the_leak_check_can_fail).
Our mlp.py and gd.py: no function-body line of theirs that the same rule finds distinctive may occur
in the edition.
"""
import ast
import re
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


def _load_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ms = _load_tool()
NOT_ANSWERED = "not answered yet"


# ----------------------------------------------------------------------------- the leak rule
def _tags(cell):
    return cell.metadata.get("tags", [])


def _split_regions(source):
    """(lines inside solution regions, lines outside them) of a cell's source."""
    inside_lines, outside_lines, inside = [], [], False
    for line in source.splitlines():
        if line.strip() == ms.BEGIN:
            inside = True
        elif line.strip() == ms.END:
            inside = False
        else:
            (inside_lines if inside else outside_lines).append(line)
    return inside_lines, outside_lines


def shared_text(notebook):
    """The text of a notebook that ships on purpose: cells neither solution nor exercise, minus regions."""
    return "\n".join("\n".join(_split_regions(c.source)[1]) for c in notebook.cells
                     if ms.SOLUTION_TAG not in _tags(c) and "exercise" not in _tags(c))


CHECK_CALL = re.compile(r"^[\w.]*check_\w*\([\w\s,=]*\)?$")      # a check called on names only
COMPUTES = re.compile(r"[-+*/@<>]|\[\s*[\"']")                   # an operator, or a list of names/strings


def _alnum(text):
    return len(re.sub(r"[^\w]", "", text))


def _is_trivial(line, shared_text, cell_type="code"):
    text = line.strip()
    return (_alnum(text) < 12
            or re.match(r"(import|from)\s+\S+(\s+import\s|\s*$|\s+as\s)", text)
            or text.endswith("(") or CHECK_CALL.match(text)
            or (cell_type == "code" and not COMPUTES.search(text.split("#")[0]))
            or text in shared_text)


def distinctive_solution_lines(notebook, shared=None):
    """{line: cell index} of the distinctive solution lines of one source notebook; ``shared`` is the
    text that ships on purpose (default: this notebook's shared cells)."""
    shared = shared_text(notebook) if shared is None else shared
    found = {}
    for i, cell in enumerate(notebook.cells):
        lines = cell.source.splitlines() if ms.SOLUTION_TAG in _tags(cell) else _split_regions(cell.source)[0]
        for line in lines:
            if not _is_trivial(line, shared, cell.cell_type):
                found.setdefault(line.strip(), i)
    return found


def _body_lines(path):
    """Stripped body lines (docstrings and comments left out) of every function in a .py file."""
    source = Path(path).read_text()
    lines = source.splitlines()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            for line in lines[body[0].lineno - 1: node.end_lineno] if body else []:
                text = line.strip()
                if len(re.sub(r"\s", "", text)) >= 16 and not text.startswith("#") and not text.endswith("("):
                    found.add(text)
    return found


def implementation_lines(root, name, source_notebooks):
    """The distinctive lines of our ``name`` (mlp.py, gd.py, dream/*.py): function body lines of 16 or more
    non-blank characters, not imports, that neither the starter, the whitelisted lab modules nor
    the shared notebook cells also contain (those lines are generic: they ship anyway)."""
    generic = [(root / "student" / "mlp.py").read_text()]
    generic += [(root / "lab" / f"{m}.py").read_text() for m in ms.LAB_WHITELIST if (root / "lab" / f"{m}.py").exists()]
    generic += [shared_text(nb) for nb in source_notebooks.values()]
    generic = "\n".join(generic)
    return {line for line in _body_lines(root / name) if not _is_trivial(line, generic)}


def our_code(root):
    """What the edition must never hold: our mlp.py, gd.py and the dream/ package gd.py is made of."""
    return ["mlp.py", "gd.py"] + sorted(p.relative_to(root).as_posix() for p in (Path(root) / "dream").glob("*.py"))


def edition_texts(edition):
    """{relative path: text} of every file of an edition (notebooks: their cells' sources)."""
    texts = {}
    for path in sorted(Path(edition).rglob("*")):
        if path.is_file():
            rel = path.relative_to(edition).as_posix()
            if path.suffix == ".ipynb":
                texts[rel] = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
            else:
                texts[rel] = path.read_text()
    return texts


SHINGLE = 18    # tokens: a run this long, copied from a solution line, is a leak even inside another line


def _shingles(text, k=SHINGLE):
    """Every run of k consecutive tokens (words, numbers, single symbols) within a line of ``text``."""
    runs = set()
    for line in text.splitlines():
        tokens = re.findall(r"\w+|[^\w\s]", line)
        runs |= {" ".join(tokens[i:i + k]) for i in range(len(tokens) - k + 1)
                 if _alnum("".join(tokens[i:i + k])) >= 8}                # not a run of punctuation
    return runs


# lab modules that predate the exercises and hold no answer: a line they share with a solution (a call
# of the course's API, say) ships anyway. lab/exercises.py and lab/mistakes.py stay under the rule.
GENERIC_LAB = ("__init__", "gradcheck", "theory", "figures")


def generic_modules(root):
    """The text of the helper modules that ship as they are, and of the starter mlp.py."""
    paths = [Path(root) / "lab" / f"{m}.py" for m in GENERIC_LAB] + [Path(root) / "student" / "mlp.py"]
    return [p.read_text() for p in paths if p.exists()]


def leaks(source_notebooks, edition, root=ROOT):
    """Readable lines naming each piece of solution text found in the edition: a distinctive solution
    line found whole, or a run of SHINGLE of its tokens that the shared text does not also contain."""
    texts = edition_texts(edition)
    runs_in = {rel: _shingles(text) for rel, text in texts.items()}
    found = []
    shared = "\n".join([shared_text(nb) for nb in source_notebooks.values()] + generic_modules(root))
    shared_runs = _shingles(shared)
    for stem, nb in source_notebooks.items():
        for line, cell in distinctive_solution_lines(nb, shared).items():
            own_runs = _shingles(line) - shared_runs
            for rel, text in texts.items():
                if line in text:
                    found.append(f"{rel}: {line!r} (solution text of {stem} cell {cell})")
                elif own_runs & runs_in[rel]:
                    run = sorted(own_runs & runs_in[rel])[0]
                    found.append(f"{rel}: {run!r}, part of {line!r} (solution text of {stem} cell {cell})")
    for ours in our_code(root):
        for line in sorted(implementation_lines(root, ours, source_notebooks)):
            found += [f"{rel}: {line!r} (from our {ours})" for rel, text in texts.items() if line in text]
    return found


def _sources(root, numbers=ms.EDITION_NOTEBOOKS):
    return {p.stem: jupytext.read(p) for n in numbers for p in sorted((Path(root) / "nbsrc").glob(f"{n}_*.py"))}


def _exercise_cells(nb):
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "exercise" in _tags(c)]


def run_notebook(path, monkeypatch, timeout=300):
    """Execute a notebook in a fresh kernel from its own folder (raises on the first error), as a student
    would: without PYTHONPATH, so that only the folder itself and the installed packages are importable."""
    from nbclient import NotebookClient
    monkeypatch.delenv("BACKPROP_SAVE_FIGURES", raising=False)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return nb


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


# ----------------------------------------------------------------------------- a mock-up course
MOCK = '''# %% [markdown]
# # 01 · Mock-up
#
# The slope of $x^3$ at $x = 2$.

# %%
import pathlib
import lab, mlp
from lab.theory import fmt
print("own lab/ and mlp.py:", pathlib.Path(lab.__file__).parent.parent == pathlib.Path.cwd(),
      pathlib.Path(mlp.__file__).parent == pathlib.Path.cwd())

def verdict(answer):
    print("not answered yet" if answer is None else ("correct" if answer == 12 else "wrong: not 12"))

# %% tags=["exercise"]
answer = None
verdict(answer)

# %% [markdown] tags=["solution"] jupyter={"source_hidden": true}
# The power rule gives three times the square of two.

# %% tags=["solution"] jupyter={"source_hidden": true}
worked_slope = 3 * 2 ** 2    # power rule at x = 2
verdict(worked_slope)

# %%
def slope_of_cube(x):
    ### BEGIN SOLUTION
    return 3.0 * x ** 2 + 0.0 * x
    ### END SOLUTION
    return None

print("slope function written:", slope_of_cube(2) is not None)
'''


@pytest.fixture
def mock_root(tmp_path):
    """A tiny course with one notebook: an exercise, a worked answer and a solution region."""
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    (root / "nbsrc").mkdir(parents=True)
    (root / "nbsrc" / "01_mock.py").write_text(MOCK)
    shutil.copytree(ROOT / "lab", root / "lab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "student", root / "student", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("mlp.py", "gd.py", "requirements.txt"):
        shutil.copyfile(ROOT / name, root / name)
    return root


def test_mock_edition_strips_solutions_and_runs(mock_root, tmp_path, monkeypatch):
    out = tmp_path / "edition"
    ms.build(out, root=mock_root, numbers=("01",))
    nb = nbformat.read(out / "01_mock.ipynb", as_version=4)
    assert len(nb.cells) == 4, [c.source[:30] for c in nb.cells]          # 6 cells, 2 solutions gone
    assert "worked_slope" not in out.joinpath("01_mock.ipynb").read_text()
    assert "return 3.0 * x ** 2" not in nb.cells[3].source and ms.CODE_PLACEHOLDER in nb.cells[3].source
    assert not leaks(_sources(mock_root, ("01",)), out, root=mock_root)
    ran = run_notebook(out / "01_mock.ipynb", monkeypatch)
    # the kernel starts in the edition's folder, which comes first on sys.path: the edition's own lab/ and
    # starter mlp.py are imported, not the repository's (installed editable)
    assert _stdout(ran.cells[1]).strip() == "own lab/ and mlp.py: True True"
    assert _stdout(ran.cells[2]).strip() == NOT_ANSWERED
    assert "slope function written: False" in _stdout(ran.cells[3])


def test_the_leak_check_can_fail(mock_root, tmp_path):
    """A worked answer copied into the exercise cell, or a solution region left in place, is caught."""
    source = mock_root / "nbsrc" / "01_mock.py"
    source.write_text(MOCK.replace("answer = None\n", "answer = None\nworked_slope = 3 * 2 ** 2    # power rule at x = 2\n"))
    ms.build(tmp_path / "e1", root=mock_root, numbers=("01",))
    found = leaks(_sources(mock_root, ("01",)), tmp_path / "e1", root=mock_root)
    assert found and "worked_slope = 3 * 2 ** 2" in found[0] and "solution text of 01_mock cell 4" in found[0]

    source.write_text(MOCK)
    edition = tmp_path / "e2"
    ms.build(edition, root=mock_root, numbers=("01",))
    leaked = edition / "notes.md"                              # a stray copy of a region line
    leaked.write_text("hint: return 3.0 * x ** 2 + 0.0 * x\n")
    assert any("notes.md" in f for f in leaks(_sources(mock_root, ("01",)), edition, root=mock_root))
    shutil.copyfile(mock_root / "mlp.py", edition / "mlp.py")               # our mlp.py instead of the starter
    assert any("(from our mlp.py)" in f for f in leaks(_sources(mock_root, ("01",)), edition, root=mock_root))


@pytest.mark.parametrize("bad, message", [
    ("    ### BEGIN SOLUTION\n    return 3.0 * x ** 2 + 0.0 * x\n    return None\n", "without a matching"),
    ("    ### END SOLUTION\n    return None\n", "without a ### BEGIN SOLUTION"),
    ("    ### BEGIN SOLUTION\n    return 3 * x ** 2\n    ### END SOLUTION\n", "not valid Python"),
    ("    import lab.answer_key\n    return None\n", "not on the whitelist"),
])
def test_the_tool_refuses_broken_sources(mock_root, tmp_path, bad, message):
    body = MOCK[MOCK.index("    ### BEGIN"):MOCK.index('\nprint("slope')]
    (mock_root / "nbsrc" / "01_mock.py").write_text(MOCK.replace(body, bad))
    (mock_root / "lab" / "answer_key.py").write_text("ANSWER = 3\n")     # a lab module that must not ship
    with pytest.raises(ms.EditionError, match=message):
        ms.build(tmp_path / "out", root=mock_root, numbers=("01",))


def test_the_tool_replaces_only_an_edition(mock_root, tmp_path):
    out = tmp_path / "somewhere"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(ms.EditionError, match="not a student edition"):
        ms.build(out, root=mock_root, numbers=("01",))
    assert (out / "thesis.tex").read_text() == "precious"
    ms.build(tmp_path / "ed", root=mock_root, numbers=("01",))
    ms.build(tmp_path / "ed", root=mock_root, numbers=("01",))              # a previous edition is replaced


# ----------------------------------------------------------------------------- the real edition
@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    ms.build(out)
    return out


@pytest.fixture(scope="module")
def sources():
    return _sources(ROOT)


def test_edition_holds_exactly_what_it_should(edition):
    files = sorted(p.relative_to(edition).as_posix() for p in edition.rglob("*") if p.is_file())
    notebooks = [f"{p.stem}.ipynb" for p in sorted((ROOT / "nbsrc").glob("0[1-6]_*.py"))]
    lab = sorted(f for f in files if f.startswith("lab/"))
    assert files == sorted(notebooks + lab + ["mlp.py", "requirements.txt", "README.md"])
    assert len(notebooks) == 6
    assert {"lab/__init__.py", "lab/gradcheck.py", "lab/theory.py"} <= set(lab)
    assert {f.split("/")[1].removesuffix(".py") for f in lab} <= set(ms.LAB_WHITELIST)
    if (ROOT / "lab" / "latex" / "__init__.py").exists():              # LaTeX answers work in the edition
        assert "lab/latex/__init__.py" in lab and any(f.endswith(".lark") for f in lab), lab
    assert "lab/selfcheck.py" not in lab and "lab/studio.py" not in lab and "gd.py" not in files
    assert (edition / "mlp.py").read_text() == (ROOT / "student" / "mlp.py").read_text()
    assert (edition / "README.md").read_text().startswith(ms.README_TITLE)


def test_edition_is_flat_and_installs_without_the_project(edition):
    """The notebooks sit beside mlp.py and lab/ (so the kernel imports those); the edition's
    requirements.txt installs the packages but not the project (`-e .`: the edition has no pyproject)."""
    assert sorted(p.name for p in edition.glob("*.ipynb")) == sorted(
        f"{p.stem}.ipynb" for p in (ROOT / "nbsrc").glob("0[1-6]_*.py"))
    assert not (edition / "notebooks").exists() and (edition / "lab" / "__init__.py").exists()
    requirements = (edition / "requirements.txt").read_text()
    assert "-e ." not in requirements and "torch==" in requirements and "jupytext" in requirements
    readme = (edition / "README.md").read_text()
    assert "jupyter lab\n" in readme and "notebooks/" not in readme


def test_make_student_needs_only_the_main_requirements():
    """`make student` after the README's main setup (pip install -r requirements.txt): the tool's
    third-party imports (jupytext, nbformat) are installed by requirements.txt itself."""
    main = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^jupytext\b", main, flags=re.M), "make student imports jupytext"
    assert re.search(r"^(jupyterlab|nbconvert)\b", main, flags=re.M)    # nbformat comes with these
    assert "make_student.py" in (ROOT / "Makefile").read_text()


def test_edition_notebooks_are_clean(edition):
    for path in sorted(edition.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert "jupytext" not in nb.metadata
        for i, cell in enumerate(nb.cells):
            assert ms.SOLUTION_TAG not in _tags(cell), f"{path.name} cell {i}"
            assert ms.BEGIN not in cell.source and ms.END not in cell.source, f"{path.name} cell {i}"
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} cell {i}"


def test_no_solution_text_leaks_into_the_edition(edition, sources):
    found = leaks(sources, edition)
    assert not found, "solution text in the student edition:\n" + "\n".join(found[:20])


def test_the_leak_rule_has_something_to_look_for(sources):
    """Our mlp.py's layer code is always looked for; solution lines once the notebooks have them."""
    ours = implementation_lines(ROOT, "mlp.py", sources)
    assert any("dJdz.T @ x" in line for line in ours) and len(ours) > 20, sorted(ours)   # 29 now: plain code
    assert len(implementation_lines(ROOT, "gd.py", sources)) > 15   # gd.py is the course's 172-line file now
    dream = [name for name in our_code(ROOT) if name.startswith("dream/")]
    assert len(dream) >= 5 and sum(len(implementation_lines(ROOT, name, sources)) for name in dream) > 100
    tagged = [stem for stem, nb in sources.items() if any(ms.SOLUTION_TAG in _tags(c) for c in nb.cells)]
    for stem in tagged:
        assert distinctive_solution_lines(sources[stem]), f"{stem}: solution cells but no distinctive line"


# The issue's exercises: part 1's items (notebooks 01-04) and mlp.py's layers (06). Notebook 05 reviews
# written answers; it has worked corrections (solution cells) but no exercise of its own.
WITH_EXERCISES = {"01", "02", "03", "04", "06"}


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(p.stem for p in (ROOT / "nbsrc").glob("0[1-6]_*.py")))
def test_edition_notebook_runs_in_a_fresh_kernel(edition, sources, stem, monkeypatch):
    """Run All in a fresh kernel: no error, and every exercise cell says "not answered yet"."""
    nb = run_notebook(edition / f"{stem}.ipynb", monkeypatch)
    exercises = _exercise_cells(nb)
    assert bool(exercises) == (stem[:2] in WITH_EXERCISES), f"{stem}: {len(exercises)} exercise cells"
    assert len(exercises) == len(_exercise_cells(sources[stem])), "every exercise cell ships"
    for i in exercises:
        assert _stdout(nb.cells[i]).strip().splitlines()[-1:] == [NOT_ANSWERED], \
            f"{stem} exercise cell {i} printed {_stdout(nb.cells[i])!r}"
    # what both editions share prints the same in both: a shared cell's text output in the edition equals the
    # full notebook's stored one (so the prose around it, written once, fits both: 01's kink table, say)
    stored = {c.source: _stdout(c) for c in nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4).cells
              if c.cell_type == "code" and not set(_tags(c)) & {"exercise", "solution", "nbval-ignore-output"}}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source in stored and "NBVAL_IGNORE_OUTPUT" not in cell.source:
            assert _stdout(cell) == stored[cell.source], f"{stem}: a shared cell prints differently in the edition:\n" \
                f"{cell.source[:200]}\n--- edition:\n{_stdout(cell)[:800]}\n--- full:\n{stored[cell.source][:800]}"


# ----------------------------------------------------------------------------- the starter mlp.py
@pytest.fixture
def starter():
    import importlib.util
    spec = importlib.util.spec_from_file_location("student_mlp", ROOT / "student" / "mlp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_starter_has_the_course_api(starter):
    torch.manual_seed(0)
    net = starter.MLP(linear_1_in_features=3, linear_1_out_features=4, f_function="relu",
                      linear_2_in_features=4, linear_2_out_features=2, g_function="sigmoid")
    shapes = {k: tuple(v.shape) for k, v in net.parameters.items()}
    assert shapes == {"W1": (4, 3), "b1": (4,), "W2": (2, 4), "b2": (2,)}
    assert all(v.std() > 0 for v in net.parameters.values())                # torch.randn, not zeros
    assert {k: tuple(v.shape) for k, v in net.grads.items()} == {
        "dJdW1": (4, 3), "dJdb1": (4,), "dJdW2": (2, 4), "dJdb2": (2,)}
    net.grads["dJdW1"] += 1
    net.cache["x"] = 1
    net.clear_grad_and_cache()
    assert net.cache == {} and float(net.grads["dJdW1"].abs().sum()) == 0


@pytest.mark.parametrize("call, names", [
    (lambda m: m.MLP(3, 4, "relu", 4, 2, "identity").forward(torch.randn(5, 3)), ["MLP.forward", "self.cache"]),
    (lambda m: m.MLP(3, 4, "relu", 4, 2, "identity").backward(torch.randn(5, 2)), ["MLP.backward", "self.grads"]),
    (lambda m: m.mse_loss(torch.zeros(5, 2), torch.ones(5, 2)), ["mse_loss", "nn.MSELoss()", "dJdy_hat"]),
    (lambda m: m.bce_loss(torch.zeros(5, 2), torch.full((5, 2), 0.5)), ["bce_loss", "nn.BCELoss()", "dJdy_hat"]),
])
def test_starter_stubs_say_what_to_write(starter, call, names):
    with pytest.raises(NotImplementedError) as info:
        call(starter)
    message = str(info.value)
    assert "yours to write" in message
    for name in names:
        assert name in message
