"""A minimal in-process stand-in for grading.sandbox.Pool, for unit tests of the checks only.

It imports each submission in the test process and calls the task's run_case directly (no
isolation at all), with every payload passed through JSON as the real Pool's pipe would. Use it
only on the trusted fixtures (good_*, bug_*); the production path is grading.sandbox.Pool.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CaseRun:
    id: str
    status: str
    payload: dict | None
    error: str = ""
    seconds: float = 0.0


@dataclass
class SubmissionRun:
    path: str
    load: str = "ok"
    load_error: str = ""
    missing_module: str | None = None
    cases: list = field(default_factory=list)
    stages: list = field(default_factory=list)
    stdout_tail: str = ""
    stderr_tail: str = ""
    seconds: float = 0.0


def _one_line(exc):
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}".rstrip(": ")


class StandInPool:
    mode, mode_note, jobs = "in-process", "sandbox: stand-in (tests only, no isolation)", 1

    def __init__(self, task, *, jobs=0, limits=None, sandbox="off", tamper=None):
        self.task = importlib.import_module(task)
        self.task.prepare()
        self.tamper = tamper          # optional fn(case_id, payload) -> payload, to play a forger

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        pass

    def _load(self, path):
        path = Path(path)
        if path.is_dir():
            path = path / self.task.FILENAME
        name = f"_standin_{abs(hash(str(path)))}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def run(self, items):
        for i, (path, cases) in enumerate(items):
            t0 = time.perf_counter()
            run = SubmissionRun(path=str(path))
            try:
                module = self._load(path)
            except ModuleNotFoundError as exc:
                run.load, run.load_error, run.missing_module = "missing_module", _one_line(exc), exc.name
            except BaseException as exc:
                run.load, run.load_error = "error", _one_line(exc)
            for case in cases:
                if run.load != "ok":
                    run.cases.append(CaseRun(case["id"], "not_run", None, "not loaded"))
                    continue
                c0 = time.perf_counter()
                try:
                    payload = json.loads(json.dumps(self.task.run_case(module, json.loads(json.dumps(case)))))
                    if self.tamper:
                        payload = self.tamper(case["id"], payload)
                    run.cases.append(CaseRun(case["id"], "ok", payload, "", time.perf_counter() - c0))
                except BaseException as exc:
                    run.cases.append(CaseRun(case["id"], "raised", None, _one_line(exc), time.perf_counter() - c0))
            run.seconds = time.perf_counter() - t0
            yield i, run
