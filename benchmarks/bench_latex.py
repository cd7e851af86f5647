"""How long a LaTeX answer takes to be read and judged, and a whole write-up to be checked.

    python benchmarks/bench_latex.py [WRITE-UP ...]

Prints, for a few answers (one per kind of check), the time lab.latex.read takes and the time the
check takes with the answer (reading included), warm (after one call of each check); then, for each
write-up given, the time lab.theory_check takes on it in this process (imports excluded). The issue's
targets: an answer ≤ 0.5 s, a write-up ≤ 10 s. No timing is asserted anywhere.
"""
import sys
import time
from pathlib import Path

ANSWERS = [
    ("check_gradients", {}, "dl_dW1", r"x\,\frac{\partial \ell}{\partial \hat{y}}\frac{\partial \hat{y}}{\partial z_3}"
                                      r" W^{(2)} \frac{\partial z_2}{\partial z_1}"),
    ("check_jacobians", {"question": "1.3a"}, "dz2_dz1", r"\operatorname{diag}(1 - \tanh^2(z_1))"),
    ("check_forward", {}, "z3", r"W^{(2)}\,5(W^{(1)}x + b^{(1)})^+ + b^{(2)}"),
    ("check_bce_gradient", {}, "dl_dyhat", r"\frac{1}{K}\left(\frac{\hat y - y}{\hat y \odot (1-\hat y)}\right)^\top"),
    ("check_loss", {"which": "logistic"}, "L", r"\log(1 + e^{-2yz})"),
    ("check_derivatives", {}, "gelu", r"\Phi(z) + z\,\phi(z)"),
    ("check_objective", {}, "objective", r"\arg\min_\theta \frac1N\sum_{i=1}^N \|F_\theta(x_i) - y_i\|^2"),
]


def main(paths):
    t0 = time.perf_counter()
    from lab import exercises, latex, theory_check
    print(f"imports (torch, sympy, lark, the checks): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    latex.parse_tree("x")
    print(f"lark parser built or loaded from its cache: {time.perf_counter() - t0:.3f} s")
    print(f"{'check':<20} {'quantity':<10} {'read s':>8} {'judged s':>9}  verdict")
    for check, extra, q, text in ANSWERS:
        fn = getattr(exercises, check)
        spec = exercises.FORMULAS[check][q]
        fn(**{q: text}, **extra, verbose=False)                       # warm: the check's draws, autograd
        t0 = time.perf_counter()
        latex.read(text, quantity=q, allowed=spec["allowed"], kind=spec["kind"])
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        v = fn(**{q: text}, **extra, verbose=False)
        t_judge = time.perf_counter() - t0
        print(f"{check:<20} {q:<10} {t_read:>8.3f} {t_judge:>9.3f}  {v.status}")
    for path in paths:
        t0 = time.perf_counter()
        res = theory_check.check_text(Path(path).read_text(encoding="utf-8", errors="replace"))
        print(f"write-up {Path(path).name}: {len(res.equations)} judged, {len(res.skipped)} skipped in "
              f"{time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
