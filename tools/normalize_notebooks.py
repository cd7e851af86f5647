"""Write the notebooks the way JupyterLab would save them, so that opening one leaves it clean.

Two differences used to mark a freshly executed notebook as changed in JupyterLab:

* **The kernel's name.** When the kernel starts, JupyterLab writes the running kernel's spec into
  ``metadata.kernelspec``. ipykernel (≥ 6) calls its kernel "Python 3 (ipykernel)"; a notebook
  that says "Python 3" is therefore changed — marked unsaved, then autosaved — before any edit.
* **Whole numbers in the widget state.** nbconvert stores the widgets' state (notebooks 04, 07 and
  the studio) with Python's JSON, which writes a float slider's bounds as ``3.0``; the browser
  writes the same number back as ``3``, so every save of 07 rewrote those lines.

This script sets the kernelspec to ipykernel's and writes every whole-number float as an int,
with nbformat's own writer (the one nbconvert and the Jupyter server use). It also puts the same
kernel name in each notebook's paired text source (the jupytext header), so that ``make sync``
keeps it. ``make notebooks`` runs it after executing them.

    python tools/normalize_notebooks.py notebooks/*.ipynb           # rewrite what differs
    python tools/normalize_notebooks.py --check notebooks/*.ipynb   # exit 1 if any would change
"""
import argparse
import json
import re
import sys
from pathlib import Path

import nbformat
from jupytext.paired_paths import paired_paths

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
HEADER_NAME = re.compile(r"^(#\s+display_name:).*$", re.M)   # in the jupytext header of a .py source


def whole_floats_as_ints(value):
    """The JSON value with every float that is a whole number (3.0) written as an int (3)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_floats_as_ints(v) for v in value]
    return value


def normalized_notebook(text):
    """The notebook's file text as JupyterLab would save it after opening it."""
    nb = json.loads(text)
    nb["metadata"]["kernelspec"] = dict(KERNELSPEC)
    nb = nbformat.from_dict(whole_floats_as_ints(nb))
    return nbformat.writes(nb) + "\n"          # nbformat.write adds the same final newline


def normalized_source(text):
    """The paired text source with ipykernel's kernel name in its jupytext header."""
    header_end = text.find("\n# ---\n", 1)
    if not text.startswith("# ---\n") or header_end < 0:
        return text
    header = HEADER_NAME.sub(lambda m: f"{m.group(1)} {KERNELSPEC['display_name']}", text[:header_end])
    return header + text[header_end:]


def paired_sources(path, text):
    """The text files jupytext pairs with this notebook (from its metadata), that exist."""
    formats = json.loads(text).get("metadata", {}).get("jupytext", {}).get("formats")
    if not formats:
        return []
    pairs = paired_paths(str(path), "ipynb", formats)
    return [Path(p) for p, fmt in pairs if fmt.get("extension") != ".ipynb" and Path(p).exists()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help=".ipynb files")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    args = parser.parse_args(argv)
    changed = []
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"{path}: not an .ipynb file")
        text = path.read_text(encoding="utf-8")
        targets = [(path, text, normalized_notebook(text))]
        for source in paired_sources(path, text):
            source_text = source.read_text(encoding="utf-8")
            targets.append((source, source_text, normalized_source(source_text)))
        for target, old, new in targets:
            if new != old:
                changed.append(target)
                if not args.check:
                    target.write_text(new, encoding="utf-8")
    verb = "would change" if args.check else "normalized"
    for target in changed:
        print(f"{verb}: {target}")
    if not changed:
        print(f"{len(args.notebooks)} notebook(s) already as JupyterLab saves them")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
