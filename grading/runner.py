"""The one batch loop of both checkers: find the submissions, run them in the sandbox, judge each
one here, keep the progress bar and the totals.

The work inside the sandbox is a task module (grading/tasks/mlp.py, grading/tasks/gd.py) run by
:class:`grading.sandbox.Pool`; what comes back is raw values, which the check module
(grading/mlp_check.py, grading/gd_check.py) turns into a :class:`grading.report.SubmissionReport`
in this process, which never imports student code.
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from grading.report import ClassReport, SubmissionReport

__all__ = ["find_submissions", "load_problem", "run_class", "pip_name", "memory_hint"]

# The pip package that provides an importable module, where the names differ.
PIP_NAMES = {"cv2": "opencv-python", "PIL": "pillow", "sklearn": "scikit-learn", "skimage": "scikit-image",
             "yaml": "pyyaml"}


def pip_name(module):
    top = module.split(".")[0]
    return PIP_NAMES.get(top, top)


# Files a student may hand in instead of the .py file: a row that says so, never silently skipped.
NOT_PYTHON = {
    ".ipynb": "{name} is a notebook, not a .py file: export it (jupyter nbconvert --to script {name}) "
              "and check the .py file it writes",
    ".zip": "{name} is a zip archive: unpack it into a folder of its own and check that folder",
}


def _holds(folder, pys, filename):
    """What a student's folder holds instead of ``filename``, with the way out for a notebook."""
    notebooks = sorted(q.name for q in folder.glob("*.ipynb"))
    if notebooks:
        return (f" (it holds the notebook {notebooks[0]}: export it with jupyter nbconvert --to script "
                f"and name the result {filename})")
    if pys:
        return f" (it holds {len(pys)} .py files: {', '.join(sorted(q.name for q in pys)[:4])})"
    names = sorted(q.name for q in folder.iterdir())[:4]
    return f" (it holds {', '.join(names)})" if names else " (it is empty)"


def find_submissions(paths, filename):
    """[(label, submit, source, problem)] for the files and folders given on the command line.

    ``submit``: what goes into the sandbox (a .py file, or a student's folder holding
    ``filename``); ``source``: the file whose text the static look reads; ``problem``: a one-line
    reason when nothing can be checked. A folder holds one .py file per student, or one subfolder
    per student with its ``filename`` (or a single .py file)."""
    found = []
    for p in map(Path, paths):
        if p.is_file() and p.suffix.lower() in NOT_PYTHON:
            found.append((str(p), None, None, NOT_PYTHON[p.suffix.lower()].format(name=p.name, filename=filename)))
        elif p.is_file():
            found.append((str(p), p, p, None))
        elif p.is_dir() and (p / filename).is_file():      # one student's folder (helper modules go in too)
            found.append((str(p / filename), p, p / filename, None))
        elif p.is_dir():
            for e in sorted(p.iterdir()):
                if e.is_file() and e.suffix == ".py" and e.name != "__init__.py":
                    found.append((str(e), e, e, None))
                elif e.is_file() and e.suffix.lower() in NOT_PYTHON:   # handed in, but not as a .py file
                    found.append((str(e), None, None, NOT_PYTHON[e.suffix.lower()].format(name=e.name,
                                                                                        filename=filename)))
                elif e.is_dir() and not e.name.startswith((".", "__")):
                    f = e / filename
                    pys = [q for q in e.glob("*.py") if q.name != "__init__.py"]
                    if f.is_file():
                        found.append((str(f), e, f, None))
                    elif len(pys) == 1:
                        found.append((str(pys[0]), pys[0], pys[0], None))
                    else:
                        found.append((str(e), None, None, f"no {filename} in {e}" + _holds(e, pys, filename)))
        else:
            found.append((str(p), None, None, f"no such file or folder: {p}"))
    return found


def memory_hint(text, memory_mib):
    if text and ("MemoryError" in text or "can't allocate memory" in text or "not enough memory" in text):
        asked = re.search(r"allocate (\d+) bytes", text)
        if asked:
            text = f"out of memory: it asked for {int(asked.group(1)) / 2**30:.1f} GiB at once"
        return f"{text} — over the memory limit of {memory_mib} MiB"
    return text


def _cuda_hint(text):
    if re.search(r"cuda|nvidia", text or "", re.IGNORECASE):
        return (f"needs CUDA ({text}); the check runs on the CPU: pick the device with "
                f"torch.device('cuda' if torch.cuda.is_available() else 'cpu')")
    return text


def load_problem(run, filename, memory_mib=2048):
    """None when the submission loaded, else the one-line 'cannot load: ...' reason."""
    if run.load == "ok":
        return None
    err = run.load_error or run.load
    if run.load == "missing_module" and run.missing_module:
        mod = run.missing_module
        if mod.split(".")[0] == "torchvision":
            return (f"cannot load: needs torchvision, which is not installed here: install the torchvision "
                    f"build that matches this torch (pip install torchvision)")
        return f"cannot load: needs {mod}, which is not installed here: pip install {pip_name(mod)}"
    if run.load == "timeout":
        return f"cannot load: {err} (an endless loop at import?)"
    if "File too large" in err or "output flood" in err:
        return f"cannot load: output flood: it printed or wrote more than the output limit ({err})"
    if run.load == "malformed":
        return f"cannot load: malformed: {err}"
    return "cannot load: " + _cuda_hint(memory_hint(err, memory_mib))


def _progress_bar(total, desc, enabled):
    if total < 2 or not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    tqdm.monitor_interval = 0
    return tqdm(total=total, desc=desc, file=sys.stderr, unit="sub", leave=False)


def default_pool(task, *, jobs, limits, sandbox):
    from grading.sandbox import Pool

    return Pool(task, jobs=jobs, limits=limits, sandbox=sandbox)


def make_limits(timeout_s, case_timeout_s, memory_mib):
    from grading.sandbox import Limits

    return Limits(timeout_s=timeout_s, case_timeout_s=case_timeout_s, memory_mib=memory_mib)


def run_class(check, paths, plan, rubric, *, jobs=0, timeout_s=60.0, case_timeout_s=10.0, memory_mib=2048,
              sandbox="auto", progress=True, pool_factory=None, limits=None, extra=None):
    """Check every submission under ``paths`` with ``check`` (a check module); a ClassReport.

    ``plan``: [(meta, case)] from the check's build_cases (the same cases for everyone).
    ``pool_factory(task, jobs=, limits=, sandbox=)``: the sandbox (default grading.sandbox.Pool)."""
    found = find_submissions(paths, check.FILENAME)
    runnable = [(i, submit) for i, (_, submit, _, problem) in enumerate(found) if problem is None]
    reports = [None] * len(found)
    for i, (label, _, _, problem) in enumerate(found):
        if problem:
            reports[i] = SubmissionReport.crashed(label, check.KIND, problem, groups=rubric.template(),
                                                  max_score=rubric.max_score)
    cases = [case for _, case in plan]
    bar = _progress_bar(len(found), f"{check.FILENAME} check", progress)
    if bar and len(runnable) < len(found):
        bar.update(len(found) - len(runnable))
    t0 = time.perf_counter()
    pool_factory = pool_factory or default_pool
    if limits is None and pool_factory is default_pool:
        limits = make_limits(timeout_s, case_timeout_s, memory_mib)
    note, used_jobs = "", jobs
    ns_errors = {}   # why a submission got no namespaces of its own -> how many
    if runnable:
        with pool_factory(check.TASK, jobs=jobs, limits=limits, sandbox=sandbox) as pool:
            note = getattr(pool, "mode_note", "")
            used_jobs = getattr(pool, "jobs", jobs) or jobs
            for k, run in pool.run([(submit, cases) for _, submit in runnable]):
                i = runnable[k][0]
                label, _, source, _ = found[i]
                reports[i] = _judge_one(check, label, run, plan, rubric, source, memory_mib)
                if getattr(run, "ns_error", ""):
                    ns_errors[run.ns_error] = ns_errors.get(run.ns_error, 0) + 1
                if bar:
                    bar.update(1)
    if bar:
        bar.close()
    for why, n in ns_errors.items() if "no PID namespace" not in note else ():
        # never silent: the header says where the sandbox was weaker than it announced
        note += (f"\nsandbox: WEAKER for {n} submission(s): no PID/user namespace of their own ({why}); "
                 f"the processes they left were killed after them, the process cap did not apply")
    wall = time.perf_counter() - t0
    return ClassReport(kind=check.KIND, submissions=reports, wall_s=wall, jobs=used_jobs or 1, sandbox_note=note,
                       rule=getattr(check, "RULE_FULL", ""), extra=dict(extra or {}))


def _judge_one(check, label, run, plan, rubric, source, memory_mib):
    """The check's judgement, or an ERROR that says the checker itself failed (never a traceback)."""
    text = None
    if source is not None:
        try:
            text = Path(source).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = None
    try:
        return check.judge(label, run, plan, rubric, source=text, memory_mib=memory_mib)
    except Exception as exc:     # a bug of ours must not cost the rest of the class its reports
        return SubmissionReport.crashed(label, check.KIND, f"the checker failed on this submission: "
                                        f"{type(exc).__name__}: {exc}", groups=rubric.template(),
                                        max_score=rubric.max_score)
