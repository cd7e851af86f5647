"""Run each submission in its own process: isolation for a TA's checker, not a security sandbox.

The calling process imports torch (and whatever else the check needs) once; then for every
submission it ``os.fork()``s a child, which inherits those imports for free (a warm start, a few
tens of milliseconds instead of seconds), and runs up to ``jobs`` children at once. Each child:

* gets a fresh temporary working directory (``HOME`` too; ``TMPDIR`` is a second one), a minimal
  environment, stdin from /dev/null, and its stdout/stderr written to files that the parent
  summarises afterwards;
* runs under a memory limit (``RLIMIT_AS``: the address space it inherited plus ``mem_mib``),
  a limit on the size of any file it writes (``RLIMIT_FSIZE``, which also stops a flood of
  prints), and a CPU-time limit as a backstop; the parent kills its whole process group when the
  wall-clock ``timeout`` passes;
* imports the submission from a private copy (so ``__file__`` points into the temp directory and
  no ``__pycache__`` appears beside the original), under ``sys.dont_write_bytecode``;
* sends its results to the parent as JSON lines over a pipe: ``{"stage": ...}`` while it works
  (so a hang can be located) and one ``{"result": ...}`` at the end.

The verdict is read from those structured messages only, never from the child's exit status: a
submission that calls ``sys.exit(0)`` or ``os._exit(0)`` does not "pass", it produced no result.

This is isolation from accidents (a stray ``while True``, a print in a loop, a file written with a
relative path, a ``sys.exit`` left at the bottom of a file), **not** a security sandbox: the child
runs as the same user, can open absolute paths and use the network. Run code you do not trust
inside a container or a throw-away virtual machine.
"""
from __future__ import annotations

import io
import json
import os
import resource
import selectors
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Outcome", "run_isolated", "one_line", "available_cores", "DECOY_NAME", "MissingModule",
           "load_submission", "pip_name"]

DECOY_NAME = "checker-decoy.txt"          # put in every child's working directory; deleting it is reported
OUTPUT_LIMIT = 8 * 2**20                  # bytes per captured stream / per file written (RLIMIT_FSIZE)
TAIL_CHARS = 400                          # how much of stdout/stderr the summary keeps
# The pip package that provides an importable module, where the names differ.
PIP_NAMES = {"cv2": "opencv-python", "PIL": "pillow", "sklearn": "scikit-learn", "skimage": "scikit-image",
             "yaml": "pyyaml"}


def pip_name(module):
    top = module.split(".")[0]
    return PIP_NAMES.get(top, top)


def one_line(exc):
    """An exception as 'Type: first line of its message' (SystemExit: 'sys.exit(code) called')."""
    if isinstance(exc, SystemExit):
        return f"sys.exit({exc.code!r}) called"
    if isinstance(exc, KeyboardInterrupt):
        return "KeyboardInterrupt raised"
    msg = str(exc).strip().splitlines()
    first = msg[0] if msg else ""
    if len(first) > 160:
        first = first[:157] + "..."
    return f"{type(exc).__name__}: {first}".rstrip(": ")


def available_cores():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not Linux
        return max(1, os.cpu_count() or 1)


class MissingModule(Exception):
    """The submission imports a module that is not installed (raised by load_submission)."""

    def __init__(self, module):
        self.module = module
        super().__init__(f"it imports {module!r}, which is not installed here: pip install {pip_name(module)}")


def load_submission(path, name="submission", extra_path=()):
    """Import the file at ``path`` as a module called ``name`` (in the child, after the copy).
    ``extra_path``: folders appended to sys.path so that helper modules beside the original file
    import. A missing third-party module becomes :class:`MissingModule`."""
    import importlib.util

    path = Path(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    sys.path.extend(str(p) for p in extra_path)
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and not Path(path.parent, exc.name.split(".")[0] + ".py").exists():
            raise MissingModule(exc.name) from exc
        raise
    return module


@dataclass
class Outcome:
    """What the parent knows about one child once it is over."""

    path: str
    result: dict | None = None        # the child's {"result": ...} message, None if it never came
    stage: str | None = None          # the last stage the child announced
    reason: str | None = None         # one line, when there is no result (timeout, exit, signal)
    seconds: float = 0.0
    exit_status: str = ""             # 'exit 0', 'signal SIGKILL', ... (information only)
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    stdout_tail: str = ""
    stderr_tail: str = ""
    stdout_path: str = ""
    stderr_path: str = ""
    files_written: list = field(default_factory=list)   # names left in the temp working directory
    decoy_deleted: bool = False
    partial: list = field(default_factory=list)   # {"partial": ...} messages, in order (work done so far)
    unenforced: list = field(default_factory=list)   # limits this platform refused (reported as a note)
    stdout_text: str = ""             # the whole captured stream (up to 200 kB), with full_output=True
    stderr_text: str = ""

    def notes(self):
        """One-line notes on what the child did besides its result (output, files, refused limits)."""
        notes = []
        if self.output_summary():
            notes.append(self.output_summary())
        if self.files_written:
            notes.append(f"wrote {len(self.files_written)} file(s) in its working directory (a temp dir, "
                         f"discarded): {', '.join(self.files_written[:5])}")
        if self.decoy_deleted:
            notes.append("deleted files in its working directory (a temp dir: the TA's folder is never its cwd)")
        if self.unenforced:
            notes.append(f"limits not enforced on this platform: {'; '.join(self.unenforced)}")
        return notes

    def output_summary(self):
        """'' or one line: how much the submission printed, and its last line."""
        parts = []
        for label, n, tail in (("stdout", self.stdout_bytes, self.stdout_tail),
                               ("stderr", self.stderr_bytes, self.stderr_tail)):
            if n:
                last = next((ln for ln in reversed(tail.splitlines()) if ln.strip()), "")
                parts.append(f"{label} {_size(n)}" + (f" (last line: {last[:80]!r})" if last else ""))
        return "printed " + "; ".join(parts) if parts else ""

    def to_json(self):
        d = asdict(self)
        d.pop("stdout_path")
        d.pop("stderr_path")
        return d


def _size(n):
    return f"{n} B" if n < 1024 else f"{n / 1024:.0f} KiB" if n < 2**20 else f"{n / 2**20:.1f} MiB"


def _vm_size():
    """This process's address space in bytes (the starting point of the memory limit)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _minimal_env(home, tmp):
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HOME=home, TMPDIR=tmp, TMP=tmp, TEMP=tmp, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="", PYTHONDONTWRITEBYTECODE="1",
               MPLBACKEND="Agg")
    return env


def _child(job, target, write_fd, dirs, mem_mib, cpu_s, output_limit):
    """Runs in the forked child: set the limits and the directory, run target, report, _exit."""
    status = 70
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            out = os.open(dirs[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, fd)
            os.close(out)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True, errors="replace")
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True, errors="replace")
        os.chdir(dirs["cwd"])
        os.environ.clear()
        os.environ.update(_minimal_env(dirs["cwd"], dirs["tmp"]))
        tempfile.tempdir = dirs["tmp"]
        sys.dont_write_bytecode = True
        sys.argv = [dirs["src"]]
        vm = _vm_size()
        unenforced = [] if vm or not mem_mib else ["memory (no /proc/self/status to measure from)"]
        limits = [(resource.RLIMIT_FSIZE, output_limit, output_limit)]
        if mem_mib and vm:      # without /proc (macOS) the baseline is unknown: no memory limit there
            limits.append((resource.RLIMIT_AS, vm + mem_mib * 2**20, vm + mem_mib * 2**20))
        if cpu_s:
            limits.append((resource.RLIMIT_CPU, int(cpu_s), int(cpu_s) + 5))
        for what, soft, hard in limits:
            try:
                resource.setrlimit(what, (soft, hard))
            except (ValueError, OSError) as exc:   # a platform that refuses one limit keeps the others
                unenforced.append(f"resource {what} ({one_line(exc)})")
        try:
            import torch
            torch.set_num_threads(1)
        except ImportError:
            pass
        pipe = os.fdopen(write_fd, "w", buffering=1)

        def send(msg):
            pipe.write(json.dumps(msg, default=str) + "\n")
            pipe.flush()

        if unenforced:
            send({"unenforced": unenforced})

        try:
            result = target(job, dirs["src"], send)
        except BaseException as exc:   # a bug in the check itself, or a submission escaping it
            result = None
            send({"crash": one_line(exc), "traceback": traceback.format_exc()[-2000:]})
        if result is not None:
            send({"result": result})
        status = 0
        pipe.close()
    except BaseException:   # the child never returns into the parent's code, whatever happens
        try:
            traceback.print_exc()
        except BaseException:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(status)


def _tail(path, n=TAIL_CHARS):
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            fh.seek(max(0, size - n))
            return size, fh.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


def _describe_status(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"signal {signal.Signals(sig).name}"
        except ValueError:
            return f"signal {sig}"
    return f"exit {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else f"status {status}"


def _no_result_reason(out, status, timed_out, timeout, mem_mib, output_limit):
    where = f" (during {out.stage})" if out.stage else ""
    if timed_out:
        return f"time limit of {timeout:g} s exceeded{where}: an endless loop, or far too slow"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXFSZ or max(out.stdout_bytes, out.stderr_bytes) >= output_limit:
            return (f"output flood: it printed or wrote more than {_size(output_limit)}{where}; "
                    f"stopped (see --show-output)")
        if sig == signal.SIGXCPU:
            return f"CPU-time limit exceeded{where}"
        name = _describe_status(status).replace("signal ", "")
        hint = f" (memory limit {mem_mib} MiB?)" if sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) and mem_mib else ""
        return f"the process was killed by {name}{where}{hint}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return (f"the process ended (exit status {code}){where} before the checker could report: "
            f"the submission calls os._exit() or kills its own process")


def run_isolated(jobs, target, *, timeout=60.0, mem_mib=2048, parallel=None, output_limit=OUTPUT_LIMIT,
                 progress=None, keep_dirs=False, full_output=False):
    """Run ``target(job, src_path, send) -> dict`` for each job in its own forked child.

    ``jobs``: list of dicts with at least ``path`` (the submission file) and optionally
    ``extra_path`` (folders to append to sys.path). The file is copied to a private folder;
    ``src_path`` is that copy. ``send(dict)`` reports progress (``{"stage": text}``) or anything
    else (``{"partial": data}`` is kept in ``Outcome.partial``, so work done before a timeout is not
    lost); the returned dict is the result. Returns a list of :class:`Outcome`, in the jobs' order.
    ``progress``: called with each finished Outcome (e.g. to advance a progress bar).
    """
    parallel = parallel or available_cores()
    root = Path(tempfile.mkdtemp(prefix="backprop-check-"))
    outcomes = [None] * len(jobs)
    pending = list(range(len(jobs)))
    running = {}                       # pid -> dict(index, fd, buf, start, outcome, dirs)
    sel = selectors.DefaultSelector()
    try:
        while pending or running:
            while pending and len(running) < parallel:
                i = pending.pop(0)
                running_entry = _start(i, jobs[i], target, root, timeout, mem_mib, output_limit)
                running[running_entry["pid"]] = running_entry
                sel.register(running_entry["fd"], selectors.EVENT_READ, running_entry["pid"])
            for key, _ in sel.select(timeout=0.02):
                _drain(running[key.data])
            now = time.monotonic()
            for pid, entry in list(running.items()):
                done, status = _poll(pid)
                timed_out = False
                if not done and now - entry["start"] > timeout:
                    _kill_group(pid)
                    _, status = os.waitpid(pid, 0)
                    done, timed_out = True, True
                if done:
                    _kill_group(pid)          # grandchildren it may have left
                    _drain(entry, final=True)
                    sel.unregister(entry["fd"])
                    os.close(entry["fd"])
                    del running[pid]
                    out = _finish(entry, status, timed_out, timeout, mem_mib, output_limit, now)
                    if full_output:
                        out.stdout_text, out.stderr_text = read_output(out.stdout_path), read_output(out.stderr_path)
                    outcomes[entry["index"]] = out
                    if progress:
                        progress(out)
    finally:
        for pid, entry in running.items():   # interrupted (Ctrl-C): leave no child behind
            _kill_group(pid)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        sel.close()
        if not keep_dirs:
            shutil.rmtree(root, ignore_errors=True)
    return outcomes


def _start(index, job, target, root, timeout, mem_mib, output_limit):
    base = root / f"{index:04d}"
    dirs = {k: str(base / k) for k in ("cwd", "out", "src", "tmp")}
    for d in dirs.values():
        os.makedirs(d)
    src_file = Path(dirs["src"]) / Path(job["path"]).name
    shutil.copyfile(job["path"], src_file)
    Path(dirs["cwd"], DECOY_NAME).write_text("The checker put this file here; a submission should leave it alone.\n")
    dirs.update(stdout=str(base / "out" / "stdout.txt"), stderr=str(base / "out" / "stderr.txt"),
                src=str(src_file))
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(job, target, write_fd, dirs, mem_mib, timeout + 5, output_limit)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    try:
        os.setpgid(pid, pid)          # (the child does it too; whichever runs first)
    except OSError:
        pass
    return dict(pid=pid, index=index, fd=read_fd, buf=b"", start=time.monotonic(), dirs=dirs,
                outcome=Outcome(path=str(job["path"])))


def _drain(entry, final=False):
    """Read what the child sent; keep the last stage and the result."""
    while True:
        try:
            chunk = os.read(entry["fd"], 1 << 16)
        except BlockingIOError:
            break
        except OSError:
            break
        if not chunk:
            break
        entry["buf"] += chunk
    lines = entry["buf"].split(b"\n")
    entry["buf"] = lines.pop()          # an incomplete last line waits for more
    out = entry["outcome"]
    for line in lines:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "stage" in msg:
            out.stage = msg["stage"]
        if "result" in msg:
            out.result = msg["result"]
        if "partial" in msg:
            out.partial.append(msg["partial"])
        if "unenforced" in msg:
            out.unenforced = list(msg["unenforced"])
        if "crash" in msg:
            out.reason = f"the checker failed inside the child: {msg['crash']}"
            out.result = None


def _poll(pid):
    try:
        wpid, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True, 0
    return wpid == pid, status


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _finish(entry, status, timed_out, timeout, mem_mib, output_limit, now):
    out, dirs = entry["outcome"], entry["dirs"]
    out.seconds = round(now - entry["start"], 3)
    out.exit_status = _describe_status(status)
    out.stdout_bytes, out.stdout_tail = _tail(dirs["stdout"])
    out.stderr_bytes, out.stderr_tail = _tail(dirs["stderr"])
    out.stdout_path, out.stderr_path = dirs["stdout"], dirs["stderr"]
    cwd = Path(dirs["cwd"])
    out.decoy_deleted = not (cwd / DECOY_NAME).exists()
    out.files_written = sorted(p.name for p in cwd.iterdir() if p.name != DECOY_NAME) if cwd.is_dir() else []
    if timed_out:
        out.result = None
    if out.result is None and out.reason is None:
        out.reason = _no_result_reason(out, status, timed_out, timeout, mem_mib, output_limit)
    return out


def read_output(path, limit=200_000):
    """The captured text of a stream (for --show-output), cut to ``limit`` characters."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError:
        return ""
    text = data[:limit].decode("utf-8", "replace")
    return text + ("\n... (cut)" if len(data) > limit else "")
