"""Write the student edition: notebooks 01–06 without their worked answers, for handing out.

    python3 tools/make_student.py                 # -> dist/student/   (or: make student)
    python3 tools/make_student.py --out DIR

What goes in (and nothing else):

* ``NN_*.ipynb`` for 01–06 at the edition's root, read from their text sources ``nbsrc/NN_*.py``, with
  every cell tagged ``solution`` removed, every ``### BEGIN SOLUTION`` … ``### END SOLUTION``
  region removed from the other cells (nbgrader's convention; a placeholder line takes its place),
  and all outputs cleared;
* the check library: the ``lab/`` modules and packages (``lab/latex/``, whole) those notebooks import
  (directly or through each other) plus :data:`ALWAYS_SHIPPED`, each of which must be on
  :data:`LAB_WHITELIST`;
* ``mlp.py``: the course-API starter ``student/mlp.py`` (stubs that raise NotImplementedError),
  never the project's own mlp.py; ``requirements.txt`` without the line that installs the project
  itself (``-e .``); a generated ``README.md``.

The layout is flat on purpose: the notebooks sit beside ``mlp.py`` and ``lab/``. A Jupyter kernel puts
its working directory (the notebook's folder) first on ``sys.path``, ahead of any installed copy of the
project (an editable install's finder comes after it), so ``import mlp`` and ``import lab`` in the
edition always load the edition's own starter and check library.

The build refuses to write an edition that still holds a ``solution`` tag or a solution marker,
and refuses to replace a folder that is not a previous edition.
"""
import argparse
import ast
import shutil
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
EDITION_NOTEBOOKS = ("01", "02", "03", "04", "05", "06")
# lab modules that may ship: the checks and the helpers the notebooks print and draw with.
# Never lab/selfcheck.py or lab/studio.py (they drive our own mlp.py / gd.py).
LAB_WHITELIST = ("__init__", "exercises", "mistakes", "gradcheck", "theory", "figures", "reference", "latex",
                 "theory_check")
# shipped whenever they exist, imported or not: the check library a learner may call directly (lab.latex is
# loaded by name when an answer is a LaTeX string; lab.theory_check checks a whole written-up theory.tex).
ALWAYS_SHIPPED = ("__init__", "exercises", "mistakes", "gradcheck", "theory", "latex", "theory_check")
SOLUTION_TAG = "solution"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_PLACEHOLDER = "# YOUR CODE HERE"
MARKDOWN_PLACEHOLDER = "*YOUR ANSWER HERE*"
README_TITLE = "# Backprop Lab — student edition"


class EditionError(ValueError):
    """The sources cannot be turned into a clean edition (the message says where and why)."""


def strip_solution_regions(source, cell_type, where="cell"):
    """``source`` with each BEGIN/END SOLUTION region (marker lines included) replaced by one
    placeholder line indented like the BEGIN marker."""
    out, inside, indent = [], False, ""
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise EditionError(f"{where}, line {number}: {BEGIN} inside an open solution region")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(indent + (CODE_PLACEHOLDER if cell_type == "code" else MARKDOWN_PLACEHOLDER))
        elif marker == END:
            if not inside:
                raise EditionError(f"{where}, line {number}: {END} without a {BEGIN} before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise EditionError(f"{where}: {BEGIN} without a matching {END}")
    return "\n".join(out)


def _parses(code):
    lines = [ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))]   # IPython magics
    try:
        ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return True


def student_notebook(nb, name="notebook"):
    """A copy of ``nb`` without solution cells, solution regions, outputs or run metadata."""
    nb = nbformat.from_dict(nb)
    cells = []
    for i, cell in enumerate(nb.cells):
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        where = f"{name} cell {i}"
        source = strip_solution_regions(cell.source, cell.cell_type, where)
        if cell.cell_type == "code" and source != cell.source and not _parses(source):
            raise EditionError(f"{where}: without its solution region the cell is not valid Python; keep a "
                               f"placeholder (e.g. `answer = None` or `return None`) outside the region")
        cell.source = source
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("jupytext", None)   # the edition ships no .py sources to pair with
    nb.metadata.pop("widgets", None)    # saved widget states belong to the cleared outputs
    return nb


def lab_imports(code, depth=1):
    """Names of lab modules imported by a piece of code (``import lab.x``, ``from lab.x import``,
    ``from lab import x``, and inside lab: ``from .x import`` / ``from . import x``). ``depth`` is 2 for
    code inside a package of lab (lab/latex/): there ``from ..x import`` reaches lab.x, and ``from .x``
    stays inside the package."""
    lines = [ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    names = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("lab.")}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.startswith("lab."):
                names.add(module.split(".")[1])
            elif (node.level == 0 and module == "lab") or (node.level == depth and not module):
                names |= {a.name for a in node.names}
            elif node.level == depth:
                names.add(module.split(".")[0])
    return names


def module_files(lab_dir, module):
    """The files of one lab module: ``lab/m.py``, or every file of the package ``lab/m/`` (its .py
    files and data such as a grammar; no caches). Empty when it does not exist."""
    single = lab_dir / f"{module}.py"
    if single.exists():
        return [single]
    package = lab_dir / module
    if (package / "__init__.py").exists():
        return sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                      and p.suffix not in (".pyc", ".pyo"))
    return []


def lab_modules_needed(notebooks, lab_dir):
    """The lab modules the notebooks import, closed over the modules' own imports of each other."""
    needed = {m for m in ALWAYS_SHIPPED if module_files(lab_dir, m)}
    for name, nb in notebooks.items():
        for cell in nb.cells:
            if cell.cell_type == "code":
                needed |= lab_imports(cell.source)
    todo = sorted(needed)
    while todo:
        module = todo.pop()
        files = module_files(lab_dir, module)
        if not files:
            raise EditionError(f"the notebooks import lab.{module}, but neither {lab_dir / module}.py nor the "
                               f"package {lab_dir / module}/ exists")
        for path in (f for f in files if f.suffix == ".py"):
            depth = 1 if path.parent == lab_dir else 2
            for other in lab_imports(path.read_text(), depth) - needed:
                needed.add(other)
                todo.append(other)
    refused = sorted(needed - set(LAB_WHITELIST))
    if refused:
        raise EditionError(f"the edition would need lab module(s) {refused}, which are not on the whitelist "
                           f"{list(LAB_WHITELIST)} (tools/make_student.py): do the notebooks really need them?")
    return needed


def leftover_solutions(nb):
    """Cells of an edition notebook that still carry a solution tag or marker (should be none)."""
    return [i for i, c in enumerate(nb.cells)
            if SOLUTION_TAG in c.metadata.get("tags", []) or BEGIN in c.source or END in c.source]


def readme(notebook_names, lab_modules):
    lines = [
        README_TITLE,
        "",
        "Notebooks on backpropagation for homework 1 (CSCI-GA 2572, Deep Learning): you write each",
        "answer, and the cell under it checks it at once.",
        "",
        "    pip install -r requirements.txt",
        "    jupyter lab",
        "",
        "Run both commands in this folder. The notebooks sit beside `mlp.py` and `lab/` on purpose:",
        "the notebooks import this folder's `mlp.py` (yours) and `lab/`, since Jupyter starts each",
        "notebook in its own folder and Python looks there first.",
        "",
        "Every exercise cell starts with a placeholder (`answer = None` or a function that returns",
        "None) and ends with a check that prints one line:",
        "",
        '* "not answered yet" while the placeholder is there;',
        '* "correct ..." when your answer is right;',
        '* "wrong: <the mistake> — <a hint>" when it matches a known misconception, or',
        '  "wrong shape: ..." / "wrong: <what differs>" otherwise.',
        "",
        "The checks never stop Run All, so you can run a notebook top to bottom at any time.",
        "",
        "Contents:",
        "",
    ]
    lines += [f"* `{n}`" for n in notebook_names]
    lines += [
        "* `mlp.py`: the starter of part 2.1. Its course API (`MLP`, `mse_loss`, `bce_loss`) is the one",
        "  the grading scripts use; each part to write raises NotImplementedError until you write it.",
        "  Notebook 06 checks your implementation against autograd, piece by piece.",
        f"* `lab/`: the checks and plotting helpers the notebooks import ({', '.join(sorted(lab_modules))}).",
        "",
    ]
    if "theory_check" in lab_modules:
        lines += [
            "Part 1 written in LaTeX? `python -m lab.theory_check theory.tex` reads your write-up (a .tex or .md",
            "file), finds each equation's homework item by your section headings and judges it like the",
            "notebooks' checks, one line per equation.",
            "",
        ]
    lines += [
        "This edition was generated by `make student` (tools/make_student.py) from the Backprop Lab",
        "sources: worked answers are not part of it.",
    ]
    return "\n".join(lines) + "\n"


def _prepare(out):
    if out.exists():
        previous = out / "README.md"
        if any(out.iterdir()) and not (previous.exists() and previous.read_text().startswith(README_TITLE)):
            raise EditionError(f"{out} exists and is not a student edition: refusing to replace it")
        shutil.rmtree(out)
    (out / "lab").mkdir(parents=True)


def edition_requirements(text):
    """requirements.txt for the edition: the same packages, without the editable install of the
    project (``-e .``), which the edition is not, and without the comment lines about it."""
    kept = [line for line in text.splitlines()
            if not line.strip().startswith(("-e ", "--editable")) and "editable" not in line.lower()]
    return "\n".join(kept) + "\n"


def build(out, root=ROOT, numbers=EDITION_NOTEBOOKS):
    """Write the edition into ``out``; return the written files (relative to ``out``)."""
    out, root = Path(out), Path(root)
    sources = {}
    for number in numbers:
        found = sorted((root / "nbsrc").glob(f"{number}_*.py"))
        if len(found) != 1:
            raise EditionError(f"expected one text source nbsrc/{number}_*.py, found {len(found)}")
        sources[found[0].stem] = jupytext.read(found[0])
    edition = {stem: student_notebook(nb, stem) for stem, nb in sources.items()}
    modules = lab_modules_needed(edition, root / "lab")
    for stem, nb in edition.items():
        left = leftover_solutions(nb)
        if left:
            raise EditionError(f"{stem}: cells {left} still carry a solution tag or marker")

    _prepare(out)
    written = []
    for stem, nb in edition.items():
        nbformat.write(nb, out / f"{stem}.ipynb")
        written.append(f"{stem}.ipynb")
    for module in sorted(modules):
        for path in module_files(root / "lab", module):
            rel = path.relative_to(root).as_posix()
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / rel)
            written.append(rel)
    shutil.copyfile(root / "student" / "mlp.py", out / "mlp.py")
    (out / "requirements.txt").write_text(edition_requirements((root / "requirements.txt").read_text()))
    (out / "README.md").write_text(readme([f"{s}.ipynb" for s in edition], modules))
    written += ["mlp.py", "requirements.txt", "README.md"]
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "student",
                        help="folder to write (default: dist/student; a previous edition there is replaced)")
    args = parser.parse_args(argv)
    try:
        written = build(args.out)
    except EditionError as exc:
        print(f"make_student: {exc}", file=sys.stderr)
        return 1
    print(f"student edition in {args.out}: {len(written)} files")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
