"""The layout of dream/ and its neighbours: dream imports nothing above it (gd.py, lab/, grading/),
no module imports another's private name, there is no import cycle inside dream/, nothing imports
the old lab.studio, and no file puts the repository on sys.path by hand."""
import ast
from pathlib import Path

import dream

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["dream", "lab", "grading", "tools", "benchmarks", "gd.py", "mlp.py"]


def python_files(*names):
    for name in names:
        path = ROOT / name
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else [])


def imports(path, root=ROOT):
    """[(module, [names])] for every import statement of a file (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            out.append((base, [a.name for a in node.names]))
    return out


def test_no_private_name_is_imported_across_modules():
    found = [f"{p.relative_to(ROOT)}: from {mod} import {name}"
             for p in python_files(*SOURCES) for mod, names in imports(p) for name in names
             if name.startswith("_") and not name.startswith("__")]
    assert found == []


def test_the_scan_finds_a_private_import(tmp_path):
    (tmp_path / "pkg").mkdir()
    bad = tmp_path / "pkg" / "bad.py"
    bad.write_text("from dream.models import _sha256\nfrom .judges import _thicken, NO_DIGIT\n")
    assert imports(bad, root=tmp_path) == [("dream.models", ["_sha256"]), ("pkg.judges", ["_thicken", "NO_DIGIT"])]


def test_dream_imports_nothing_above_it_and_has_no_cycle():
    graph = {}
    for path in python_files("dream"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        targets = set()
        for mod, names in imports(path):
            top = mod.split(".")[0]
            assert top not in ("gd", "lab", "grading", "mlp", "tests"), f"{module} imports {mod}"
            if mod == "dream":   # from . import x
                targets |= {f"dream.{n}" for n in names}
            elif top == "dream":
                targets.add(mod)
        graph[module] = targets - {module}
    inner = {m: {t for t in ts if t in graph and t != "dream"} for m, ts in graph.items() if m != "dream"}
    done, stack = set(), []

    def visit(m):
        assert m not in stack, f"import cycle: {' -> '.join(stack[stack.index(m):] + [m])}"
        if m in done:
            return
        stack.append(m)
        for t in inner[m]:
            visit(t)
        stack.pop()
        done.add(m)

    for m in inner:
        visit(m)
    assert "dream.studio" in inner and "dream.studio" not in graph["dream"]   # ipywidgets stays optional


def test_nothing_imports_lab_studio_or_edits_sys_path():
    mine = list(python_files(*SOURCES, "tests", "notebooks"))
    assert not (ROOT / "lab" / "studio.py").exists()
    for path in mine:
        if path.name == "test_package.py":
            continue
        text = path.read_text()
        assert "lab.studio" not in text and "from lab import studio" not in text, path
    own = list(python_files("dream", "gd.py", "tools/ablations.py", "tools/calibrate_judge.py",
                            "tools/train_digits.py", "benchmarks/bench_gd.py", "tests/dream", "tests/test_gd.py",
                            "tests/test_browser.py", "nbsrc/07_deepdream_studio.py", "nbsrc/studio_app.py"))
    assert [p for p in own if "sys.path.insert" in p.read_text() and p.name != "test_package.py"] == []


def test_the_package_exports_what_the_grading_side_needs():
    for name in ("course_start", "load_model", "load_digits_model", "normalize", "eval_frozen", "model_device",
                 "recognize_digits", "class_probability", "limit_threads", "visualize"):
        assert name in dream.__all__ and callable(getattr(dream, name)), name
