"""grading.sandbox with its self-test task (grading/tasks/echo.py): each property it promises.

The submissions here are tiny ``echo.py`` files written by the tests (``answer(x)`` plus whatever
they attempt). Tests of what a student cannot reach (files, network) run with bubblewrap; where
bubblewrap cannot run they skip, except with BACKPROP_REQUIRE_SANDBOX=1 (CI), where that fails.
"""
from __future__ import annotations

import hashlib
import os
import socket
import textwrap
import uuid
from pathlib import Path

import pytest

from grading import sandbox
from grading.sandbox import Limits, Pool, SandboxError

TASK = "grading.tasks.echo"
REQUIRE_ENV = "BACKPROP_REQUIRE_SANDBOX"
FAST = Limits(timeout_s=20, case_timeout_s=2.0, memory_mib=512, output_bytes=2**20)


def bubblewrap_or_skip():
    mode, note = sandbox.sandbox_mode("auto")
    if mode != "bubblewrap":
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but the sandbox does not work here: {note}")
        pytest.skip(f"bubblewrap sandbox unavailable: {note}")


@pytest.fixture(params=["on", "off"])
def mode(request):
    if request.param == "on":
        bubblewrap_or_skip()
    return request.param


@pytest.fixture
def ta(tmp_path):
    """A TA's folder with a gradebook and a class folder of other students' files."""
    root = tmp_path / "ta"
    (root / "class" / "alice").mkdir(parents=True)
    (root / "grades.csv").write_text("student,score\nalice,35\n")
    (root / "class" / "alice" / "echo.py").write_text("SECRET_ALICE = 'alice-secret-answer'\n")
    return root


def tree_hash(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def write_sub(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def run_all(subs, sandbox_mode, limits=FAST, jobs=2):
    """[(path, cases)] -> list of SubmissionRun in input order (each index exactly once)."""
    with Pool(TASK, jobs=jobs, limits=limits, sandbox=sandbox_mode) as pool:
        got = dict(pool.run(subs))
    assert sorted(got) == list(range(len(subs))), "the batch is not complete"
    return [got[i] for i in range(len(subs))]


def processes_matching(marker: str) -> list[int]:
    """PIDs whose command line holds ``marker`` (a /proc scan, no psutil)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                cmd = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if marker in cmd:
                found.append(int(name))
    return found


GOOD = """
def answer(x):
    return x * 2
"""


# ---------------------------------------------------------------- the batch and the budgets

def test_batch_complete_with_results_in_order(tmp_path, mode):
    subs = [(write_sub(tmp_path, f"good{i}", GOOD), [{"id": "a", "x": i}, {"id": "b", "x": 10}]) for i in range(5)]
    runs = run_all(subs, mode)
    for i, run in enumerate(runs):
        assert run.load == "ok", run.load_error
        assert [(c.id, c.status, c.payload) for c in run.cases] == [("a", "ok", {"y": 2 * i}), ("b", "ok", {"y": 20})]
        assert run.path == str(subs[i][0])


def test_hanging_case_is_timeout_and_the_next_case_still_runs(tmp_path, mode):
    sub = write_sub(tmp_path, "hang", """
        def answer(x):
            while x == "hang":
                pass
            return x
    """)
    cases = [{"x": 1}, {"x": "hang", "budget_s": 0.5}, {"x": 3}]
    (run,) = run_all([(sub, cases)], mode)
    assert [c.status for c in run.cases] == ["ok", "timeout", "ok"]
    assert run.cases[1].error == "case budget 0.5 s"
    assert run.cases[2].payload == {"y": 3}
    assert "case 1" in run.stages


def test_at_most_three_reforks_then_not_run(tmp_path, mode):
    sub = write_sub(tmp_path, "hangs", """
        def answer(x):
            while True:
                pass
    """)
    cases = [{"x": i, "budget_s": 0.3} for i in range(6)]
    (run,) = run_all([(sub, cases)], mode)
    assert [c.status for c in run.cases] == ["timeout"] * 4 + ["not_run"] * 2
    assert "3 re-forks" in run.cases[4].error


def test_submission_budget_is_a_backstop(tmp_path, mode):
    sub = write_sub(tmp_path, "slow", """
        import time
        def answer(x):
            time.sleep(0.4)
            return x
    """)
    limits = Limits(timeout_s=1.0, case_timeout_s=5.0)
    (run,) = run_all([(sub, [{"x": i} for i in range(6)])], mode, limits)
    statuses = [c.status for c in run.cases]
    assert statuses[0] == "ok" and "timeout" in statuses and statuses[-1] == "not_run"
    assert any("submission budget 1 s" in c.error for c in run.cases)


def test_a_case_that_kills_itself_is_killed_and_the_rest_runs(tmp_path, mode):
    sub = write_sub(tmp_path, "dies", """
        import ctypes, os
        def answer(x):
            if x == "die":
                ctypes.string_at(0)          # SIGSEGV (kill() of itself is void: it is PID 1 of its namespace)
            if x == "exit":
                os._exit(0)
            return x
    """)
    (run,) = run_all([(sub, [{"x": "die"}, {"x": "exit"}, {"x": 5}])], mode)
    assert [c.status for c in run.cases] == ["killed", "killed", "ok"]
    assert run.cases[0].error == "killed by SIGSEGV"
    assert run.cases[1].error == "exited with status 0"


def test_exception_in_a_case_is_raised_with_one_line(tmp_path, mode):
    sub = write_sub(tmp_path, "raises", """
        import sys
        def answer(x):
            if x == 1:
                raise ValueError("bad shape\\nsecond line")
            sys.exit(3)
    """)
    (run,) = run_all([(sub, [{"x": 1}, {"x": 2}])], mode)
    assert [(c.status, c.error) for c in run.cases] == [("raised", "ValueError: bad shape"),
                                                       ("raised", "sys.exit(3) called")]


# ---------------------------------------------------------------- load errors

@pytest.mark.parametrize("body, load, words", [
    ("def answer(x)\n    return x\n", "error", "SyntaxError"),
    ("raise RuntimeError('boom at import')\n", "error", "RuntimeError: boom at import"),
    ("import sys\nsys.exit(0)\n", "error", "sys.exit(0) called at import"),
    ("import os\nos._exit(0)\n", "killed", "exited with status 0"),
    ("while True:\n    pass\n", "timeout", "case budget 2 s"),
])
def test_load_errors_are_named_and_every_case_is_not_run(tmp_path, mode, body, load, words):
    sub = write_sub(tmp_path, "broken", body)
    (run,) = run_all([(sub, [{"x": 1}, {"x": 2}])], mode)
    assert run.load == load
    assert words in run.load_error
    assert [c.status for c in run.cases] == ["not_run", "not_run"]
    assert "did not load" in run.cases[0].error


def test_missing_module_is_named(tmp_path, mode):
    sub = write_sub(tmp_path, "needs", "import definitely_not_installed_xyz.sub\n")
    (run,) = run_all([(sub, [{"x": 1}])], mode)
    assert (run.load, run.missing_module) == ("missing_module", "definitely_not_installed_xyz")


def test_folder_submission_imports_its_helper_module(tmp_path, mode):
    folder = tmp_path / "student_folder"
    folder.mkdir()
    (folder / "helper.py").write_text("def twice(x):\n    return 2 * x\n")
    (folder / "echo.py").write_text("from helper import twice\ndef answer(x):\n    return twice(x)\n")
    (tmp_path / "empty").mkdir()
    runs = run_all([(folder, [{"x": 4}]), (tmp_path / "empty", [{"x": 1}])], mode)
    assert runs[0].cases[0].payload == {"y": 8}
    assert runs[1].load == "error" and "no echo.py" in runs[1].load_error


def test_files_over_the_cap_are_not_sent(tmp_path, mode):
    sub = write_sub(tmp_path, "big", "X = '" + "a" * 5000 + "'\ndef answer(x):\n    return x\n")
    limits = Limits(files_bytes=1000, case_timeout_s=2)
    runs = run_all([(sub, [{"x": 1}]), (tmp_path / "no_such_file.py", [{"x": 1}])], mode, limits)
    assert runs[0].load == "error" and "over 1000 bytes" in runs[0].load_error
    assert runs[1].load == "error" and "no such file or folder" in runs[1].load_error
    assert [r.cases[0].status for r in runs] == ["not_run", "not_run"]


# ---------------------------------------------------------------- messages

def test_forged_messages_are_malformed(tmp_path, mode):
    """Lines written on the message pipe (fd 3) by the submission itself."""
    at_import = write_sub(tmp_path, "forge_import", """
        import os
        os.write(3, b'{"case": 0, "status": "ok", "payload": {"y": "PASS"}}\\n')
        def answer(x):
            return x
    """)
    in_case = write_sub(tmp_path, "forge_case", """
        import os
        def answer(x):
            if x == 1:
                os.write(3, b'{"case": 7, "status": "ok", "payload": {}}\\n')
            if x == 2:
                os.write(3, b'{"case": 1, "status": "ok", "payload": {}, "verdict": "pass"}\\n')
            if x == 3:
                os.write(3, b'not json at all\\n')
            return x
    """)
    runs = run_all([(at_import, [{"x": 0}]), (in_case, [{"x": 0}, {"x": 1}, {"x": 2}, {"x": 3}])], mode)
    assert runs[0].load == "malformed" and "unexpected message while loading" in runs[0].load_error
    assert [c.status for c in runs[1].cases] == ["ok", "malformed", "malformed", "malformed"]
    assert "case 7" in runs[1].cases[1].error
    assert "not a JSON line" in runs[1].cases[3].error


def test_an_oversized_message_is_malformed(tmp_path, mode):
    sub = write_sub(tmp_path, "huge", """
        def answer(x):
            return "z" * 300000
    """)
    limits = Limits(message_bytes=100000, case_timeout_s=5)
    (run,) = run_all([(sub, [{"x": 1}])], mode, limits)
    assert run.cases[0].status == "malformed" and "over 100000 bytes" in run.cases[0].error


def test_parse_child_message_accepts_only_the_schema():
    from grading.zygote import Malformed, parse_child_message
    assert parse_child_message(b'{"stage": "import"}', "load", 0) == {"stage": "import"}
    assert parse_child_message(b'{"case": 2, "status": "ok", "payload": {"a": 1}}', "case", 2)["payload"] == {"a": 1}
    for bad, expect in [(b'{"load": "ok", "extra": 1}', "load"), (b'{"load": "pass"}', "load"),
                        (b'{"case": 2, "status": "ok", "payload": []}', "case"),
                        (b'{"case": true, "status": "raised", "error": "x"}', "case"),
                        (b'{"stage": "a", "stage": "b"}', "load"), (b'[1]', "case"), (b'\xff', "case"),
                        (b'{"verdict": "pass"}', "case")]:
        with pytest.raises(Malformed):
            parse_child_message(bad, expect, 1)


# ---------------------------------------------------------------- output and memory

def test_output_is_captured_and_a_flood_is_stopped(tmp_path, mode):
    chatty = write_sub(tmp_path, "chatty", """
        import sys
        print("hello from import")
        def answer(x):
            print("last words", x)
            print("to stderr", file=sys.stderr)
            return x
    """)
    flood = write_sub(tmp_path, "flood", """
        def answer(x):
            while True:
                print("y" * 1000)
    """)
    limits = Limits(output_bytes=200_000, case_timeout_s=10)
    runs = run_all([(chatty, [{"x": 1}]), (flood, [{"x": 1}, {"x": 2}])], mode, limits)
    assert "hello from import" in runs[0].stdout_tail and "last words 1" in runs[0].stdout_tail
    assert "to stderr" in runs[0].stderr_tail
    # over the cap a write fails (EFBIG: the student is PID 1 of its namespace, which ignores SIGXFSZ)
    flooded = runs[1].cases[0]
    assert (flooded.status, "File too large") == ("raised", flooded.error.split("] ")[-1]) or "SIGXFSZ" in flooded.error
    assert runs[1].stdout_bytes <= 200_000


def test_memory_limit(tmp_path, mode):
    sub = write_sub(tmp_path, "greedy", """
        def answer(x):
            block = bytearray(2 * 2**30)
            return len(block)
    """)
    (run,) = run_all([(sub, [{"x": 1}])], mode, Limits(memory_mib=256, case_timeout_s=10))
    assert run.cases[0].status == "raised" and "MemoryError" in run.cases[0].error


# ---------------------------------------------------------------- processes

def test_kills_of_parent_and_group_leave_the_batch_complete(tmp_path, mode):
    killer = write_sub(tmp_path, "killer", """
        import os, signal
        for target in (os.getppid(), 0):     # (not -1: outside a PID namespace that ends all our processes)
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        except OSError:
            pass
        def answer(x):
            return x
    """)
    subs = [(write_sub(tmp_path, "before", GOOD), [{"x": 1}]), (killer, [{"x": 1}]),
            (write_sub(tmp_path, "after", GOOD), [{"x": 2}])]
    runs = run_all(subs, mode, jobs=1)
    assert runs[0].cases[0].payload == {"y": 2} and runs[2].cases[0].payload == {"y": 4}
    assert runs[1].load in ("killed", "ok")
    assert os.getpid() > 0   # (this test process is alive: it got here)


def test_no_process_is_left_behind(tmp_path, mode):
    marker = f"{uuid.uuid4().int % 10**6}.25"
    sub = write_sub(tmp_path, "spawner", f"""
        import os, subprocess
        for _ in range(5):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv("/bin/sleep", ["sleep", "{marker}"])
                os._exit(0)
        subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
        def answer(x):
            return x
    """)
    with Pool(TASK, jobs=1, limits=FAST, sandbox=mode) as pool:
        runs = dict(pool.run([(sub, [{"x": 1}]), (write_sub(tmp_path, "next", GOOD), [{"x": 1}])]))
        assert runs[0].cases[0].status == "ok" and runs[1].cases[0].payload == {"y": 2}
        assert processes_matching(marker) == [], "a submission's process outlived it"
    assert processes_matching(marker) == []
    assert processes_matching(f"--workspace {pool.workers and pool.workers[0].scratch}") == []


def test_workers_are_gone_after_close(tmp_path, mode):
    with Pool(TASK, jobs=2, limits=FAST, sandbox=mode) as pool:
        list(pool.run([(write_sub(tmp_path, "g", GOOD), [{"x": 1}])] * 2))
        pids = [w.proc.pid for w in pool.workers]
        assert pids
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


# ---------------------------------------------------------------- reaching outside (bubblewrap only)

def reach_out_source(ta: Path, port: int, marker: str) -> str:
    """A submission that knows the TA's paths (worse than guessing) and tries everything."""
    return f"""
        import glob, os, socket
        SEEN = []
        for pattern in ["{ta}/**", "/work/**", "/root/*", "/home/*", os.path.expanduser("~") + "/*", "/tmp/**"]:
            SEEN += [p for p in glob.glob(pattern, recursive=True)[:200] if os.path.exists(p)]
        READ = []
        for path in ["{ta}/grades.csv", "{ta}/class/alice/echo.py"]:
            try:
                READ.append(open(path).read())
            except OSError as exc:
                READ.append(type(exc).__name__)
        for folder in ["{ta}", "{ta}/class", "/tmp", "/var/tmp", "/dev/shm", os.getcwd() + "/..", "/"]:
            try:
                open(os.path.join(folder, "{marker}"), "w").write("pwned")
            except OSError:
                pass
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"hello")
            NET = "connected"
        except OSError as exc:
            NET = type(exc).__name__
        def answer(x):
            return {{"seen": SEEN, "read": READ, "net": NET}}
    """


def test_bubblewrap_hides_the_ta_files_the_network_and_the_host_tmp(tmp_path, ta):
    bubblewrap_or_skip()
    marker = f"PWNED-{uuid.uuid4().hex[:8]}"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    before = tree_hash(ta)
    sub = write_sub(tmp_path, "reach", reach_out_source(ta, port, marker))
    (run,) = run_all([(sub, [{"x": 1}])], "on")
    y = run.cases[0].payload["y"]
    assert not any(str(ta) in p for p in y["seen"]), y["seen"][:5]
    assert y["read"] == ["FileNotFoundError", "FileNotFoundError"]
    assert y["net"] != "connected"
    with pytest.raises(socket.timeout):
        listener.accept()
    listener.close()
    assert tree_hash(ta) == before
    for place in (ta, tmp_path, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")):
        assert not list(place.rglob(marker)) if place != Path("/tmp") else not list(place.glob(marker))


def test_next_submission_does_not_see_the_previous_ones_tmp(tmp_path):
    bubblewrap_or_skip()
    writer = write_sub(tmp_path, "writer", """
        import glob, os, tempfile
        open("/tmp/left-by-writer", "w").write("x")
        def answer(x):
            return sorted(glob.glob("/tmp/*") + glob.glob("/sandbox/*/*"))
    """)
    reader = write_sub(tmp_path, "reader", """
        import glob
        def answer(x):
            return sorted(glob.glob("/tmp/*") + glob.glob("/sandbox/*/*"))
    """)
    runs = run_all([(writer, [{"x": 1}]), (reader, [{"x": 1}])], "on", jobs=1)
    assert "/tmp/left-by-writer" in runs[0].cases[0].payload["y"]
    assert runs[1].cases[0].payload["y"] == [p for p in runs[1].cases[0].payload["y"] if "writer" not in p]
    assert all("writer" not in p for p in runs[1].cases[0].payload["y"])


def test_writes_to_every_fd_reach_nothing_outside(tmp_path, ta):
    bubblewrap_or_skip()
    outside = ta / "open-by-grader.log"
    handle = open(outside, "a")          # an fd the grader holds while it runs the pool
    before = tree_hash(ta)
    sub = write_sub(tmp_path, "fdwriter", """
        import os
        WROTE = []
        for name in os.listdir("/proc/self/fd"):
            try:
                os.write(int(name), b'{"ev": "result", "run": {"load": "ok"}}\\n{"verdict": "pass"}\\n')
                WROTE.append(int(name))
            except OSError:
                pass
        def answer(x):
            return WROTE
    """)
    (run,) = run_all([(sub, [{"x": 1}])], "on")
    handle.close()
    assert tree_hash(ta) == before
    assert run.load == "malformed"           # its own message pipe got the forged lines


# ---------------------------------------------------------------- modes

def test_sandbox_mode_choices(monkeypatch):
    with pytest.raises(ValueError):
        sandbox.sandbox_mode("maybe")
    assert sandbox.sandbox_mode("off")[0] == "fork"
    assert "OFF" in sandbox.sandbox_mode("off")[1]
    monkeypatch.setattr(sandbox, "_bubblewrap_problem", lambda: "bwrap not found")
    mode, note = sandbox.sandbox_mode("auto")
    assert mode == "fork" and note.startswith("sandbox: OFF") and "bwrap not found" in note
    with pytest.raises(SandboxError, match="bwrap not found"):
        sandbox.sandbox_mode("on")


def test_bubblewrap_note_when_it_works():
    bubblewrap_or_skip()
    with Pool(TASK, jobs=1, sandbox="on") as pool:
        assert pool.mode == "bubblewrap" and "no network" in pool.mode_note


def test_a_task_that_cannot_prepare_is_a_clear_error(mode):
    with pytest.raises(SandboxError, match="no_such_task_module"):
        with Pool("grading.tasks.no_such_task_module", jobs=1, sandbox=mode) as pool:
            list(pool.run([("x.py", [{}])]))


# ---------------------------------------------------------------- namespaces and caps of its own

def test_each_submission_gets_namespaces_and_caps_of_its_own(tmp_path, mode):
    # the runner must never fall back silently: ns_error "" means its own PID (and, in bubblewrap,
    # user) namespace was made; it sees itself as PID 1 and its process cap is set
    if mode == "off" and sandbox._namespace_problem():
        pytest.skip(f"no namespaces for the fork mode here: {sandbox._namespace_problem()}")
    sub = write_sub(tmp_path, "whoami", """
        import os, resource
        def answer(x):
            return [os.getpid(), resource.getrlimit(resource.RLIMIT_NPROC)[0]]
    """)
    (run,) = run_all([(sub, [{"x": 1}])], mode)
    assert run.ns_error == "", run.ns_error
    assert run.cases[0].status == "ok", run.cases[0].error
    pid, nproc = run.cases[0].payload["y"]
    assert pid == 1
    assert nproc == Limits().processes


def test_a_weaker_run_is_named_in_the_header():
    from grading import mlp_check, rubric, runner
    from grading.sandbox import SubmissionRun

    class WeakPool:
        mode_note, jobs = "sandbox: bubblewrap (stand-in)", 1

        def __init__(self, task, **kw):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def run(self, subs):
            for i, (path, _cases) in enumerate(subs):
                yield i, SubmissionRun(path=str(path), load="error", load_error="stand-in", missing_module=None,
                                       cases=[], ns_error="uid map refused (PermissionError)")

    good = Path(__file__).resolve().parents[1] / "submissions" / "mlp" / "good_base_style.py"
    report = runner.run_class(mlp_check, [str(good)], mlp_check.build_cases(), rubric.load("mlp"),
                              pool_factory=WeakPool, progress=False)
    assert "WEAKER for 1 submission(s)" in report.sandbox_note
    assert "uid map refused (PermissionError)" in report.sandbox_note


def test_the_machines_pid_max_is_never_changed(tmp_path, mode):
    # the pid cap is written only where pid_max belongs to the submission's own PID namespace
    from grading.zygote import pid_max_is_per_namespace

    assert pid_max_is_per_namespace("6.14.0") and pid_max_is_per_namespace("7.1.2-custom")
    assert not pid_max_is_per_namespace("6.13.12-arch1") and not pid_max_is_per_namespace("5.15.0-91-generic")
    assert not pid_max_is_per_namespace("unknown")
    before = Path("/proc/sys/kernel/pid_max").read_text()
    sub = write_sub(tmp_path, "pidmax", """
        def answer(x):
            return open("/proc/sys/kernel/pid_max").read().strip()
    """)
    (run,) = run_all([(sub, [{"x": 1}])], mode)
    assert run.cases[0].status == "ok", run.cases[0].error
    assert Path("/proc/sys/kernel/pid_max").read_text() == before
    if pid_max_is_per_namespace() and run.ns_error == "":
        assert run.cases[0].payload["y"] == str(max(301, Limits().processes + 1))
