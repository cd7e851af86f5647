"""Run students' code in a sandbox, many submissions per warm process: the grader's process layer.

**What the sandbox covers** (mode ``"bubblewrap"``, the default on Linux where it works). Per job
slot one worker (:mod:`grading.zygote`) runs inside bubblewrap (``bwrap --unshare-all``):

* no network (its own, empty, network namespace: not even 127.0.0.1 of the host);
* a filesystem view of only /usr, the Python installation and, of the project, the worker, the
  wire format and the task modules (for gd also the model's code and weights), all read-only, plus
  a private ``/tmp`` and its own ``/proc`` and ``/dev``: the TA's folder, the class folder, the
  other submissions, the checks, the solutions and the home directory are not there;
* uid 65534 (nobody) inside its own user namespace, no capabilities, a new session;
* for each submission a fresh child in a new user + PID + mount namespace: the student's code is
  PID 1 of its namespace, so it cannot signal the grader or the worker, and when it ends the kernel
  kills whatever it left (``setsid()`` children included); its ``/tmp`` is private and discarded;
* rlimits: address space (``Limits.memory_mib``), file size (``output_bytes``: a flood of prints or
  a huge file stops it), CPU time; stdout/stderr go to size-capped files; every inherited file
  descriptor is closed except its message pipe;
* a time budget per case (``case_timeout_s`` or the case's ``budget_s``) and per submission
  (``timeout_s``): a case that hangs is ``"timeout"``, the child is killed and a fresh one goes on
  with the next case (at most 3 re-forks per submission);
* strict messages: JSON lines of known keys and types under a size cap (:func:`grading.zygote.
  parse_child_message`); anything else is ``"malformed"``. The child sends raw values only; the
  caller decides, in this process, which never imports student code.

**What it does not cover.** Kernel bugs (bubblewrap is a well-kept tool, not a virtual machine);
seeing the worker's process in the sandbox's /proc (it cannot signal or trace it: another PID
namespace, and the worker is not dumpable);
reading /usr, the Python installation and the task modules (read-only, and no secret);
using the CPU and memory it is given, up to its limits; a submission that forges its own outputs
(it is graded on them anyway).

**Fallback** (mode ``"fork"``, where bubblewrap or user namespaces are missing: macOS, some
containers such as Gradescope's): the same worker runs as a plain process. Each submission still
gets its own process, the rlimits, the budgets, the strict messages and (where the kernel allows)
its own PID namespace and private /tmp; as root it drops to uid 65534 before importing student
code (unless that uid cannot read the Python installation: then it stays root, and says so). It
can read the files its uid can read and use the network. :attr:`Pool.mode_note` says so,
and the report prints it in its header.
"""
from __future__ import annotations

import base64
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

__all__ = ["Limits", "CaseRun", "SubmissionRun", "Pool", "SandboxError", "sandbox_mode", "available_cores"]

PROJECT = Path(__file__).resolve().parent.parent
# What of the project the sandbox shows (read-only): the worker, the wire format and the task
# modules; not the checks, the rubric, lab/ or the solutions. A task module adds what it needs in
# SANDBOX_PATHS (gd: the model's code and weights).
SANDBOX_PATHS = ("grading/__init__.py", "grading/zygote.py", "grading/wire.py", "grading/tasks")
TASK_PATHS = {"grading.tasks.gd": ("dream/__init__.py", "dream/data.py", "dream/models.py", "models")}
# Package files shown EMPTY inside the sandbox: dream/__init__.py imports the whole library (the
# rendering code included); the gd task needs only dream.models and dream.data.
EMPTY_IN_SANDBOX = ("dream/__init__.py",)
INSIDE_PROJECT = "/opt/backprop"
WORKSPACE = "/sandbox"
START_TIMEOUT_S = 120.0        # the worker's prepare() (torch, the gd model) on a busy machine
GRACE_S = 15.0                 # the worker's own backstop runs first; this one is for a wedged worker
RESULT_CAP = 64 * 2**20
LOAD_STATES = ("ok", "missing_module", "error", "timeout", "killed", "malformed")
CASE_STATES = ("ok", "raised", "timeout", "killed", "malformed", "not_run")


class SandboxError(RuntimeError):
    """The sandbox was required (``sandbox="on"``) but cannot run here, or a worker cannot start."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 60.0          # backstop: one submission, all cases
    case_timeout_s: float = 10.0     # default budget of one case; a case dict may carry "budget_s"
    memory_mib: int = 2048
    output_bytes: int = 8 * 2**20    # captured stdout/stderr, any file written
    message_bytes: int = 32 * 2**20  # one message from the child; larger -> malformed
    files_bytes: int = 4 * 2**20     # the submission's files sent into the sandbox
    processes: int = 128             # processes and threads of one submission (RLIMIT_NPROC)
    scratch_mib: int = 64            # each writable tmpfs in bubblewrap (its folder, /tmp, /dev/shm)


@dataclass
class CaseRun:
    id: str
    status: str          # "ok" | "raised" | "timeout" | "killed" | "malformed" | "not_run"
    payload: dict | None # the JSON object run_case returned (framing checked only)
    error: str           # one line
    seconds: float


@dataclass
class SubmissionRun:
    path: str
    load: str                 # "ok" | "missing_module" | "error" | "timeout" | "killed" | "malformed"
    load_error: str
    missing_module: str | None
    cases: list[CaseRun]
    stages: list[str] = field(default_factory=list)
    stdout_tail: str = ""
    stderr_tail: str = ""
    seconds: float = 0.0
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    ns_error: str = ""        # why this submission got no namespaces of its own ("" = it did)


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not Linux
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------- which mode

_MODE_CACHE: dict[str, tuple[str, str]] = {}

BWRAP_NOTE = ("sandbox: bubblewrap (no network, private filesystem, own PID namespace per submission, "
              "uid nobody)")


def sandbox_mode(requested: str = "auto") -> tuple[str, str]:
    """("bubblewrap", note) or ("fork", note). ``"on"`` raises :class:`SandboxError` if bubblewrap
    cannot run here; ``"off"`` is the fallback on purpose."""
    if requested not in ("auto", "on", "off"):
        raise ValueError(f"sandbox must be 'auto', 'on' or 'off', not {requested!r}")
    if requested == "off":
        return "fork", _fork_note("sandbox='off'")
    why = _bubblewrap_problem()
    if not why:
        return "bubblewrap", BWRAP_NOTE
    if requested == "on":
        raise SandboxError(f"the sandbox was required but cannot run here: {why}. "
                           f"Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow "
                           f"unprivileged user namespaces, or use sandbox='auto'/'off'.")
    return "fork", _fork_note(why)


def _fork_note(why: str) -> str:
    who = ("drops to uid nobody" if _can_drop_root() else "runs as root (the Python installation is not "
           "readable by uid nobody)") if os.geteuid() == 0 else "runs as you"
    ns = _namespace_problem()
    pids = ("its own PID namespace and /tmp" if not ns else
            f"no PID namespace ({ns}): the processes it leaves are killed after it")
    return (f"sandbox: OFF — isolation only ({why}): each submission runs in its own process with time, "
            f"memory and output limits, {pids}, and {who}, but can read your files and use the network")


def _namespace_problem() -> str:
    """'' if a plain process here can make the PID + mount namespaces the fork mode uses, else why not."""
    if "ns" in _MODE_CACHE:
        return _MODE_CACHE["ns"][1]
    flags = "0x20000000|0x00020000" + ("" if os.geteuid() == 0 else "|0x10000000")
    probe = (f"import ctypes,os; l=ctypes.CDLL(None,use_errno=True); f=getattr(l,'unshare',None); "
             f"r=f({flags}) if f else -1; print('ok' if r==0 else 'unshare refused: '+os.strerror(ctypes.get_errno()))")
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, timeout=30)
        why = "" if done.stdout.strip() == "ok" else (done.stdout.strip() or done.stderr.strip())[-200:]
    except (OSError, subprocess.TimeoutExpired) as exc:
        why = f"probe failed: {exc}"
    _MODE_CACHE["ns"] = ("", why)
    return why


def _bubblewrap_problem() -> str:
    """'' if bubblewrap runs a nested user+PID+mount namespace here, else why not (cached)."""
    if "probe" in _MODE_CACHE:
        return _MODE_CACHE["probe"][1]
    if not sys.platform.startswith("linux"):
        why = f"bubblewrap needs Linux, this is {sys.platform}"
    elif not shutil.which("bwrap"):
        why = "bwrap not found"
    else:
        probe = ("import ctypes,os; l=ctypes.CDLL(None,use_errno=True); "
                 "r=l.unshare(0x10000000|0x20000000|0x00020000); "
                 "print('ok' if r==0 else 'unshare: '+os.strerror(ctypes.get_errno()))")
        try:
            done = subprocess.run(bwrap_command(["-c", probe]), capture_output=True, text=True, timeout=30)
            lines = done.stdout.strip().splitlines()
            why = "" if lines[-1:] == ["ok"] else (
                "bubblewrap refused to start: " + (done.stderr.strip().splitlines() or lines or ["?"])[-1][:200])
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = f"bubblewrap failed: {exc}"
    _MODE_CACHE["probe"] = ("", why)
    return why


def _can_drop_root() -> bool:
    """As root in fork mode: can uid nobody read the Python installation (every folder above it)?"""
    for place in {Path(sys.prefix).resolve(), Path(sys.executable).resolve().parent, PROJECT}:
        for folder in [place, *place.parents]:
            try:
                if not folder.stat().st_mode & 0o001:
                    return False
            except OSError:
                return False
    return True


def _python_roots() -> list[str]:
    """Folders that hold the Python installation (mounted read-only in the sandbox)."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent}
    for entry in sys.path:
        p = Path(entry or ".").resolve()
        if "-packages" in str(p) and p.is_dir():
            roots.add(p)
    roots = sorted(str(r) for r in roots if not str(r).startswith("/usr/") and str(r) != "/usr")
    kept = []
    for r in roots:   # drop those inside another
        if not any(r.startswith(k + "/") for k in kept):
            kept.append(r)
    return kept


def task_paths(task: str) -> tuple[str, ...]:
    """The project paths a task needs inside the sandbox (its SANDBOX_PATHS, read in this process)."""
    import importlib
    try:
        module = importlib.import_module(task)
    except ImportError:
        return ()
    return tuple(getattr(module, "SANDBOX_PATHS", TASK_PATHS.get(task, ())))


def bwrap_command(python_args: list[str], extra_paths: tuple[str, ...] = (), scratch_mib: int = 64) -> list[str]:
    """The bubblewrap command line that runs ``python python_args`` in the sandbox. Every writable
    place is a tmpfs of ``scratch_mib`` (an unsized tmpfs may grow to half the machine's memory)."""
    size = ["--size", str(int(scratch_mib) * 2**20)]
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--uid", "65534", "--gid", "65534",
           "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/" + name)
        if host.is_symlink():
            cmd += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            cmd += ["--ro-bind", str(host), f"/{name}"]
    for name in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime"):
        cmd += ["--ro-bind-try", name, name]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
    for rel in SANDBOX_PATHS + tuple(extra_paths):
        if rel in EMPTY_IN_SANDBOX:
            cmd += ["--ro-bind", os.devnull, f"{INSIDE_PROJECT}/{rel}"]
        elif (PROJECT / rel).exists():
            cmd += ["--ro-bind", str(PROJECT / rel), f"{INSIDE_PROJECT}/{rel}"]
    cmd += ["--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/dev/shm", *size, "--tmpfs", "/tmp",
            *size, "--tmpfs", WORKSPACE,
            "--remount-ro", "/", "--chdir", WORKSPACE, "--clearenv"]
    for key, value in _worker_env(INSIDE_PROJECT, "/tmp").items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", str(Path(sys.executable).resolve()), "-s", "-B", *python_args]


def _worker_env(pythonpath: str, home: str) -> dict:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": pythonpath,
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "MPLBACKEND": "Agg"}


# ---------------------------------------------------------------- one worker

class Worker:
    """One warm zygote (in bubblewrap or a plain process) and the job it is serving."""

    def __init__(self, task: str, mode: str, limits: Limits):
        self.task, self.mode, self.limits = task, mode, limits
        self.scratch = None
        args = ["-m", "grading.zygote", "--task", task]
        if mode == "bubblewrap":
            cmd = bwrap_command(args + ["--workspace", WORKSPACE, "--bubblewrap"], task_paths(task),
                                limits.scratch_mib)
            env, cwd = None, None
        else:
            self.scratch = tempfile.mkdtemp(prefix="backprop-sandbox-", dir=_fork_scratch_parent())
            os.chmod(self.scratch, 0o711)
            extra = [] if _can_drop_root() else ["--keep-uid"]
            cmd = [sys.executable, "-s", "-B", *args, "--workspace", self.scratch, *extra]
            env, cwd = _worker_env(str(PROJECT), self.scratch), self.scratch
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     env=env, cwd=cwd, start_new_session=True, close_fds=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = b""
        self.ready = False
        self.job = None            # (index, path, cases, started, deadline)
        self.deadline = time.monotonic() + START_TIMEOUT_S

    def fileno(self) -> int:
        return self.proc.stdout.fileno()

    def send(self, index: int, path: str, files: dict, cases: list[dict]) -> None:
        job = {"op": "run", "files": files, "cases": cases, "limits": _limits_dict(self.limits)}
        now = time.monotonic()
        self.job = (index, path, cases, now)
        self.deadline = now + self.limits.timeout_s + GRACE_S
        self.proc.stdin.write((json.dumps(job) + "\n").encode())
        self.proc.stdin.flush()

    def read_events(self) -> list[dict]:
        """Complete JSON lines the worker wrote (raises SandboxError on a broken stream)."""
        try:
            chunk = os.read(self.fileno(), 1 << 20)
        except (BlockingIOError, InterruptedError):
            chunk = None
        if chunk == b"":
            raise SandboxError("the worker ended")
        self.buf += chunk or b""
        if len(self.buf) > RESULT_CAP:
            raise SandboxError("the worker sent an oversized line")
        *lines, self.buf = self.buf.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def stderr_tail(self) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - 600))
            return self.stderr.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def kill(self) -> None:
        """Kill the worker and everything in its sandbox (bwrap --die-with-parent does the rest)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.stderr.close()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def close(self) -> None:
        try:
            self.proc.stdin.write(b'{"op": "exit"}\n')
            self.proc.stdin.flush()
            self.proc.wait(timeout=5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _limits_dict(limits: Limits) -> dict:
    return {k: getattr(limits, k) for k in Limits.__dataclass_fields__}


def _fork_scratch_parent() -> str | None:
    """Fork mode keeps its folders out of /tmp (the child gets a private /tmp mounted over it)."""
    for place in ("/var/tmp", "/dev/shm"):
        if os.path.isdir(place) and os.access(place, os.W_OK):
            return place
    return None


# ---------------------------------------------------------------- reading a submission's files

def submission_files(path: Path, filename: str, cap: int) -> dict:
    """{name: base64} of what goes into the sandbox: the file (as ``filename``), or a folder's files."""
    if path.is_file():
        entries = [(filename, path)]
    elif path.is_dir():
        entries = sorted((p.name, p) for p in path.iterdir()
                         if p.is_file() and not p.name.startswith(".") and p.suffix != ".pyc")
    else:
        raise FileNotFoundError(f"no such file or folder: {path}")
    total, files = 0, {}
    for name, p in entries:
        total += p.stat().st_size
        if total > cap:
            raise ValueError(f"the submission's files are over {cap} bytes (the cap on what goes into the sandbox)")
        files[name] = base64.b64encode(p.read_bytes()).decode()
    return files


def _not_loaded(path: str, cases: list[dict], load: str, why: str, seconds: float = 0.0) -> SubmissionRun:
    runs = [CaseRun(str(c.get("id", i)) if isinstance(c, dict) else str(i), "not_run", None,
                    f"not run: {why}", 0.0) for i, c in enumerate(cases)]
    return SubmissionRun(path=path, load=load, load_error=why, missing_module=None, cases=runs, seconds=seconds)


# ---------------------------------------------------------------- checking the worker's result

class _Bad(ValueError):
    pass


def _want(d: dict, key: str, types) -> object:
    """d[key], which must be of ``types`` (never a bool)."""
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, types):
        raise _Bad(f"field {key!r} missing or of the wrong type")
    return value


def parse_result(path: str, cases: list[dict], run: dict) -> SubmissionRun:
    """The worker's result as a SubmissionRun, every field checked (it is our code, but in a sandbox)."""
    if not isinstance(run, dict):
        raise _Bad("result is not an object")
    load = _want(run, "load", str)
    if load not in LOAD_STATES:
        raise _Bad(f"load state {load!r}")
    raw_cases = _want(run, "cases", list)
    if len(raw_cases) != len(cases):
        raise _Bad(f"{len(raw_cases)} case results for {len(cases)} cases")
    out = []
    for c in raw_cases:
        if not isinstance(c, dict) or _want(c, "status", str) not in CASE_STATES:
            raise _Bad("a case result of unknown form")
        payload = c.get("payload")
        if payload is not None and not isinstance(payload, dict):
            raise _Bad("a payload that is not an object")
        out.append(CaseRun(_want(c, "id", str), c["status"], payload, _want(c, "error", str)[:400],
                           float(_want(c, "seconds", (int, float)))))
    missing = run.get("missing_module")
    return SubmissionRun(path=path, load=load, load_error=_want(run, "load_error", str)[:400],
                         missing_module=missing if isinstance(missing, str) else None, cases=out,
                         stages=[s for s in _want(run, "stages", list) if isinstance(s, str)],
                         stdout_tail=_want(run, "stdout_tail", str), stderr_tail=_want(run, "stderr_tail", str),
                         seconds=float(_want(run, "seconds", (int, float))),
                         stdout_bytes=int(_want(run, "stdout_bytes", int)),
                         stderr_bytes=int(_want(run, "stderr_bytes", int)),
                         ns_error=str(run.get("ns_error") or "")[:200])


# ---------------------------------------------------------------- the pool

class Pool:
    """``jobs`` warm workers running one task module; :meth:`run` yields results as they finish."""

    def __init__(self, task: str, *, jobs: int = 0, limits: Limits = Limits(), sandbox: str = "auto"):
        self.task, self.limits = task, limits
        self.jobs = jobs or available_cores()
        self.mode, self.mode_note = sandbox_mode(sandbox)
        self.filename = None
        self.workers: list[Worker] = []
        self._sel = selectors.DefaultSelector()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for w in list(self.workers):
            self._drop(w, polite=True)
        self._sel.close()

    # -- workers
    def _start_worker(self) -> Worker:
        w = Worker(self.task, self.mode, self.limits)
        self.workers.append(w)
        self._sel.register(w.fileno(), selectors.EVENT_READ, w)
        return w

    def _drop(self, w: Worker, polite: bool = False) -> None:
        try:
            self._sel.unregister(w.fileno())
        except (KeyError, ValueError, OSError):
            pass
        (w.close if polite else w.kill)()
        if w in self.workers:
            self.workers.remove(w)

    def _wait_ready(self, wanted: int) -> None:
        """Start workers until ``wanted`` are up; a worker that cannot prepare is an error."""
        while len(self.workers) < wanted:
            self._start_worker()
        while not all(w.ready for w in self.workers):
            for key, _ in self._sel.select(timeout=0.5):
                self._on_event(key.data)
            list(self._check_deadlines())

    def _fail_start(self, w: Worker, why: str) -> None:
        tail = w.stderr_tail()
        self._drop(w)
        raise SandboxError(f"the {self.mode} worker for {self.task} could not start: {why}"
                           + (f"\n{tail}" if tail else ""))

    # -- the batch
    def run(self, items: Iterable[tuple[str | Path, list[dict]]]) -> Iterator[tuple[int, SubmissionRun]]:
        """Yield (input index, SubmissionRun) as each submission finishes; every input gets one."""
        pending = list(enumerate(items))
        if not pending:
            return
        self._wait_ready(min(self.jobs, len(pending)))
        while pending or any(w.job for w in self.workers):
            for w in list(self.workers):
                while pending and w.ready and w.job is None:
                    index, (path, cases) = pending.pop(0)
                    early = self._send(w, index, path, cases)
                    if early:
                        yield early
            for key, _ in self._sel.select(timeout=0.2):
                done = self._on_event(key.data)
                if done:
                    yield done
            yield from self._check_deadlines()
            busy = sum(1 for w in self.workers if w.job)
            if pending and len(self.workers) < min(self.jobs, len(pending) + busy):
                self._start_worker()          # a replacement for a worker that was killed

    def _send(self, w, index, path, cases):
        """Hand one submission to an idle worker; a submission that cannot be read is answered at once."""
        try:
            files = submission_files(Path(path), self.filename, self.limits.files_bytes)
        except (OSError, ValueError) as exc:
            return index, _not_loaded(str(path), cases, "error", str(exc))
        try:
            w.send(index, str(path), files, cases)
        except OSError:
            w.job = (index, str(path), cases, time.monotonic())
            return self._lost(w, "killed", "the sandbox worker ended before it took the submission")
        return None

    def _on_event(self, w: Worker):
        """Read what a worker wrote: 'ready', 'error' (while starting) or a submission's result."""
        try:
            events = w.read_events()
        except (SandboxError, ValueError) as exc:
            if w.job:
                return self._lost(w, "killed", f"the sandbox worker failed ({exc})")
            if not w.ready:
                self._fail_start(w, str(exc))
            self._drop(w)
            return None
        for ev in events:
            kind = ev.get("ev") if isinstance(ev, dict) else None
            if kind == "ready" and isinstance(ev.get("filename"), str):
                w.ready, self.filename, w.deadline = True, ev["filename"], float("inf")
            elif kind == "error" and not w.ready:
                self._fail_start(w, str(ev.get("error"))[:300])
            elif kind == "result" and w.job:
                index, path, cases, started = w.job
                w.job = None
                w.deadline = float("inf")
                try:
                    run = parse_result(path, cases, ev.get("run"))
                except (_Bad, TypeError, ValueError) as exc:
                    run = _not_loaded(path, cases, "malformed", f"the worker's result was malformed ({exc})")
                run.seconds = round(time.monotonic() - started, 4)
                return index, run
        return None

    def _check_deadlines(self):
        """A worker that does not get ready, or does not answer within the backstop, is killed."""
        now = time.monotonic()
        for w in list(self.workers):
            if now <= w.deadline:
                continue
            if not w.ready:
                self._fail_start(w, f"the worker did not get ready in {START_TIMEOUT_S:g} s")
            elif w.job:
                yield self._lost(w, "timeout", f"the sandbox worker did not answer within "
                                 f"{self.limits.timeout_s + GRACE_S:g} s; killed")

    def _lost(self, w: Worker, load: str, why: str):
        """The worker died or hung with a submission: answer it; a replacement starts if needed."""
        index, path, cases, started = w.job
        w.job = None
        self._drop(w)
        return index, _not_loaded(path, cases, load, why, round(time.monotonic() - started, 4))
