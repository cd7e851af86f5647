"""grading/ imports lab.mistakes, lab.reference and dream, never gd.py, mlp.py or lab.exercises;
lab/ never imports grading; the task modules that run beside student code import only what the
sandbox allows (stdlib, torch, numpy, grading.wire, dream for gd)."""
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(path):
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_grading_never_imports_the_course_files():
    for path in (ROOT / "grading").rglob("*.py"):
        bad = {m for m in imports(path) if m.split(".")[0] in ("gd", "mlp") or m.startswith("lab.exercises")}
        assert not bad, (path, bad)


def test_lab_never_imports_grading():
    for path in (ROOT / "lab").rglob("*.py"):
        assert not {m for m in imports(path) if m.split(".")[0] == "grading"}, path


def test_task_modules_import_only_what_the_sandbox_allows():
    allowed = set(sys.stdlib_module_names) | {"torch", "numpy", "grading", "grading.wire", "dream"}
    for path in (ROOT / "grading" / "tasks").glob("*.py"):
        tops = {m if m.startswith("grading") else m.split(".")[0] for m in imports(path)}
        tops = {t for t in tops if not (t.startswith("grading.wire") or t.startswith("dream"))}
        assert tops <= allowed | {"__future__"}, (path, tops - allowed)
