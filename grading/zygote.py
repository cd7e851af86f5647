"""The warm worker inside the sandbox: one per job slot, started by :mod:`grading.sandbox`.

Run as ``python -m grading.zygote --task grading.tasks.mlp --workspace DIR`` (inside bubblewrap,
or as a plain process in fork mode). It imports the task module and runs its ``prepare()`` once
(the heavy imports: torch, the gd model), makes itself non-dumpable, then serves submissions one
at a time: one JSON line in on stdin (the files, the cases, the limits), one JSON line out on
stdout (``{"ev": "result", "run": ...}``), in the shape of :class:`grading.sandbox.SubmissionRun`.

Three processes per attempt at a submission, so that the code that keeps time and reads messages
never shares a process with student code:

* the **zygote** (this module's :func:`main`): trusted, never imports student code; it keeps the
  per-case budgets, parses the child's messages strictly, re-forks after a timeout or a death;
* the **runner** (forked from the zygote): makes a new user + PID + mount namespace
  (``unshare`` through ctypes), mounts a private /tmp, forks the student process, waits for it
  and, where no PID namespace could be made, kills whatever it left behind;
* the **student process** (PID 1 of its own PID namespace): ``setsid()``, its own /proc where the
  kernel allows it (not under bubblewrap, whose /proc is partly covered), no capabilities,
  rlimits, stdout/stderr into size-capped files, every inherited fd closed but its message pipe;
  then it imports the submission and runs the task's ``run_case`` on each case. When it ends, the
  kernel kills every process it left, ``setsid()`` ones included.

The student process can write anything on its pipe; the zygote accepts only the messages of
:func:`parse_child_message` and nothing it sends is a verdict (the grader decides from the raw
payloads, in a process that never imported student code).
"""
from __future__ import annotations

import argparse
import base64
import ctypes
import importlib
import json
import os
import re
import resource
import select
import shutil
import signal
import sys
import tempfile
import time

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 4, 38, 36
NOBODY = 65534
TAIL_CHARS = 400
MAX_STAGES = 8
MAX_REFORKS = 3
LOAD_STATES = ("ok", "error", "missing_module")
CASE_STATES = ("ok", "raised")

_libc = ctypes.CDLL(None, use_errno=True)


def _c(name: str, *args) -> int:
    """Call a libc function; -1 (and errno ENOSYS) where this platform has none (macOS: no unshare)."""
    fn = getattr(_libc, name, None)
    if fn is None:
        ctypes.set_errno(38)
        return -1
    return fn(*args)


# ---------------------------------------------------------------- small helpers

def one_line(exc: BaseException) -> str:
    """An exception as 'Type: first line of its message' (SystemExit: 'sys.exit(code) called')."""
    if isinstance(exc, SystemExit):
        return f"sys.exit({exc.code!r}) called"
    lines = str(exc).strip().splitlines()
    first = (lines[0] if lines else "")[:160]
    return f"{type(exc).__name__}: {first}".rstrip(": ")


def describe_status(status: int | None) -> str:
    """A wait status in words: 'killed by SIGKILL', 'exited with status 0'."""
    if status is None:
        return "ended (status unknown)"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGXFSZ:
            return "killed by SIGXFSZ (output or a file over the size cap)"
        if sig == signal.SIGXCPU:
            return "killed by SIGXCPU (CPU-time limit)"
        return f"killed by {name}"
    if os.WIFEXITED(status):
        return f"exited with status {os.WEXITSTATUS(status)}"
    return f"ended with wait status {status}"


def _tail(path: str) -> tuple[int, str]:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            fh.seek(max(0, size - TAIL_CHARS))
            return size, fh.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


def _strict_object(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def _decode_json(line: bytes):
    return json.loads(line.decode("utf-8"), object_pairs_hook=_strict_object)


# ---------------------------------------------------------------- the child's messages

class Malformed(Exception):
    """A message from the student process that is not one of the allowed ones."""


def parse_child_message(line: bytes, expect: str, case_index: int | None) -> dict:
    """Check one line from the student process; returns the message or raises :class:`Malformed`.

    Allowed, with exactly these keys and types: ``{"stage": str}``; while loading
    ``{"load": "ok"}``, ``{"load": "error", "error": str}``,
    ``{"load": "missing_module", "module": str, "error": str}``; while case ``i`` runs
    ``{"case": i, "status": "ok", "payload": dict}`` or ``{"case": i, "status": "raised", "error": str}``.
    """
    try:
        msg = _decode_json(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"not a JSON line ({one_line(exc)})") from None
    if not isinstance(msg, dict):
        raise Malformed(f"a JSON {type(msg).__name__}, not an object")
    keys = set(msg)
    if keys == {"stage"} and isinstance(msg["stage"], str):
        return msg
    if expect == "load" and "load" in msg:
        want = {"ok": {"load"}, "error": {"load", "error"}, "missing_module": {"load", "module", "error"}}
        if msg["load"] not in want or keys != want[msg["load"]]:
            raise Malformed(f"bad load message (keys {sorted(keys)})")
        if not all(isinstance(msg[k], str) for k in keys):
            raise Malformed("bad load message (a field is not a string)")
        return msg
    if expect == "case" and "case" in msg:
        if msg["case"] != case_index or isinstance(msg["case"], bool):
            raise Malformed(f"a result for case {msg['case']!r} while case {case_index} runs")
        if msg.get("status") == "ok" and keys == {"case", "status", "payload"} and isinstance(msg["payload"], dict):
            return msg
        if msg.get("status") == "raised" and keys == {"case", "status", "error"} and isinstance(msg["error"], str):
            return msg
        raise Malformed(f"bad case message (keys {sorted(keys)})")
    raise Malformed(f"unexpected message while {'loading' if expect == 'load' else f'case {case_index} runs'} "
                    f"(keys {sorted(keys)[:5]})")


# ---------------------------------------------------------------- namespaces and limits

def _unshare(flags: int) -> str:
    if _c("unshare", flags) != 0:
        return os.strerror(ctypes.get_errno())
    return ""


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def enter_namespaces(private_tmp_bytes: int) -> str:
    """In the runner: new user (unless root) + PID + mount namespaces, a private /tmp (unless 0).
    Returns '' on success, else one line saying what failed (the caller carries on without)."""
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWPID | CLONE_NEWNS | (0 if uid == 0 else CLONE_NEWUSER)
    err = _unshare(flags)
    if err:
        return f"unshare refused ({err})"
    if uid != 0:   # map our own uid/gid so that files we create have an owner
        # The zygote is not dumpable, and a non-dumpable process's /proc/self files belong to root:
        # a grader that is not root could not write its own maps. This runner is dumpable while it
        # writes them (the student, forked after, is never inside this runner's process).
        _c("prctl", PR_SET_DUMPABLE, 1, 0, 0, 0)
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError as exc:
            return f"uid map refused ({one_line(exc)})"
        finally:
            _c("prctl", PR_SET_DUMPABLE, 0, 0, 0, 0)
    if _c("mount", None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return f"mount namespace not private ({os.strerror(ctypes.get_errno())})"
    if not private_tmp_bytes:
        return ""
    opts = f"size={private_tmp_bytes},mode=1777".encode()
    if _c("mount", b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, opts) != 0:
        return f"no private /tmp ({os.strerror(ctypes.get_errno())})"
    return ""


def drop_capabilities() -> None:
    """No capabilities left (a user namespace gives its first process all of them, in that namespace)."""
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    _c("capset", ctypes.byref(header), data)
    _c("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def drop_to_nobody() -> None:
    """Fork mode, running as root: become uid/gid 65534 before student code runs."""
    os.setgroups([])
    if hasattr(os, "setresuid"):
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    else:   # macOS
        os.setgid(NOBODY)
        os.setuid(NOBODY)


def pid_max_is_per_namespace(release: str | None = None) -> bool:
    """True on Linux >= 6.14, where kernel.pid_max belongs to each PID namespace. Before that it is
    one value for the whole machine: a grader running as real root (fork mode, no user namespace)
    would set the machine's pid_max, so there it is never written."""
    release = release if release is not None else os.uname().release
    m = re.match(r"(\d+)\.(\d+)", release)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (6, 14)


def cap_pids(processes) -> bool:
    """Cap the pids of the student's own PID namespace (Linux >= 6.14 keeps pid_max per namespace).

    RLIMIT_NPROC is not enforced for a process whose uid outside every namespace is root (a TA
    grading as root, CI, Gradescope), so there a fork bomb would be held only by the case budget.
    The kernel's floor is 301, so the cap is max(301, processes + 1). False where the kernel has no
    per-namespace pid_max (older kernels: the sysctl is read-only in a child namespace); the
    budget and the kill of the namespace still end a fork bomb there."""
    if not processes or not pid_max_is_per_namespace():
        return False
    try:
        with open("/proc/sys/kernel/pid_max", "w") as fh:
            fh.write(str(max(301, int(processes) + 1)))
        return True
    except OSError:
        return False


def set_limits(limits: dict, cap_processes: bool = False) -> None:
    """rlimits of the student process. ``cap_processes``: also RLIMIT_NPROC, where the count is the
    student's own (its own user namespace, or uid nobody); for a plain fork under the TA's uid the
    count would hold every process of the TA, so it is left alone there."""
    vm = 0
    try:
        with open("/proc/self/status") as fh:
            vm = next((int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:")), 0)
    except OSError:
        pass
    cpu = int(limits["timeout_s"]) + 5
    wanted = [(resource.RLIMIT_FSIZE, limits["output_bytes"]), (resource.RLIMIT_CPU, cpu),
              (resource.RLIMIT_CORE, 0)]
    if cap_processes and limits.get("processes"):
        wanted.append((resource.RLIMIT_NPROC, int(limits["processes"])))
    if vm:
        wanted.append((resource.RLIMIT_AS, vm + limits["memory_mib"] * 2**20))
    for what, value in wanted:
        try:
            resource.setrlimit(what, (value, value))
        except (ValueError, OSError):
            pass


def close_fds(keep: set[int]) -> None:
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


# ---------------------------------------------------------------- the student process

def student_main(job: dict, start: int, msg_fd: int, dirs: dict, as_root: bool, drop_root: bool,
                 own_namespace: bool) -> None:
    """PID 1 of its namespace: confine itself, import the submission, run cases[start:], _exit."""
    try:
        os.setsid()
        if own_namespace:   # a /proc of its own PID namespace: it sees only its own processes
            _c("mount", b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
            cap_pids(job["limits"].get("processes"))
        for sig in (signal.SIGXFSZ, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            out = os.open(os.path.join(dirs["out"], name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.dup2(out, fd)
        os.dup2(msg_fd, 3)
        close_fds({0, 1, 2, 3})
        if as_root and drop_root:
            drop_to_nobody()
        drop_capabilities()
        set_limits(job["limits"], cap_processes=own_namespace or (as_root and drop_root))
        _c("prctl", PR_SET_DUMPABLE, 1, 0, 0, 0)   # its own process: it may core-dump (RLIMIT_CORE 0)
    except BaseException:
        os._exit(71)
    _run_student(job, start, dirs)


def _run_student(job: dict, start: int, dirs: dict) -> None:
    import io
    pipe = io.FileIO(3, "w", closefd=False)

    def send(msg: dict) -> None:
        pipe.write((json.dumps(msg) + "\n").encode())

    try:
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True, errors="replace")
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True, errors="replace")
        os.chdir(dirs["src"])
        os.environ.clear()
        os.environ.update(PATH="/usr/bin:/bin", HOME="/tmp", TMPDIR="/tmp", LANG="C.UTF-8",
                          OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
                          MPLBACKEND="Agg", CUDA_VISIBLE_DEVICES="")
        tempfile.tempdir = None
        sys.dont_write_bytecode = True
        task = sys.modules[job["task"]]
        path = os.path.join(dirs["src"], task.FILENAME)
        sys.argv = [path]
        send({"stage": "import"})
        module = _import_submission(path, send)
        if module is None:
            return
        for i in range(start, len(job["cases"])):
            case = job["cases"][i]
            send({"stage": f"case {_case_id(case, i)}"})
            try:
                payload = task.run_case(module, case)
                line = json.dumps({"case": i, "status": "ok", "payload": payload})
            except BaseException as exc:   # anything the submission raises, SystemExit included
                line = json.dumps({"case": i, "status": "raised", "error": one_line(exc)})
            pipe.write((line + "\n").encode())
    except BaseException:
        pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(0)


def _import_submission(path: str, send):
    import importlib.util
    name = "_submission"
    if not os.path.exists(path):
        send({"load": "error", "error": f"no {os.path.basename(path)} in the submission"})
        return None
    sys.path.insert(0, os.path.dirname(path))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        local = exc.name and os.path.exists(os.path.join(os.path.dirname(path), exc.name.split(".")[0] + ".py"))
        if exc.name and not local:
            send({"load": "missing_module", "module": exc.name, "error": one_line(exc)})
        else:
            send({"load": "error", "error": one_line(exc)})
        return None
    except BaseException as exc:
        what = one_line(exc)
        send({"load": "error", "error": what + (" at import" if isinstance(exc, SystemExit) else "")})
        return None
    send({"load": "ok"})
    return module


def _case_id(case: dict, i: int) -> str:
    return str(case.get("id", i))


# ---------------------------------------------------------------- the runner

def runner_main(job, start, msg_r, msg_w, ctl_w, dirs, drop_root) -> None:
    """Between the zygote and the student: namespaces, fork the student, report its pid and end."""
    status = None
    try:
        os.close(msg_r)
        as_root = os.geteuid() == 0
        private_tmp = 0 if dirs["base"].startswith("/tmp/") else job["limits"]["output_bytes"] * 4
        ns_error = enter_namespaces(private_tmp)
        if ns_error:
            _c("prctl", PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)   # orphans come back to us, to be killed
        pid = os.fork()
        if pid == 0:
            os.close(ctl_w)
            student_main(job, start, msg_w, dirs, as_root, drop_root, not ns_error)
        os.close(msg_w)
        os.write(ctl_w, (json.dumps({"pid": pid, "ns_error": ns_error}) + "\n").encode())
        _, status = os.waitpid(pid, 0)
        if ns_error:
            _kill_descendants()
        os.write(ctl_w, (json.dumps({"status": status}) + "\n").encode())
    finally:
        os._exit(0)


def _kill_descendants() -> None:
    """Without a PID namespace: kill and reap every process left under us (we are a subreaper)."""
    me = str(os.getpid())
    if not os.path.isdir("/proc"):
        return
    while True:
        children = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[1] == me:
                    children.append(int(name))
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


# ---------------------------------------------------------------- the zygote: one attempt

class Attempt:
    """One runner + student process, and what the zygote has read from them."""

    def __init__(self, job, start, dirs, drop_root):
        msg_r, msg_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.runner = os.fork()
        if self.runner == 0:
            os.close(ctl_r)
            runner_main(job, start, msg_r, msg_w, ctl_w, dirs, drop_root)
        os.close(msg_w)
        os.close(ctl_w)
        self.msg_fd, self.ctl_fd = msg_r, ctl_r
        self.msg_buf, self.ctl_buf = b"", b""
        self.msg_eof = self.ctl_eof = False
        self.student = None
        self.ns_error = ""
        self.status = None
        self.overflow = False

    def read(self, timeout: float, cap: int) -> list[bytes]:
        """Wait up to ``timeout`` s; return the complete lines the student sent (cap: max line size)."""
        fds = [fd for fd, eof in ((self.msg_fd, self.msg_eof), (self.ctl_fd, self.ctl_eof)) if not eof]
        if not fds:
            return []
        ready, _, _ = select.select(fds, [], [], max(0.0, timeout))
        if self.ctl_fd in ready:
            self._read_ctl()
        if self.msg_fd not in ready:
            return []
        chunk = os.read(self.msg_fd, 1 << 20)
        if not chunk:
            self.msg_eof = True
        self.msg_buf += chunk
        lines = self.msg_buf.split(b"\n")
        self.msg_buf = lines.pop()
        if len(self.msg_buf) > cap:
            self.overflow = True
        return lines

    def _read_ctl(self):
        chunk = os.read(self.ctl_fd, 4096)
        if not chunk:
            self.ctl_eof = True
        self.ctl_buf += chunk
        *lines, self.ctl_buf = self.ctl_buf.split(b"\n")
        for line in lines:
            msg = json.loads(line)
            if "pid" in msg:
                self.student, self.ns_error = msg["pid"], msg["ns_error"]
            if "status" in msg:
                self.status = msg["status"]

    def ended(self) -> bool:
        return self.msg_eof and self.ctl_eof

    def kill(self) -> None:
        """Kill the student process (PID 1 of its namespace: everything in it goes too) and reap.
        Not once the runner has reported its end (its pid may belong to someone else by then)."""
        while self.student is None and not self.ctl_eof:
            self._wait_ctl()
        if select.select([self.ctl_fd], [], [], 0)[0] and not self.ctl_eof:
            self._read_ctl()
        if self.student and self.status is None:
            for target in (self.student, -self.student):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
        while not self.ctl_eof:
            self._wait_ctl()
        self.close()

    def _wait_ctl(self):
        select.select([self.ctl_fd], [], [], 5.0)
        self._read_ctl()

    def close(self) -> None:
        while not self.ctl_eof:
            self._wait_ctl()
        for fd in (self.msg_fd, self.ctl_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.waitpid(self.runner, 0)
        except ChildProcessError:
            pass


# ---------------------------------------------------------------- the zygote: one submission

class Submission:
    """The zygote's bookkeeping for one submission: load state, cases, stages, re-forks."""

    def __init__(self, job: dict, dirs: dict, drop_root: bool):
        self.job, self.dirs, self.drop_root = job, dirs, drop_root
        self.limits = job["limits"]
        self.cases = [None] * len(job["cases"])
        self.load, self.load_error, self.missing = None, "", None
        self.stages: list[str] = []
        self.ns_error = ""
        self.t0 = time.monotonic()

    def budget(self, i: int | None) -> float:
        if i is None:
            return float(self.limits["case_timeout_s"])
        default = float(self.limits["case_timeout_s"])
        b = self.job["cases"][i].get("budget_s", default)
        return float(b) if isinstance(b, (int, float)) and not isinstance(b, bool) and b > 0 else default

    def run(self) -> dict:
        """First attempt, then a re-fork after each case that timed out or died (at most 3)."""
        start, attempts = 0, 0
        while True:
            if attempts == 1 + MAX_REFORKS:
                self._not_run(start, f"not run: {MAX_REFORKS} re-forks used up (after timeouts or deaths)")
                break
            start = self._attempt(start)
            attempts += 1
            if start is None or start >= len(self.cases):
                break
        self._not_run(0, "not run")
        return self._result()

    def _attempt(self, start: int) -> int | None:
        """Run cases[start:] in a fresh child; return where to go on from, or None to stop."""
        attempt = Attempt(self.job, start, self.dirs, self.drop_root)
        first_load = self.load is None
        phase, i = "load", start
        deadline = time.monotonic() + self.budget(None)
        case_started = None
        try:
            while True:
                now = time.monotonic()
                total_left = self.t0 + self.limits["timeout_s"] - now
                if now >= deadline or total_left <= 0:
                    why = (f"submission budget {self.limits['timeout_s']:g} s used up" if total_left <= 0
                           else f"case budget {self.budget(None if phase == 'load' else i):g} s")
                    return self._stop(phase, i, "timeout", why, first_load, case_started, total_left <= 0)
                lines = attempt.read(min(deadline - now, total_left), self.limits["message_bytes"])
                if attempt.ns_error:
                    self.ns_error = attempt.ns_error
                if attempt.overflow:
                    return self._stop(phase, i, "malformed", f"a message over {self.limits['message_bytes']} bytes",
                                      first_load, case_started)
                for line in lines:
                    if len(line) > self.limits["message_bytes"]:
                        return self._stop(phase, i, "malformed", f"a message over {self.limits['message_bytes']} bytes",
                                          first_load, case_started)
                    try:
                        msg = parse_child_message(line, phase, i)
                    except Malformed as exc:
                        return self._stop(phase, i, "malformed", str(exc)[:200], first_load, case_started)
                    if "stage" in msg:
                        self.stages = (self.stages + [msg["stage"][:200]])[-MAX_STAGES:]
                    elif phase == "load":
                        if msg["load"] != "ok":
                            return self._stop(phase, i, msg["load"], msg["error"][:300], first_load, None,
                                              module=msg.get("module"))
                        if first_load:
                            self.load = "ok"
                        if i >= len(self.cases):
                            return None
                        phase, case_started = "case", time.monotonic()
                        deadline = case_started + self.budget(i)
                    else:
                        self.cases[i] = self._case(i, msg["status"], msg.get("payload"), msg.get("error", ""),
                                                   case_started)
                        i += 1
                        if i == len(self.cases):
                            return None
                        case_started = time.monotonic()
                        deadline = case_started + self.budget(i)
                if attempt.ended():
                    return self._stop(phase, i, "killed", describe_status(attempt.status), first_load, case_started)
        finally:
            attempt.kill()

    def _stop(self, phase, i, status, why, first_load, case_started, total=False, module=None):
        """The child is being stopped in ``phase``: record why; return where to go on from."""
        if phase == "load":
            if first_load:
                self.load, self.load_error, self.missing = status, why, module
                where = "did not load"
            else:
                where = "did not load again"
            self._not_run(i, f"not run: the submission {where} ({why})")
            return None
        self.cases[i] = self._case(i, status, None, why, case_started)
        if total:
            self._not_run(i + 1, f"not run: submission budget {self.limits['timeout_s']:g} s used up")
            return None
        return i + 1

    def _case(self, i, status, payload, error, started):
        seconds = round(time.monotonic() - started, 4) if started else 0.0
        return {"id": _case_id(self.job["cases"][i], i), "status": status, "payload": payload,
                "error": error, "seconds": seconds}

    def _not_run(self, start, why):
        for j in range(start, len(self.cases)):
            if self.cases[j] is None:
                self.cases[j] = {"id": _case_id(self.job["cases"][j], j), "status": "not_run",
                                 "payload": None, "error": why, "seconds": 0.0}

    def _result(self) -> dict:
        out_bytes, out_tail = _tail(os.path.join(self.dirs["out"], "stdout"))
        err_bytes, err_tail = _tail(os.path.join(self.dirs["out"], "stderr"))
        return {"load": self.load or "ok", "load_error": self.load_error, "missing_module": self.missing,
                "cases": self.cases, "stages": self.stages, "stdout_tail": out_tail, "stderr_tail": err_tail,
                "stdout_bytes": out_bytes, "stderr_bytes": err_bytes, "ns_error": self.ns_error,
                "seconds": round(time.monotonic() - self.t0, 4)}


# ---------------------------------------------------------------- the zygote: the loop

def make_dirs(workspace: str, files: dict, as_root: bool, drop_root: bool) -> dict:
    """A fresh folder for one submission: src/ (its files, the cwd) and out/ (captured output)."""
    base = tempfile.mkdtemp(prefix="sub-", dir=workspace)
    dirs = {"base": base, "src": os.path.join(base, "src"), "out": os.path.join(base, "out")}
    for key in ("src", "out"):
        os.mkdir(dirs[key], 0o700)
    for name, b64 in files.items():
        with open(os.path.join(dirs["src"], name), "wb") as fh:
            fh.write(base64.b64decode(b64))
    if as_root and drop_root:
        os.chmod(base, 0o711)
        for key in ("src", "out"):
            os.chown(dirs[key], NOBODY, NOBODY)
            for name in os.listdir(dirs[key]):
                os.chown(os.path.join(dirs[key], name), NOBODY, NOBODY)
    return dirs


def clean_scratch(workspace: str, in_bubblewrap: bool) -> None:
    """Remove what one submission left: its folder; inside bubblewrap, all of /tmp and /dev/shm too."""
    places = [workspace] + (["/tmp", "/dev/shm"] if in_bubblewrap else [])
    for place in places:
        try:
            names = os.listdir(place)
        except OSError:
            continue
        for name in names:
            path = os.path.join(place, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


def serve(task_name: str, workspace: str, in_bubblewrap: bool, drop_root: bool, inp, out) -> None:
    as_root = os.geteuid() == 0
    for raw in inp:
        job = _decode_json(raw)
        if job.get("op") == "exit":
            return
        job["task"] = task_name
        dirs = make_dirs(workspace, job["files"], as_root, drop_root)
        try:
            run = Submission(job, dirs, drop_root).run()
        finally:
            clean_scratch(workspace, in_bubblewrap)
        out.write(json.dumps({"ev": "result", "run": run}) + "\n")
        out.flush()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="grading's in-sandbox worker (started by grading.sandbox)")
    ap.add_argument("--task", required=True)
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--bubblewrap", action="store_true")
    ap.add_argument("--keep-uid", action="store_true", help="fork mode as root: do not drop to uid 65534")
    args = ap.parse_args(argv)
    # The protocol keeps the original stdin/stdout; anything printed while preparing goes to stderr.
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    try:
        task = importlib.import_module(args.task)
        for name in ("FILENAME", "prepare", "run_case"):
            if not hasattr(task, name):
                raise AttributeError(f"task module {args.task} has no {name}")
        task.prepare()
    except BaseException as exc:
        out.write(json.dumps({"ev": "error", "error": f"task {args.task} failed to prepare: {one_line(exc)}"}) + "\n")
        out.flush()
        return
    _c("prctl", PR_SET_DUMPABLE, 0, 0, 0, 0)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    out.write(json.dumps({"ev": "ready", "filename": task.FILENAME}) + "\n")
    out.flush()
    serve(args.task, args.workspace, args.bubblewrap, not args.keep_uid, inp, out)


if __name__ == "__main__":
    main()
