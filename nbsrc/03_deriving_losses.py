# ---
# jupyter:
#   jupytext:
#     formats: notebooks///ipynb,nbsrc///py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Deriving loss functions from an update rule — homework question 1.4
#
# Three classic algorithms share one update rule for a single example $(\boldsymbol{x}, y)$:
#
# $$w_i \leftarrow w_i + \eta\,(y-\hat y)\,x_i,\qquad b \leftarrow b + \eta\,(y-\hat y),\qquad
# z = b+\sum_{i=1}^d w_i x_i,$$
#
# and differ only in the prediction $\hat y$. We look for a loss $L$ such that **gradient descent on $L$ is this
# rule**: $w_i \leftarrow w_i - \eta\,\partial L/\partial w_i$. Writing the bias as a weight $w_0 = b$ on a constant
# input $x_0 = 1$, the requirement for every $i$ is
#
# $$\frac{\partial L}{\partial w_i} = -(y-\hat y)\,x_i .$$
#
# $L$ depends on the weights only through $z$, and $\partial z/\partial w_i = x_i$, so by the chain rule
# $\partial L/\partial w_i = \frac{dL}{dz}\,x_i$. The requirement therefore reduces to **one scalar equation**:
#
# $$\frac{dL}{dz} = \hat y(z) - y \qquad\Longrightarrow\qquad L(z) = \int \big(\hat y(z) - y\big)\,dz .$$
#
# If instead $dL/dz = c\,(\hat y - y)$ with a constant $c>0$, gradient descent with step $\eta/c$ gives the same
# weights: such a factor is absorbed in the learning rate.
#
# **Exercises.** For each algorithm, write your loss as a sympy expression in the symbols `z` and `y` (the
# exercise cell defines them). The check differentiates it with sympy and tests, at 40 random points, that
# $-dL/dz$ is a positive constant times $y - \hat y$ (it says which constant); it names the classic slips. You can
# also try your loss in the simulation below: `run_gd(lambda z, y: ..., Y, eta)` against `run_rule(predict, Y, eta)`.
# Each derivation below is checked symbolically, and a
# simulation runs the update rule and gradient descent (autograd) on the derived loss side by side: the weight
# trajectories must agree to rounding error.

# %%
import math

import matplotlib.pyplot as plt
import sympy as sp
import torch
import torch.nn.functional as F

from lab import exercises
from lab.figures import save_figure
from lab.gradcheck import cmp
from lab.theory import fmt
from lab.latex.widget import latex_box

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
torch.manual_seed(0)
N, d = 30, 2
X = torch.cat([torch.ones(N, 1), torch.randn(N, d)], dim=1)        # column 0 is the constant input of b
Y_class = torch.sign(X @ torch.tensor([-0.2, 1.0, 0.5]))             # labels in {-1, +1}
Y_real = X @ torch.tensor([0.3, 1.5, -1.0]) + 0.1 * torch.randn(N)   # real targets (Adaline)
w0 = torch.tensor([0.5, -1.0, 0.8])                                  # a nonzero start: z = 0 never happens
EPOCHS = 3


z, y = sp.symbols("z y", real=True)            # for the exercises: z = b + Σᵢ wᵢxᵢ, y the label


def run_rule(predict, Y, eta):
    """The update rule w <- w + η (y - ŷ) x, one example at a time; returns every weight vector."""
    w, path, zs = w0.clone(), [w0.clone()], []
    for _ in range(EPOCHS):
        for x, y in zip(X, Y):
            z = w @ x
            zs.append(z.item())
            w = w + eta * (y - predict(z)) * x
            path.append(w.clone())
    return torch.stack(path), zs


def run_gd(loss, Y, eta):
    """Gradient descent w <- w - η ∂L/∂w on the same examples in the same order, gradients by autograd."""
    w, path = w0.clone(), [w0.clone()]
    for _ in range(EPOCHS):
        for x, y in zip(X, Y):
            leaf = w.clone().requires_grad_(True)
            loss(leaf @ x, y).backward()
            w = w - eta * leaf.grad
            path.append(w.clone())
    return torch.stack(path)


# %% [markdown]
# ## 1.4(1) Perceptron: $\hat y = \mathrm{sign}(z)$, labels $y\in\{-1,+1\}$
#
# **Exercise.** A loss $L(z, y)$ whose gradient descent is the perceptron's update (`sp.Abs`, `sp.Max`, `sp.sign` are allowed).

# %% tags=["exercise"]
my_L_perceptron = None                        # your loss: a sympy expression in z and y
exercises.check_loss("perceptron", my_L_perceptron)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_L_perceptron_latex = None        # your LaTeX, e.g. r"L(z, y) = \ldots"
exercises.check_loss("perceptron", my_L_perceptron_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_loss, "L", which="perceptron")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
#
# **Step 1 — the condition.** $dL/dz = \mathrm{sign}(z) - y$.
#
# **Step 2 — integrate.** $\mathrm{sign}$ is constant on each side of 0, and $\int\mathrm{sign}(z)\,dz = |z|$ (away from
# $z=0$, $\frac{d}{dz}|z| = \mathrm{sign}(z)$). So
#
# $$L(z) = |z| - yz \;=\; -(y - \hat y)\,z \qquad(\text{because } \hat y\,z = \mathrm{sign}(z)\,z = |z|).$$
#
# **Step 3 — read it case by case.** Correct prediction, $\mathrm{sign}(z) = y$: then $|z| = yz$, so $L = 0$ and
# $y-\hat y = 0$ — no update, as in the rule. Mistake, $\mathrm{sign}(z) = -y$: then $|z| = -yz$, so $L = -2yz > 0$ and
# $dL/dz = -2y$, while the rule uses $y - \hat y = y-(-y) = 2y$ — they match. Both cases together:
#
# $$L(z) = 2\max(0,\,-yz).$$
#
# **Step 4 — the factor 2.** The textbook *perceptron criterion* is $\max(0,-yz)$, whose gradient on a mistake is
# $-y\,\boldsymbol{x}$, half of the rule's $-(y-\hat y)\boldsymbol{x} = -2y\,\boldsymbol{x}$. Gradient descent on it with step $2\eta$
# reproduces the rule exactly — the 2 is absorbed into the learning rate. (Starting from $\boldsymbol{w}=0$, the
# perceptron's decisions do not depend on $\eta$ at all: every weight vector is then $\eta$ times an integer
# combination of examples, and $\mathrm{sign}(z)$ ignores the scale.) (At $z=0$ exactly, $|z|$ has a kink; `torch.sign(0)` is 0,
# and any subgradient is a valid choice. The simulation asserts it never lands there.)

# %% tags=["solution"]
zg = torch.linspace(-3, 3, 601)
for yv in (-1.0, 1.0):
    y_t = torch.full_like(zg, yv)
    assert cmp(f"|z|-yz, y={yv:+.0f}", zg.abs() - y_t * zg, 2 * torch.relu(-y_t * zg))
    assert cmp(f"-(y-ŷ)z, y={yv:+.0f}", -(y_t - torch.sign(zg)) * zg, 2 * torch.relu(-y_t * zg))

zp, zn = sp.Symbol("z", positive=True), sp.Symbol("z", negative=True)
ys = sp.Symbol("y", real=True)
for zz, sign in ((zp, 1), (zn, -1)):                     # each side of the kink
    assert sp.simplify(sp.diff(sp.Abs(zz) - ys * zz, zz) - (sign - ys)) == 0
print("sympy: d/dz (|z| - y z) = sign(z) - y on both sides of 0")

# %% tags=["solution"]
eta = 0.1
rule_p, zs = run_rule(torch.sign, Y_class, eta)
gd_p = run_gd(lambda z, y: 2 * torch.relu(-y * z), Y_class, eta)
gd_p_half = run_gd(lambda z, y: torch.relu(-y * z), Y_class, 2 * eta)   # perceptron criterion, step 2η
assert min(abs(v) for v in zs) > 1e-9, "z = 0 was hit: the subgradient choice would matter"
assert cmp("GD on 2max(0,-yz)", gd_p, rule_p)
assert cmp("max(0,-yz), 2η", gd_p_half, rule_p)
assert not cmp("max(0,-yz), η", run_gd(lambda z, y: torch.relu(-y * z), Y_class, eta), rule_p)
mistakes = int(((rule_p[1:] - rule_p[:-1]).abs().sum(dim=1) > 0).sum())
print(f"{len(zs)} steps, {mistakes} updates (mistakes); final w = {fmt(rule_p[-1])}")

z_, y_ = sp.symbols("z y", real=True)
exercises.check_loss("perceptron", 2 * sp.Max(0, -y_ * z_))

# %% [markdown] tags=["solution"]
# The third line is the control: gradient descent on $\max(0,-yz)$ with the *same* $\eta$ takes half-size steps and
# leaves the rule's trajectory — so the check can tell the factor apart.

# %% [markdown]
# ## 1.4(2) Adaline / least mean squares: $\hat y = z$
#
# **Exercise.** A loss $L(z, y)$ whose gradient descent is the LMS update (real-valued targets $y$).

# %% tags=["exercise"]
my_L_adaline = None                        # your loss: a sympy expression in z and y
exercises.check_loss("adaline", my_L_adaline)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_L_adaline_latex = None        # your LaTeX, e.g. r"L(z, y) = \ldots"
exercises.check_loss("adaline", my_L_adaline_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_loss, "L", which="adaline")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
#
# **Step 1.** $dL/dz = z - y$. **Step 2.** $L(z) = \int (z-y)\,dz = \tfrac12 z^2 - yz + C$.
# **Step 3.** Choosing $C = \tfrac12 y^2$ completes the square:
#
# $$L(z) = \tfrac12\,(y - z)^2 = \tfrac12\Big(y - b - \sum_i w_i x_i\Big)^2 .$$
#
# Gradient descent on it is the LMS (Widrow–Hoff) rule with the same $\eta$. Without the $\tfrac12$, the squared
# error $(y-z)^2$ has $dL/dz = 2(z-y)$: it reproduces the rule with step $\eta/2$.

# %% tags=["solution"]
z, y = sp.symbols("z y", real=True)
L_adaline = sp.integrate(z - y, z) + y**2 / 2
print("∫(z - y) dz + y²/2 =", sp.factor(L_adaline))
assert sp.expand(L_adaline - (y - z) ** 2 / 2) == 0
assert sp.diff(L_adaline, z) - (z - y) == 0

eta = 0.05
rule_a, _ = run_rule(lambda z: z, Y_real, eta)
gd_a = run_gd(lambda z, y: 0.5 * (y - z) ** 2, Y_real, eta)
assert cmp("GD on ½(y-z)²", gd_a, rule_a)
assert cmp("(y-z)², step η/2", run_gd(lambda z, y: (y - z) ** 2, Y_real, eta / 2), rule_a)
print(f"final w = {fmt(rule_a[-1])}   (data made with [0.3, 1.5, -1.0])")

exercises.check_loss("adaline", L_adaline)

# %% [markdown]
# ## 1.4(3) Logistic regression with $\hat y = \tanh(z)$, labels $y\in\{-1,+1\}$
#
# **Exercise.** A loss $L(z, y)$ whose gradient descent is the update with $\hat y = \tanh z$.

# %% tags=["exercise"]
my_L_logistic = None                        # your loss: a sympy expression in z and y
exercises.check_loss("logistic", my_L_logistic)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_L_logistic_latex = None        # your LaTeX, e.g. r"L(z, y) = \ldots"
exercises.check_loss("logistic", my_L_logistic_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_loss, "L", which="logistic")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
#
# **Step 1.** $dL/dz = \tanh(z) - y$.
#
# **Step 2.** $\int\tanh z\,dz = \int \frac{\sinh z}{\cosh z}dz = \log\cosh z$ (substitute $u=\cosh z$, $du = \sinh z\,dz$). So
#
# $$L(z) = \log\cosh z - yz + C .$$
#
# **Step 3 — which familiar loss is this?** With $y = \pm1$, $\cosh z = \cosh(yz)$, so
# $\log\cosh z - yz = \log\frac{e^{yz}+e^{-yz}}{2} - yz = \log\big(1+e^{-2yz}\big) - \log 2$:
#
# $$L(z) = \log\big(1+e^{-2yz}\big) - \log 2 = \mathrm{softplus}(-2yz) - \log 2 .$$
#
# That is the logistic (binary cross-entropy) loss for the logit $2z$: since $\tanh z = 2\sigma(2z)-1$, the model
# says $P(y=+1) = p = \sigma(2z) = \frac{1+\hat y}{2}$, and with the 0/1 target $t = \frac{1+y}{2}$,
# $\mathrm{BCE}(p,t) = \mathrm{softplus}(-2yz)$. So $L = \mathrm{BCE}\big(\sigma(2z), \tfrac{1+y}2\big) - \log 2$: the constant
# does not change the gradient, and no learning-rate factor appears — gradient descent with the same $\eta$
# reproduces the rule. (The factor 2 sits inside the logit: a model written as $\sigma(u)$ with $u = z$ would be a
# different model, with gradient $\sigma(z) - t$, half as steep.)

# %% tags=["solution"]
L_sym = sp.integrate(sp.tanh(z) - y, z)
print("sympy: ∫(tanh z - y) dz =", L_sym)
assert sp.simplify(sp.diff(L_sym, z) - (sp.tanh(z) - y)) == 0
# sympy's antiderivative equals log cosh z - y z (the same function, constant 0):
assert sp.simplify(sp.diff(L_sym - (sp.log(sp.cosh(z)) - y * z), z)) == 0 and (L_sym - sp.log(sp.cosh(z)) + y * z).subs(z, 0) == 0

zg = torch.linspace(-6, 6, 1201)
for yv in (-1.0, 1.0):
    y_t = torch.full_like(zg, yv)
    L = torch.log(torch.cosh(zg)) - y_t * zg
    assert cmp(f"softplus, y={yv:+.0f}", L, F.softplus(-2 * y_t * zg) - math.log(2))
    assert cmp(f"BCE(σ(2z)), y={yv:+.0f}", L,
               F.binary_cross_entropy_with_logits(2 * zg, (1 + y_t) / 2, reduction="none") - math.log(2))

# %% tags=["solution"]
eta = 0.1
rule_l, _ = run_rule(torch.tanh, Y_class, eta)
gd_l = run_gd(lambda z, y: torch.log(torch.cosh(z)) - y * z, Y_class, eta)
gd_l_bce = run_gd(lambda z, y: F.binary_cross_entropy_with_logits(2 * z, (1 + y) / 2), Y_class, eta)
assert cmp("GD on logcosh-yz", gd_l, rule_l)
assert cmp("GD on BCE(2z)", gd_l_bce, rule_l)
print(f"final w = {fmt(rule_l[-1])}")

exercises.check_loss("logistic", L_sym)

# %% [markdown] tags=["solution"]
# ##### The three derived losses, and the trajectories side by side
#
# Left: each loss as a function of $z$ for a positive example ($y=+1$); the tanh-logistic loss is drawn with
# the constant $C=\log 2$ that makes its minimum value 0 (it equals $\mathrm{softplus}(-2z)$). Right three panels: every weight
# ($b, w_1, w_2$) after each example, for the update rule (lines) and for gradient descent on the derived loss
# (dots) — they coincide.

# %% tags=["solution"]
fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
zg = torch.linspace(-3, 3, 301)
axes[0].plot(zg, 2 * torch.relu(-zg), label="perceptron: 2·max(0, −z)")
axes[0].plot(zg, 0.5 * (1 - zg) ** 2, label="Adaline: ½(1 − z)²")
axes[0].plot(zg, torch.log(torch.cosh(zg)) - zg + math.log(2), label="tanh-logistic: log cosh z − z + log 2")
axes[0].set(title="Derived losses for y = +1", xlabel="z = b + wᵀx", ylabel="L(z)", ylim=(-0.5, 6))
axes[0].legend(fontsize=8)
panels = [("Perceptron", rule_p, gd_p), ("Adaline / LMS", rule_a, gd_a), ("Logistic (tanh)", rule_l, gd_l)]
for ax, (title, rule, gd) in zip(axes[1:], panels):
    steps = torch.arange(len(rule))
    for j, name in enumerate(["b", "w₁", "w₂"]):
        line, = ax.plot(steps, rule[:, j], label=f"{name}: rule")
        ax.plot(steps[::3], gd[::3, j], "o", ms=3, color=line.get_color(), label=f"{name}: GD on L")
    ax.set(title=f"{title}: weights per step", xlabel="update step (one example each)", ylabel="weight value")
axes[1].legend(fontsize=7, ncol=2)
for ax in axes:
    ax.grid(alpha=0.3)
fig.tight_layout()
save_figure(fig, "deriving_losses_trajectories")
plt.show()

# %% [markdown] tags=["solution"]
# **Summary.** From $dL/dz = \hat y - y$:
#
# | algorithm | $\hat y$ | derived loss | learning-rate factor |
# |-----------|----------|--------------|----------------------|
# | perceptron | $\mathrm{sign}(z)$ | $\lvert z\rvert - yz = 2\max(0,-yz)$ | none; $\max(0,-yz)$ needs step $2\eta$ |
# | Adaline / LMS | $z$ | $\tfrac12(y-z)^2$ | none; $(y-z)^2$ needs step $\eta/2$ |
# | logistic ($\tanh$) | $\tanh z$ | $\log\cosh z - yz = \mathrm{softplus}(-2yz) - \log 2$ | none |
