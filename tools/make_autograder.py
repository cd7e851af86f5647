"""Build the Gradescope autograders: dist/autograder/mlp.zip and dist/autograder/gd.zip.

Each zip holds, at its root, Gradescope's two required files (``setup.sh``, an executable
``run_autograder``; see https://gradescope-autograders.readthedocs.io/en/latest/specs/) and the
checker's source: ``grading/`` (without its tests' self-test task), ``lab/__init__.py``,
``lab/mistakes.py``, ``lab/reference.py``, and for gd ``dream/`` and ``models/``. Never our
``mlp.py`` or ``gd.py`` (the solutions). The templates live in grading/autograder/.

    python tools/make_autograder.py                 # both, into dist/autograder/
    python tools/make_autograder.py --kinds mlp --out /tmp/ag
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "grading" / "autograder"
FILENAMES = {"mlp": "mlp.py", "gd": "gd.py"}
COMMON = ["grading", "lab/__init__.py", "lab/mistakes.py", "lab/reference.py"]
EXTRA = {"mlp": [], "gd": ["dream", "models"]}
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints"}
SKIP_FILES = {"grading/tasks/echo.py"}          # the sandbox's self-test task: tests only
FORBIDDEN = {"mlp.py", "gd.py"}                 # at the zip's root: the solutions never ship


def max_score(kind: str) -> float:
    from grading import rubric
    return rubric.load(kind).max_score


def source_files(kind: str) -> list[tuple[Path, str]]:
    """(file on disk, name in the zip) for the checker's source."""
    out = []
    for rel in COMMON + EXTRA[kind]:
        path = ROOT / rel
        if not path.exists():
            raise SystemExit(f"make_autograder: {rel} is missing from the project")
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            name = f.relative_to(ROOT).as_posix()
            if SKIP_PARTS & set(f.parts) or f.suffix == ".pyc" or name in SKIP_FILES:
                continue
            if name.startswith("grading/autograder/"):
                continue                      # the templates go to the root, filled in
            out.append((f, name))
    assert not any(name in FORBIDDEN for _, name in out)
    return out


def run_autograder_text(kind: str) -> str:
    text = (TEMPLATES / "run_autograder").read_text()
    score = max_score(kind)
    return (text.replace("@KIND@", kind).replace("@FILENAME@", FILENAMES[kind])
            .replace("@MAX_SCORE@", f"{score:g}"))


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))   # fixed date: the same zip every build
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16
    zf.writestr(info, data)


def build(kind: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{kind}.zip"
    with zipfile.ZipFile(target, "w") as zf:
        _add(zf, "setup.sh", (TEMPLATES / "setup.sh").read_bytes(), executable=True)
        _add(zf, "run_autograder", run_autograder_text(kind).encode(), executable=True)
        _add(zf, "requirements-autograder.txt", (TEMPLATES / "requirements-autograder.txt").read_bytes())
        for path, name in source_files(kind):
            _add(zf, name, path.read_bytes())
    return target


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Build Gradescope autograder zips for the mlp.py and gd.py checks.")
    ap.add_argument("--out", default=str(ROOT / "dist" / "autograder"), help="folder for the zips")
    ap.add_argument("--kinds", nargs="+", choices=sorted(FILENAMES), default=sorted(FILENAMES, reverse=True))
    args = ap.parse_args(argv)
    for kind in args.kinds:
        path = build(kind, Path(args.out))
        with zipfile.ZipFile(path) as zf:
            n = len(zf.namelist())
        print(f"{path}: {n} files, {path.stat().st_size / 1024:.0f} KiB — upload it as the {FILENAMES[kind]} "
              f"assignment's autograder (Gradescope: Configure Autograder → Zip file upload)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
