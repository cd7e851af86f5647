"""Time each notebook's top-to-bottom execution in a fresh kernel and print a table.

    python3 benchmarks/bench_notebooks.py                                  # every notebooks/NN_*.ipynb
    python3 benchmarks/bench_notebooks.py notebooks/01_regression.ipynb    # only these
    python3 benchmarks/bench_notebooks.py --budget 60 notebooks/0[1-5]_*.ipynb   # exit 1 if the total > 60 s

Each notebook runs with nbclient in a new kernel, started in the notebook's own
folder (as Jupyter and nbval do); the time includes the kernel start. Nothing is
written: the notebooks on disk are left as they are, and BACKPROP_SAVE_FIGURES is
removed from the environment so that no figure is exported.
"""
import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


def default_notebooks():
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cell_seconds(nb):
    """Sum of the cells' own execution times (nbclient records them in each cell's metadata)."""
    total = 0.0
    for cell in nb.cells:
        t = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in t and "shell.execute_reply" in t:
            start, end = (datetime.fromisoformat(t[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            total += (end - start).total_seconds()
    return total


def run_one(path, timeout):
    """Execute one notebook in a fresh kernel; return (seconds, cell seconds, number of code cells, error or None)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as err:
        lines = [line for line in str(err).splitlines() if line.strip()]
        error = lines[-1] if lines else "cell execution error"
    except TimeoutError as err:     # nbclient raises a subclass of TimeoutError for a slow cell
        error = f"timeout: {err}"
    seconds = time.perf_counter() - start
    cells = sum(cell.cell_type == "code" for cell in nb.cells)
    return seconds, cell_seconds(nb), cells, error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to time (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--budget", type=float, default=None,
                        help="fail (exit 1) when the total time exceeds this many seconds")
    args = parser.parse_args(argv)

    paths = args.notebooks or default_notebooks()
    if not paths:
        parser.error("no notebooks given and none found in notebooks/")
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            parser.error(f"{p}: not an existing .ipynb file")
    os.environ.pop("BACKPROP_SAVE_FIGURES", None)

    print(f"{'notebook':<34}{'code cells':>11}{'seconds':>10}{'in cells':>10}  status")
    total, total_cells, failed = 0.0, 0.0, 0
    for p in paths:
        seconds, in_cells, cells, error = run_one(p.resolve(), args.timeout)
        total += seconds
        total_cells += in_cells
        failed += error is not None
        print(f"{p.name:<34}{cells:>11}{seconds:>10.1f}{in_cells:>10.1f}  "
              f"{'ok' if error is None else 'FAILED: ' + error}", flush=True)
    print(f"{'total':<34}{'':>11}{total:>10.1f}{total_cells:>10.1f}")
    print("seconds: wall time with a fresh kernel (start-up included); in cells: the cells' own execution time")
    if args.budget is not None:
        verdict = "within" if total <= args.budget else "OVER"
        print(f"budget {args.budget:g} s: {verdict}")
    return 1 if failed or (args.budget is not None and total > args.budget) else 0


if __name__ == "__main__":
    sys.exit(main())
