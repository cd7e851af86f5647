"""The mlp.py check (grading/mlp_check.py, `python mlp.py --check [path]`) on our mlp.py and on
deliberately broken copies: it must pass ours, fail the broken ones, and name the wrong quantities."""
import subprocess
import sys
from pathlib import Path

import pytest

from grading import cli, mlp_check

ROOT = Path(__file__).resolve().parents[2]
SOURCE = (ROOT / "mlp.py").read_text()
W = mlp_check.WIDTHS
PREFIX = sum(W.values())   # f, g, loss, shape columns (see mlp_check.format_table)
CELL = mlp_check.CELL
NAMES = {"ident": "identity", "5relu": "scaled_relu"}


def parse_rows(text, section="core"):
    """Table rows of one section as dicts: f, g, loss, shape, and one entry per quantity."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(section)) + 3   # title, header, rule
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        if line.startswith(("    ->", "    =>")):
            rows[-1].setdefault("notes", []).append(line.strip())
            continue
        a, b, c = W["f"], W["f"] + W["g"], W["f"] + W["g"] + W["loss"]
        f, g, loss, shape = line[:a].strip(), line[a:b].strip(), line[b:c].strip(), line[c:PREFIX].strip()
        f, g = NAMES.get(f, f), NAMES.get(g, g)
        rest = line[PREFIX:]
        cells = {q: rest[i * CELL:(i + 1) * CELL].strip() for i, q in enumerate(mlp_check.QUANTITIES)}
        rows.append(dict(f=f, g=g, loss=loss, shape=shape, raw=rest, **cells))
    return rows


def broken_copy(tmp_path, old, new, name="mlp.py"):
    assert SOURCE.count(old) == 1, f"mlp.py no longer contains {old!r}; update this test"
    folder = tmp_path / name.replace(".py", "")
    folder.mkdir()
    path = folder / "mlp.py"
    path.write_text(SOURCE.replace(old, new))
    return path


def run_main(path, capsys):
    code = cli.main([str(path), "--no-progress"], kind="mlp")
    return code, capsys.readouterr().out


def test_our_mlp_passes_from_the_command_line():
    proc = subprocess.run([sys.executable, "mlp.py", "--check"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    rows = parse_rows(proc.stdout)
    assert len(rows) == 36                      # 3 shapes x (9 MSE + 3 BCE); the saturated case is apart
    assert all(r[q] == "ok" for r in rows for q in mlp_check.QUANTITIES)
    assert {(r["f"], r["g"]) for r in rows} >= {(f, g) for f in ("relu", "sigmoid", "identity")
                                               for g in ("relu", "sigmoid", "identity")}
    assert "WARNING" not in proc.stdout          # our BCE clamps like nn.BCELoss: no saturation warning
    assert proc.stdout.startswith("PASS 35/35 points — ")           # verdict and score first
    assert "rule: ‖ours − autograd‖ < 1e-3" in proc.stdout
    assert max(len(ln) for ln in proc.stdout.splitlines()) <= 100
    extras = parse_rows(proc.stdout, "extras")
    assert {r["f"] for r in extras} >= {"tanh", "scaled_relu"}
    assert "summary: PASS" in proc.stdout


def test_module_form_and_explicit_path(capsys):
    code, out = run_main(ROOT / "mlp.py", capsys)
    assert code == 0 and "summary: PASS" in out
    assert cli.main(["--check", str(ROOT / "mlp.py"), "--no-progress"], kind="mlp") == 0   # `python mlp.py --check`
    assert cli.main(["mlp", str(ROOT / "mlp.py"), "--no-progress"]) == 0                   # `python -m grading mlp`


def test_relu_backward_without_its_mask_fails_the_relu_rows(tmp_path, capsys):
    path = broken_copy(tmp_path, "    return dJda * (z > 0)", "    return dJda * 1.0 + 0 * (z > 0)")
    code, out = run_main(path, capsys)
    assert code == 1
    assert "summary: FAIL" in out
    rows = parse_rows(out)
    for r in rows:
        uses_relu = "relu" in (r["f"], r["g"])
        # Forward values and the loss are untouched; only gradients can be wrong.
        assert r["y_hat"] == r["J"] == r["dJdy_hat"] == "ok", r
        if not uses_relu:
            assert r["raw"].split() == ["ok"] * 7, r
    # Every row with f = relu gets the first layer's gradients wrong, with the max error shown.
    for r in (r for r in rows if r["f"] == "relu"):
        assert float(r["dJdW1"].rstrip("r")) > 1e-3, r
        assert float(r["dJdb1"].rstrip("r")) > 1e-3, r
    # g = relu, f ≠ relu: the second layer's gradients are wrong too.
    assert any(r["g"] == "relu" and r["dJdW2"] != "ok" for r in rows)


def test_mse_without_one_over_n_fails_the_mse_rows_only(tmp_path, capsys):
    path = broken_copy(tmp_path, "dJdy_hat = 2 * diff / diff.numel()", "dJdy_hat = 2 * diff")
    code, out = run_main(path, capsys)
    assert code == 1
    rows = parse_rows(out)
    for r in rows:
        if r["loss"] == "mse":
            assert r["dJdy_hat"] != "ok" and float(r["dJdy_hat"].rstrip("r")) > 1e-3, r
            assert r["y_hat"] == r["J"] == "ok", r
        else:
            assert r["raw"].split() == ["ok"] * 7, r


def test_bias_gradient_of_the_wrong_shape_is_named(tmp_path, capsys):
    path = broken_copy(tmp_path, "dJdb = dJdz.sum(dim=0)  ", "dJdb = dJdz.sum(dim=0).unsqueeze(1)  ")
    code, out = run_main(path, capsys)
    assert code == 1
    rows = parse_rows(out)
    assert all(r["dJdb1"] == "shape" and r["dJdW1"] == "ok" for r in rows)
    # an output of size 1 makes the column (1, 1), which the course's norm compares with (1,)
    assert all(r["dJdb2"] == ("ok~" if r["shape"].endswith("-1") else "shape") for r in rows)
    assert "dJdb1: shape: expected (20,), got (20, 1)" in out
    assert "dJdb1: wrong shape: expected (20,), got (20, 1); the values are right, only the shape is" in out


def test_a_bias_gradient_row_passes_as_the_course_broadcasts_it_with_a_warning(tmp_path, capsys):
    # (1, h) against (h,): the course's (autograd - ours).norm() broadcasts it and the values are right
    path = broken_copy(tmp_path, "dJdb = dJdz.sum(dim=0)  ", "dJdb = dJdz.sum(dim=0, keepdim=True)  ")
    code, out = run_main(path, capsys)
    assert code == 0, out
    assert all(r["dJdb1"] == r["dJdb2"] == "ok~" for r in parse_rows(out))
    assert "WARNING: shapes differ from PyTorch's .grad (dJdb1 expected (20,), got (1, 20)" in " ".join(out.split())


def test_a_submission_that_raises_is_reported_not_a_traceback(tmp_path, capsys):
    path = broken_copy(tmp_path, "    return dJda * (z > 0)",
                       "    raise NotImplementedError('TODO: relu backward')")
    code, out = run_main(path, capsys)
    assert code == 1
    assert "Traceback" not in out
    rows = parse_rows(out)
    relu_rows = [r for r in rows if "relu" in (r["f"], r["g"])]
    assert relu_rows and all(r["dJdW1"] == "raised" for r in relu_rows)
    assert all(any("backward(dJdy_hat): NotImplementedError: TODO: relu backward" in n for n in r["notes"])
               for r in relu_rows)
    assert all(r["raw"].split() == ["ok"] * 7 for r in rows if "relu" not in (r["f"], r["g"]))


def test_extras_the_module_rejects_are_na_and_do_not_count(tmp_path, capsys):
    path = broken_copy(tmp_path, '    "tanh": (tanh, tanh_backward),\n', "")
    code, out = run_main(path, capsys)
    assert code == 0, out
    extras = parse_rows(out, "extras")
    tanh_rows = [r for r in extras if "tanh" in (r["f"], r["g"])]
    assert tanh_rows and all(r["raw"].startswith("n/a") and "unknown" in r["raw"] for r in tanh_rows)
    assert "PASS 35/35" in out.splitlines()[0]


@pytest.mark.parametrize("content,expected", [
    ("def f(:\n", "SyntaxError"),
    ("import torch\nclass MLP: pass\n", "does not define mse_loss, bce_loss"),
    ("raise ImportError('no numpy here')\n", "ImportError: no numpy here"),
    ("import sys\nsys.exit(3)\n", "sys.exit(3) called"),
])
def test_unloadable_files_exit_2_with_a_message(tmp_path, capsys, content, expected):
    path = tmp_path / "mlp.py"
    path.write_text(content)
    code, out = run_main(path, capsys)
    assert code == 2
    assert "summary: ERROR 0/35 — cannot load" in out and expected in " ".join(out.split())


def test_missing_file(tmp_path, capsys):
    code, out = run_main(tmp_path / "nope.py", capsys)
    assert code == 2 and "no such file" in out


AUTOGRAD_SUBMISSION = """
import torch
ACTS = dict(relu=torch.relu, sigmoid=torch.sigmoid, identity=lambda z: z)
class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.f, self.g, self.grads = ACTS[f_function], ACTS[g_function], {}
    def clear_grad_and_cache(self):
        self.grads = {"dJd" + k: torch.zeros_like(v) for k, v in self.parameters.items()}
    def forward(self, x):
        self.p = {k: v.clone().requires_grad_(True) for k, v in self.parameters.items()}
        self.out = self.g(self.f(x @ self.p["W1"].T + self.p["b1"]) @ self.p["W2"].T + self.p["b2"])
        return self.out.detach()
    def backward(self, dJdy_hat):          # forbidden: lets autograd do the work
        self.out.backward(dJdy_hat)
        self.grads = {"dJd" + k: v.grad for k, v in self.p.items()}
def mse_loss(y, y_hat):
    d = y_hat - y
    return (d * d).mean(), 2 * d / d.numel()
def bce_loss(y, y_hat):
    raise NotImplementedError("bce")
"""


def test_a_submission_leaning_on_autograd_fails(tmp_path, capsys):
    """Run under torch.no_grad() (CONTRACT.md), a backward that calls autograd cannot work."""
    path = tmp_path / "mlp.py"
    path.write_text(AUTOGRAD_SUBMISSION)
    code, out = run_main(path, capsys)
    assert code == 1
    rows = parse_rows(out)
    mse_rows = [r for r in rows if r["loss"] == "mse"]
    assert all(r["y_hat"] == r["J"] == r["dJdy_hat"] == "ok" for r in mse_rows)    # its forward is right
    assert all(r["dJdW1"] == "raised" for r in mse_rows)
    assert "does not require grad" in out
    assert "FLAG: uses autograd: line 19 `self.out.backward(dJdy_hat)`" in " ".join(out.split())   # its own flag
