"""environment.yml (conda-forge) and requirements*.txt (pip) agree, and together they cover every
third-party module the project imports.

* every package of requirements.txt / requirements-dev.txt is in environment.yml (under its conda name);
* torch is pinned to 2.13.0 in both (conda-forge calls it ``pytorch``);
* torchvision is in environment.yml (optional for pip users: CONTRACT.md);
* every third-party module imported by mlp.py, gd.py, lab/*.py, tools/*.py, benchmarks/*.py and the
  notebooks' code cells (parsed with ast; notebooks read with nbformat) is provided by
  environment.yml, and by requirements*.txt unless it is torchvision.

The import scan sees imports anywhere in a file (inside functions, try blocks: lazy imports too).
"""
import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
TORCH_PIN = "2.13.0"

# import name -> distribution (pip) name, where they differ.
IMPORT_TO_PACKAGE = {
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "cv2": "opencv-python",
    "skimage": "scikit-image",
    "IPython": "ipython",
    "mpl_toolkits": "matplotlib",       # ships inside matplotlib
    "matplotlib_inline": "matplotlib-inline",
    "jupyter_client": "jupyter-client",
    "google": "protobuf",
}
# pip name -> conda-forge name, where they differ.
PIP_TO_CONDA = {"torch": "pytorch"}
# Packages that the listed ones install for sure (hard dependencies): importing them is covered.
PROVIDED_BY = {
    "ipython": {"ipykernel", "ipywidgets", "jupyterlab"},
    "matplotlib-inline": {"ipykernel"},
    "jupyter-client": {"ipykernel", "jupyterlab"},
    "traitlets": {"ipykernel", "ipywidgets"},
    "threadpoolctl": {"scikit-learn"},    # a hard requirement of scikit-learn (pip and conda-forge)
    "nbclient": {"nbconvert"},            # nbconvert executes notebooks through nbclient
}
PIP_OPTIONAL = {"torchvision"}       # CONTRACT.md: optional for pip users, imported lazily
LOCAL_TOP_LEVEL = {"mlp", "gd", "dream", "lab", "grading", "tools", "benchmarks", "tests", "notebooks"}


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path, seen=None):
    """Package names (normalized) of a pip requirements file, following ``-r other.txt``."""
    seen = set() if seen is None else seen
    names = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-e ", "--editable ")):
            names["-e"] = line.split(None, 1)[1]     # the project itself (an editable install)
            continue
        if line.startswith(("-r ", "--requirement ")):
            other = (path.parent / line.split(None, 1)[1]).resolve()
            if other not in seen:
                seen.add(other)
                names.update(read_requirements(other, seen))
            continue
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$", line)
        assert m, f"{path.name}: cannot parse requirement {raw!r}"
        names[normalize(m.group(1))] = m.group(3).strip()
    return names


def read_environment_yml(path):
    """(channels, {package: spec}) of a conda environment file; a ``- pip:`` sub-list is included."""
    channels, deps, section = [], {}, None
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith((" ", "-")):
            section = line.split(":", 1)[0].strip()
            continue
        item = re.match(r"^\s*-\s+(.+)$", line)
        if not item:
            continue
        value = item.group(1).strip()
        if section == "channels":
            channels.append(value)
        elif section == "dependencies" and value.startswith("-e "):
            deps["-e"] = value.split(None, 1)[1]      # the project itself, in the pip: sub-list
        elif section == "dependencies" and value != "pip:":
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$", value)
            assert m, f"environment.yml: cannot parse dependency {raw!r}"
            deps[normalize(m.group(1))] = m.group(2).strip()
    return channels, deps


def python_sources():
    files = [ROOT / "mlp.py", ROOT / "gd.py"]
    for folder in ("dream", "lab", "tools", "benchmarks"):
        files += sorted((ROOT / folder).glob("*.py"))
    return [f for f in files if f.exists()]


def notebook_sources():
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def imports_of_code(code, where):
    """Top-level names of absolute imports in a piece of Python code."""
    lines = [ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))]   # IPython magics
    tree = ast.parse("\n".join(lines), filename=where)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def project_imports():
    """({top-level import name: [files importing it]}, [files that do not parse]) over the scanned files.

    A file that does not parse is listed (test_scanned_files_parse fails on it) and skipped here,
    so that the coverage test still checks everything else.
    """
    found, unparsable = {}, []
    sources = [(p.relative_to(ROOT).as_posix(), p.read_text()) for p in python_sources()]
    for path in notebook_sources():
        nb = nbformat.read(path, as_version=4)
        sources += [(f"{path.relative_to(ROOT).as_posix()}[{i}]", cell.source)
                    for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    for where, code in sources:
        try:
            names = imports_of_code(code, where)
        except SyntaxError as exc:
            unparsable.append(f"{where}: {exc.msg} (line {exc.lineno})")
            continue
        for name in names:
            found.setdefault(name, []).append(where)
    return found, unparsable


def local_modules():
    """Names importable from the repository itself (top-level modules, sibling scripts)."""
    names = set(LOCAL_TOP_LEVEL)
    for folder in (ROOT, ROOT / "lab", ROOT / "tools", ROOT / "benchmarks", ROOT / "nbsrc"):
        names.update(p.stem for p in folder.glob("*.py"))
    return names


def third_party_imports():
    stdlib = set(sys.stdlib_module_names)
    local = local_modules()
    return {name: where for name, where in project_imports()[0].items()
            if name not in stdlib and name not in local and not name.startswith("_")}


@pytest.fixture(scope="module")
def pip_packages():
    return read_requirements(ROOT / "requirements.txt")


@pytest.fixture(scope="module")
def pip_all():
    names = {}
    for path in sorted(ROOT.glob("requirements*.txt")):
        names.update(read_requirements(path))
    return names


@pytest.fixture(scope="module")
def conda():
    path = ROOT / "environment.yml"
    assert path.exists(), "environment.yml is missing"
    return read_environment_yml(path)


def covered(package, available):
    return package in available or bool(PROVIDED_BY.get(package, set()) & set(available))


def test_environment_yml_uses_conda_forge_and_python_3_10(conda):
    channels, deps = conda
    assert channels and channels[0] == "conda-forge", channels
    assert "python" in deps and re.search(r">=\s*3\.1\d|3\.1\d", deps["python"]), deps.get("python")


def test_every_pip_requirement_is_in_environment_yml(pip_all, conda):
    _, deps = conda
    missing = [p for p in pip_all if normalize(PIP_TO_CONDA.get(p, p)) not in deps]
    assert not missing, f"in requirements*.txt but not in environment.yml: {missing}"


def test_the_project_itself_is_installed_editable(pip_packages, conda):
    """Both README commands install the repository (`-e .`), so nothing edits sys.path."""
    _, deps = conda
    assert pip_packages.get("-e") == ".", "requirements.txt must install the project: a line `-e .`"
    assert deps.get("-e") == ".", "environment.yml must install the project: `- pip:` then `- -e .`"


def test_torch_pinned_to_the_same_version(pip_packages, conda):
    _, deps = conda
    assert pip_packages.get("torch") == f"=={TORCH_PIN}", f"requirements.txt torch spec: {pip_packages.get('torch')!r}"
    assert re.fullmatch(rf"==?{re.escape(TORCH_PIN)}", deps.get("pytorch", "")), \
        f"environment.yml must pin pytorch={TORCH_PIN} (conda-forge's name for torch); got {deps.get('pytorch')!r}"
    assert "torch" not in deps, "conda-forge's package is `pytorch`, not `torch`"


def test_torchvision_in_environment_yml(conda):
    _, deps = conda
    assert "torchvision" in deps


def test_the_import_scan_finds_what_it_should():
    """The scanner itself: it sees lazy imports, from-imports and skips magics and relative imports."""
    code = "import os, numpy as np\nfrom PIL import Image\n%matplotlib inline\n" \
           "def f():\n    import torchvision.models\nfrom . import x\nfrom sklearn.datasets import load_digits\n"
    assert imports_of_code(code, "<t>") == {"os", "numpy", "PIL", "torchvision", "sklearn"}
    found = third_party_imports()
    assert "torch" in found and "mlp.py" in found["torch"]
    assert "lab" not in found and "mlp" not in found and "math" not in found


def test_scanned_files_parse():
    """Every scanned file and notebook code cell is valid Python (magics aside)."""
    _, unparsable = project_imports()
    assert not unparsable, "cannot scan the imports of: " + "; ".join(unparsable)


def test_every_third_party_import_is_covered(pip_all, conda):
    _, deps = conda
    problems = []
    for name, where in sorted(third_party_imports().items()):
        package = normalize(IMPORT_TO_PACKAGE.get(name, name))
        if not covered(normalize(PIP_TO_CONDA.get(package, package)), deps):
            problems.append(f"{name} (package {package}) not in environment.yml; imported by {where[:3]}")
        if package not in PIP_OPTIONAL and not covered(package, pip_all):
            problems.append(f"{name} (package {package}) not in requirements*.txt; imported by {where[:3]}")
    assert not problems, "\n".join(problems)


def test_the_checks_can_fail(tmp_path):
    """A requirements file naming a package environment.yml lacks, and a bad pin, are caught."""
    req = tmp_path / "requirements.txt"
    req.write_text("torch==2.12.0\nseaborn>=0.13\n")
    env = tmp_path / "environment.yml"
    env.write_text("name: x\nchannels:\n  - conda-forge\ndependencies:\n  - python>=3.10\n  - pytorch=2.13.0\n")
    pip, (_, deps) = read_requirements(req), read_environment_yml(env)
    assert pip == {"torch": "==2.12.0", "seaborn": ">=0.13"}
    assert deps == {"python": ">=3.10", "pytorch": "=2.13.0"}
    assert [p for p in pip if normalize(PIP_TO_CONDA.get(p, p)) not in deps] == ["seaborn"]
    assert pip["torch"] != f"=={TORCH_PIN}"
