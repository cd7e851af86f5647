"""The TA's whole command on a class folder of good and hostile submissions, with the sandbox on.

``python mlp.py --check CLASS --json out.json`` (and ``python gd.py --check``) run from a TA's
folder that holds a gradebook; the class folder holds correct work, a buggy file and every hostile
file of tests/submissions/. Asserted for each: its verdict and reason, the TA's files
byte-identical, no file planted outside the sandbox, nobody connected to a local port, no process
left behind, the batch complete. Needs bubblewrap: skipped where it cannot run, except with
BACKPROP_REQUIRE_SANDBOX=1 (CI), where that is a failure.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from grading import sandbox

ROOT = Path(__file__).resolve().parents[2]
MLP_DIR, GD_DIR = ROOT / "tests" / "submissions" / "mlp", ROOT / "tests" / "submissions" / "gd"
PLANTED = "PWNED_BY_SUBMISSION.txt"
SLEEP_MARKERS = ("3600.4242", "3600.4243")

# file -> (verdict, words expected in its reason/diagnosis, or "" for none)
MLP_EXPECTED = {
    "good_functional.py": ("PASS", ""),
    "good_base_style.py": ("PASS", ""),
    "bug_mse_sign_flipped.py": ("FAIL", "sign"),
    "hostile_patched_norms.py": ("FAIL", "sign"),          # torch's norms patched: the grader compares elsewhere
    "hostile_forge_fds.py": ("ERROR", "malformed"),        # its forged lines reached only its own pipe
    "hostile_kill_parent.py": ("PASS", ""),                # nobody to kill: the grader is outside its namespace
    "hostile_read_files.py": ("PASS", ""),                 # PASS only if it found no other submission
    "hostile_write_files.py": ("PASS", ""),
    "hostile_connect_local.py": ("PASS", ""),
    "hostile_setsid_children.py": ("PASS", ""),
    "hostile_files.py": ("PASS", ""),
    "hostile_fork_bomb.py": ("PASS", ""),                 # PASS only if its forks were refused early
    "hostile_fill_disk.py": ("PASS", ""),                 # PASS only if every writable place was small
    "hostile_hang.py": ("FAIL", "not run"),
    "hostile_huge_alloc.py": ("ERROR", "memory"),
    "hostile_os_exit.py": ("ERROR", "exited"),
    "hostile_print_flood.py": ("ERROR", "File too large"),
    "hostile_syntax.py": ("ERROR", "SyntaxError"),
    "hostile_sys_exit.py": ("ERROR", "sys.exit"),
}
GD_EXPECTED = {
    "gd_good.py": ("PASS", ""),
    "hostile_gd_weights_patch.py": ("FAIL", ""),          # scored on the grader's own copy of the model
    "hostile_gd_reach_out.py": ("PASS", ""),
}


@pytest.fixture(autouse=True)
def need_bubblewrap():
    mode, note = sandbox.sandbox_mode("auto")
    if mode != "bubblewrap":
        if os.environ.get("BACKPROP_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"BACKPROP_REQUIRE_SANDBOX=1 but the sandbox does not work here: {note}")
        pytest.skip(f"bubblewrap sandbox unavailable: {note}")


def tree_hash(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def planted_files() -> list[Path]:
    """Files the write attack would leave where a TA's machine would notice."""
    found = []
    for place in (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path.home(), Path("/root"), Path("/work"),
                  Path("/"), ROOT, ROOT.parent):
        if (place / PLANTED).exists():
            found.append(place / PLANTED)
    return found


def sleepers() -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                cmd = Path(f"/proc/{name}/cmdline").read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            if any(m in cmd for m in SLEEP_MARKERS):
                pids.append(int(name))
    return pids


@pytest.fixture
def listener():
    """A local service the submissions might reach: it must see nobody."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.3)
    yield sock
    sock.close()


def make_class(tmp_path: Path, source: Path, names) -> tuple[Path, Path]:
    """A TA folder (gradebook, notes) holding a class folder with one folder per student."""
    ta = tmp_path / "ta"
    klass = ta / "class"
    klass.mkdir(parents=True)
    (ta / "gradebook.csv").write_text("student,score\nalice,35\nbob,12\n")
    (ta / "notes.txt").write_text("TA notes: nobody may write here\n")
    for name in names:
        student = klass / Path(name).stem
        student.mkdir()
        target = "mlp.py" if source == MLP_DIR else "gd.py"
        shutil.copyfile(source / name, student / target)
    return ta, klass


def run_checker(script: str, ta: Path, klass: Path, *args: str, timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = ta.parent / "report.json"
    done = subprocess.run([sys.executable, str(ROOT / script), "--check", str(klass), "--json", str(out),
                           "--no-progress", "--sandbox", "on", *args], cwd=ta, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert out.exists(), f"no report (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    report = json.loads(out.read_text())
    assert "bubblewrap" in report["sandbox"], report["sandbox"]
    return report


def check_verdicts(report: dict, expected: dict) -> None:
    def student(path):   # the folder right under class/
        parts = Path(path).parts
        return parts[parts.index("class") + 1]

    by_name = {student(s["path"]): s for s in report["submissions"]}
    assert len(report["submissions"]) == len(expected), "the batch is not complete"
    for name, (verdict, words) in expected.items():
        sub = by_name[Path(name).stem]
        said = json.dumps([sub.get("reason"), sub.get("diagnoses"), sub.get("notes"), sub.get("cases")])
        assert sub["verdict"] == verdict, f"{name}: {sub['verdict']} ({sub.get('reason')})"
        assert words in said, f"{name}: {words!r} not in its reason/diagnosis"


def test_mlp_class_with_hostile_submissions(tmp_path, listener):
    ta, klass = make_class(tmp_path, MLP_DIR, MLP_EXPECTED)
    before, repo_before = tree_hash(ta), tree_hash(MLP_DIR)
    assert not planted_files() and not sleepers()
    report = run_checker("mlp.py", ta, klass, "--case-timeout", "3", "--timeout", "60", timeout=500)
    check_verdicts(report, MLP_EXPECTED)
    assert tree_hash(ta) == before, "the TA's folder changed"
    assert tree_hash(MLP_DIR) == repo_before
    assert not list(tmp_path.rglob(PLANTED)) and planted_files() == []
    assert sleepers() == [], "processes left behind"
    with pytest.raises(socket.timeout):
        listener.accept()


def test_gd_class_with_hostile_submissions(tmp_path, listener):
    ta, klass = make_class(tmp_path, GD_DIR, GD_EXPECTED)
    before = tree_hash(ta)
    report = run_checker("gd.py", ta, klass, "--labels", "3,7", timeout=500)
    check_verdicts(report, GD_EXPECTED)
    weights = next(s for s in report["submissions"] if "weights_patch" in s["path"])
    assert weights["score"] < next(s for s in report["submissions"] if "gd_good" in s["path"])["score"]
    assert tree_hash(ta) == before
    assert not list(tmp_path.rglob(PLANTED)) and planted_files() == []
    assert sleepers() == []
    with pytest.raises(socket.timeout):
        listener.accept()
