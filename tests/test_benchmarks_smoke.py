"""benchmarks/bench_mlp.py and bench_gd.py --quick still run and print their figures (structure only: no
timing asserted)."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^(\d+)x(\d+)-(\d+)-(\d+)\s+(\w+)/(\w+)/(mse|bce)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+"
                 r"([\d.]+)\s+([\d.]+)\s+<=([\d.]+)\s+([\d.e+-]+)\s+(\S+)\s+(\S+)$")


def test_no_benchmark_edits_sys_path():
    """The project is installed (`pip install -e .`): the benchmarks import it like any package."""
    offenders = [p.name for p in sorted((ROOT / "benchmarks").glob("*.py")) if "sys.path" in p.read_text()]
    assert not offenders, f"sys.path edited in {offenders}"


def test_bench_mlp_quick_runs_and_prints_the_table(tmp_path):
    # run from another folder: the script finds mlp.py through the installed project, not the cwd
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_mlp.py"), "--quick"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("batch x in-hidden-out"))
    for column in ("ms ours", "ms autograd", "ratio", "cpu ratio", "min ratio", "target", "max|dgrad|", "MiB ours",
                   "MiB autograd"):
        assert column in header
    rows = [ROW.match(line.replace("   <- target missed", "")) for line in lines]
    rows = [m for m in rows if m]
    assert len(rows) == 3, proc.stdout
    assert rows[0].group(1, 2, 3, 4) == ("10", "2", "20", "5")       # the course's network comes first
    for m in rows:
        ms_ours, ms_auto, ratio = float(m.group(9)), float(m.group(10)), float(m.group(11))
        assert ms_ours > 0 and ms_auto > 0
        assert abs(ratio - ms_ours / ms_auto) < 0.01 + 0.01 * ratio   # the ratio is what the columns say
        assert float(m.group(15)) < 1e-3, "the benchmark compares the gradients before timing them"
    # Peak memory is measured (in subprocesses) for the first size in quick mode.
    assert float(rows[0].group(16)) >= 0 and float(rows[0].group(17)) >= 0
    assert rows[1].group(16) == rows[1].group(17) == "-"
    assert any(line.startswith("targets") for line in lines)
    assert any(line.startswith("memory:") for line in lines)


def test_bench_gd_quick_prints_the_224_px_figures_and_the_digits_figures():
    proc = subprocess.run([sys.executable, "benchmarks/bench_gd.py", "--quick", "--threads", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    figures = {}
    for key in ("COURSE_224_SECONDS_PER_LABEL", "VGG_OVERHEAD_RATIO", "OVERHEAD_RATIO", "PREVIEW_SECONDS",
                "GALLERY_SECONDS"):
        m = re.search(rf"^{key}: ([\d.]+) \(", out, re.M)
        assert m, (key, out)
        figures[key] = float(m.group(1))
        assert figures[key] > 0
    # the VGG line reports both per-iteration times it compares
    m = re.search(r"bare forward\+backward ([\d.]+) ms/iteration, gd.visualize with vgg13_bn's tricks ([\d.]+) ms", out)
    assert m and float(m.group(1)) > 0 and float(m.group(2)) > 0


GRADE_LINE = re.compile(r"^(mlp|gd): (\d+) submissions \((\d+) correct, (\d+) not\) — ([\d.]+) s wall for the whole "
                        r"command = ([\d.]+) s per submission amortised \(checker's own wall ([\d.]+) s\); "
                        r"goal <= ([\d.]+) s: (met|MISSED)$")


def test_bench_grade_quick_runs_and_every_verdict_is_the_expected_one():
    proc = subprocess.run([sys.executable, "benchmarks/bench_grade.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    rows = {m.group(1): m for m in map(GRADE_LINE.match, lines) if m}
    assert set(rows) == {"mlp", "gd"}, proc.stdout
    assert rows["mlp"].group(2) == "6" and rows["gd"].group(2) == "1"
    for m in rows.values():
        n, wall, per = int(m.group(2)), float(m.group(5)), float(m.group(6))
        assert abs(per - wall / n) < 0.01 + 0.01 * per          # the amortised figure is what the columns say
    assert "mlp: verdicts as expected for 6/6" in lines
    assert "gd: verdicts as expected for 1/1" in lines
    assert any(ln.startswith("mlp: sandbox: ") for ln in lines)          # the sandbox says what it is
