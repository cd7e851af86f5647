"""Benchmark: the TA checkers on a generated class, timed end to end as a TA runs them.

    python benchmarks/bench_grade.py                 # 40 mlp.py submissions, 3 gd.py submissions x 10 labels
    python benchmarks/bench_grade.py --n 60 --gd-n 4 --out /tmp/class   # keep the class, the reports, the stdout
    python benchmarks/bench_grade.py --quick         # smoke run: 6 mlp submissions, 1 gd submission x 2 labels
    python benchmarks/bench_grade.py --sandbox off   # process isolation only (default: on, bubblewrap)
    python benchmarks/bench_grade.py --gradescope    # also: the Gradescope autograders at one CPU

The class is generated from the student-style submissions in tests/submissions/ (correct styles
and one-mistake files, cycled; every third student gets a subfolder with its mlp.py, the others a
file), so correct and buggy submissions are mixed. Each checker runs as a fresh process
(``python -m grading mlp CLASS --json --csv --gradebook``, ``python -m grading gd CLASS --json``)
with the sandbox on (bubblewrap: one warm zygote per job slot, a fresh child in its own PID
namespace per submission; ``--sandbox off``: the same without bubblewrap). Reported:
the wall-clock time of the whole command divided by the number of submissions (start-up and
torch import included: the amortised cost), the checker's own wall time from its totals line,
and whether every verdict is the expected one (correct -> PASS, buggy -> FAIL). Goals (issues 9
and 14): <= 0.5 s per mlp.py submission amortised on 2 cores with the sandbox on, <= 10 s per
gd.py submission for ten labels.
``--gradescope`` also builds the autograder zips (tools/make_autograder.py), unpacks each as
Gradescope does (source/, submission/, run_autograder at the root; the Python of this machine in
place of setup.sh's venv) and runs ``run_autograder`` on one correct and one buggy submission
pinned to one CPU (``taskset -c 0``; Gradescope's default is half a CPU), reporting seconds, the
score in results.json and the peak memory: the summed PSS of the whole process tree (the grader,
bubblewrap, the zygote, the student process), sampled every 50 ms from /proc. Gradescope's
defaults: 768 MB, 10 minutes.
Timings on a shared machine are noisy; the verdict check is not.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLP_SUBS = ROOT / "tests" / "submissions" / "mlp"
GD_SUBS = ROOT / "tests" / "submissions" / "gd"
GD_CLASS = ("gd_good.py", "gd_eval_left_on.py", "gd_descends.py", "gd_optimizes_weights.py")
GOALS = dict(mlp=0.5, gd=10.0)


def make_mlp_class(folder, n):
    """n submissions cycling through the correct and the one-mistake files; returns {path: expected}."""
    good = sorted(MLP_SUBS.glob("good_*.py"))
    bugs = sorted(MLP_SUBS.glob("bug_*.py"))
    pool = [(p, "PASS") for p in good] + [(p, "FAIL") for p in bugs]
    expected = {}
    for i in range(n):
        src, verdict = pool[(i * 7) % len(pool)]            # a stride that mixes good and buggy ones
        name = f"student_{i:03d}"
        if i % 3 == 0:
            (folder / name).mkdir()
            dst = folder / name / "mlp.py"
        else:
            dst = folder / f"{name}.py"
        shutil.copy(src, dst)
        expected[str(dst)] = verdict
    return expected


def make_gd_class(folder, n):
    expected = {}
    for i in range(n):
        src = GD_SUBS / GD_CLASS[i % len(GD_CLASS)]
        dst = folder / f"student_{i:03d}_gd.py"
        shutil.copy(src, dst)
        expected[str(dst)] = "PASS" if src.name in ("gd_good.py", "gd_eval_left_on.py") else "FAIL"
    return expected


def run(cmd, cwd):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1800)
    return proc, time.perf_counter() - t0


def checker_wall(stdout):
    m = re.search(r"; ([\d.]+) s wall", stdout)
    return float(m.group(1)) if m else float("nan")


def compare(expected, json_path):
    reports = json.loads(Path(json_path).read_text())["submissions"]
    got = {r["path"]: r["verdict"] for r in reports}
    wrong = {p: (v, got.get(p)) for p, v in expected.items() if got.get(p) != v}
    return got, wrong


def bench(kind, n, out, labels=None, jobs=None, sandbox="on"):
    folder = out / f"{kind}_class"
    folder.mkdir(parents=True)
    cmd = [sys.executable, "-m", "grading", kind, str(folder), "--json", str(out / f"{kind}_report.json"),
           "--gradebook", str(out / f"{kind}_grades.csv"), "--sandbox", sandbox, "--no-progress"]
    if kind == "mlp":
        expected = make_mlp_class(folder, n)
        cmd += ["--csv", str(out / "mlp_report.csv")]
    else:
        expected = make_gd_class(folder, n)
        if labels:
            cmd += ["--labels", labels]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    proc, wall = run(cmd, ROOT)
    (out / f"{kind}_stdout.txt").write_text(proc.stdout)
    got, wrong = compare(expected, out / f"{kind}_report.json")
    per = wall / n
    n_pass = sum(v == "PASS" for v in expected.values())
    print(f"{kind}: {n} submissions ({n_pass} correct, {n - n_pass} not) — {wall:.1f} s wall for the whole command "
          f"= {per:.2f} s per submission amortised (checker's own wall {checker_wall(proc.stdout):.1f} s); "
          f"goal <= {GOALS[kind]:g} s: {'met' if per <= GOALS[kind] else 'MISSED'}")
    print(f"{kind}: verdicts as expected for {n - len(wrong)}/{n}" + (f"; WRONG: {wrong}" if wrong else ""))
    summary = [ln for ln in proc.stdout.splitlines() if ln.startswith("totals:")]
    note = [ln for ln in proc.stdout.splitlines() if ln.startswith("sandbox:")]
    print(f"{kind}: {note[0] if note else '(no sandbox line)'}")
    print(f"{kind}: checker says {summary[0] if summary else '(no totals line)'}")
    return dict(kind=kind, n=n, wall_s=round(wall, 2), per_submission_s=round(per, 3), wrong=wrong,
                goal_s=GOALS[kind], stdout=proc.stdout, exit=proc.returncode)


def _tree(root_pid):
    """root_pid and every descendant (a /proc scan)."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    todo, seen = [root_pid], []
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo += children.get(pid, [])
    return seen


def _pss_mib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                total += next((int(ln.split()[1]) for ln in fh if ln.startswith("Pss:")), 0)
        except OSError:
            pass
    return total / 1024


def gradescope(out):
    """run_autograder on a correct and a buggy mlp.py and gd.py at one CPU: seconds, score, peak PSS."""
    dist = out / "dist"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_autograder.py"), "--out", str(dist)],
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise SystemExit(f"make_autograder failed: {done.stderr[-1000:]}")
    import zipfile
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    rows = []
    for kind, name, src in (("mlp", "mlp.py", MLP_SUBS / "good_base_style.py"),
                            ("mlp", "mlp.py", MLP_SUBS / "bug_mse_sign_flipped.py"),
                            ("gd", "gd.py", GD_SUBS / "gd_good.py"),
                            ("gd", "gd.py", GD_SUBS / "gd_descends.py")):
        root = out / f"gradescope_{kind}_{src.stem}"
        with zipfile.ZipFile(dist / f"{kind}.zip") as zf:
            zf.extractall(root / "source")
        for script in ("run_autograder", "setup.sh"):
            (root / "source" / script).chmod(0o755)
        shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
        (root / "submission").mkdir()
        shutil.copy(src, root / "submission" / name)
        env = dict({k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, AUTOGRADER_ROOT=str(root))
        t0 = time.perf_counter()
        proc = subprocess.Popen(pin + [str(root / "run_autograder")], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _pss_mib(_tree(proc.pid)))
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        proc.stdout.read()
        result = json.loads((root / "results" / "results.json").read_text())
        rows.append(dict(kind=kind, submission=src.name, seconds=round(wall, 1), score=result["score"],
                         peak_pss_mib=round(peak)))
        print(f"gradescope {kind}: {src.name:<26} {wall:6.1f} s at one CPU, score {result['score']:g}, "
              f"peak PSS {peak:.0f} MiB (limit 768 MB, 600 s: "
              f"{'within' if peak * 2**20 <= 768e6 and wall <= 600 else 'OVER'})")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="mlp.py submissions (default 40)")
    parser.add_argument("--gd-n", type=int, default=3, help="gd.py submissions (default 3, ten labels each)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 6 mlp, 1 gd submission on 2 labels")
    parser.add_argument("--out", help="keep the generated class and the reports in this (new) folder")
    parser.add_argument("--jobs", type=int, default=0, help="submissions at once (default: the cores)")
    parser.add_argument("--sandbox", choices=("on", "off"), default="on",
                        help="on: bubblewrap (the default, what the goals are about); off: process isolation only")
    parser.add_argument("--gradescope", action="store_true",
                        help="also run the Gradescope autograders at one CPU (seconds, peak memory)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.gd_n < 0:
        parser.error("--n must be >= 1 and --gd-n >= 0")
    n, gd_n, labels = (6, 1, "0,1") if args.quick else (args.n, args.gd_n, None)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-grade-"))
    out.mkdir(parents=True, exist_ok=True)
    results = [bench("mlp", n, out, jobs=args.jobs, sandbox=args.sandbox)]
    if gd_n:
        results.append(bench("gd", gd_n, out, labels=labels, jobs=args.jobs, sandbox=args.sandbox))
    if args.gradescope:
        gradescope(out)
    print(f"reports: {out}")
    if not args.out:
        shutil.rmtree(out, ignore_errors=True)
    return 1 if any(r["wrong"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
