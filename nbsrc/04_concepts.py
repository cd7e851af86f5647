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
# # 04 · Concepts — homework question 1.5
#
# (a) softmax as a *soft* argmax · (b) a computational graph and backprop through it · (c) derivatives of four
# activations · (d) linear transformations and why networks need non-linear ones · (e) training as an argmin.
#
# The interactive cells (sliders) need a live kernel; each one comes after a static figure of the same thing,
# so a static renderer still shows the content.

# %%
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import sympy as sp
import torch
import torch.nn as nn
import torch.nn.functional as F
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon

import mlp
from lab import exercises
from lab.figures import save_figure
from lab.gradcheck import autograd_grad, cmp
from lab.theory import fmt, show
from lab.latex.widget import latex_box

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
_ = torch.manual_seed(0)

# %% [markdown]
# ## 1.5(a) Why softmax is really a *soft argmax*
#
# **Exercise.** With a temperature $T>0$, $\mathrm{softmax}_T(\boldsymbol{z})_i = e^{z_i/T}/\sum_j e^{z_j/T}$. What does
# $\mathrm{softmax}_T(\boldsymbol{z})$ tend to as $T\to0$? Write it as a function `limit(z)` of a 1-D tensor `z` whose largest
# entry is unique (it returns what the softmax returns: a tensor of the same shape). The check compares it with the
# softmax at a tiny temperature.

# %% tags=["exercise"]
def my_limit(z):
    return None


exercises.check_softmax_limit(my_limit)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_limit_latex = None        # your LaTeX, e.g. r"\lim_{T \to 0} \ldots"
exercises.check_softmax_limit(my_limit_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_softmax_limit, "limit")

# %% [markdown]
# **Your explanation (in words).** The homework asks you to *explain* why softmax is really a soft argmax. Write your
# answer here (double-click to edit):
#
# *YOUR ANSWER HERE*

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Rubric (how a TA grades the explanation; open it after writing yours)

# %% [markdown] tags=["solution"]
# Three points, one for each idea in the learner's own words:
#
# | points | what earns them |
# |--------|-----------------|
# | 1 | What each returns: argmax gives the index of the largest entry, a one-hot vector; softmax gives a probability vector (positive entries summing to 1) that keeps the order of the entries, so its largest weight sits on the largest entry. |
# | 1 | The limit: as the temperature $T\to0$ (or the logits are scaled up), softmax tends to the one-hot vector of the argmax (ties split evenly); as $T\to\infty$ it tends to the uniform vector. Softmax is a smoothed argmax whose sharpness $T$ sets. |
# | 1 | Why "soft" matters: softmax is differentiable with non-zero gradients everywhere, while argmax is piecewise constant (zero gradient almost everywhere, jumps at ties), so a network can be trained through softmax by gradient descent. |
#
# No point for calling softmax "a probability" without saying how it relates to the argmax, or for "softmax is the
# maximum" (it is a vector of weights, not the maximum value).

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# With a temperature $T>0$, $\;\mathrm{softmax}_T(\boldsymbol{z})_i = \dfrac{e^{z_i/T}}{\sum_j e^{z_j/T}}$.
# The hard $\arg\max$, written as a vector, is the one-hot $\boldsymbol{e}_{i^*}$ with $i^* = \arg\max_i z_i$: it is
# piecewise constant, so its gradient is zero almost everywhere and useless for learning.
# Softmax is a smooth replacement *for the argmax*, not for the max:
#
# * it is positive, sums to 1 and keeps the order of the $z_i$, the largest getting the most mass;
# * dividing by $e^{z_{i^*}/T}$: $\mathrm{softmax}_T(\boldsymbol{z})_i = e^{(z_i-z_{i^*})/T}\big/\sum_j e^{(z_j-z_{i^*})/T}$. As $T\to0$, every
#   exponent with $z_j<z_{i^*}$ goes to $-\infty$: **the limit is the one-hot argmax**. As $T\to\infty$ all exponents
#   go to 0: **the limit is uniform**, $1/K$;
# * the smooth version of the *max* is $T\log\sum_j e^{z_j/T}$ (log-sum-exp), and its gradient is exactly the softmax —
#   just as the gradient of $\max_i z_i$ is the one-hot argmax. So softmax is to soft-max what argmax is to max.

# %% tags=["solution"]
z = torch.tensor([1.0, 3.0, 2.5, -0.5, 0.0])
K = len(z)
onehot = F.one_hot(z.argmax(), K).double()
softmax_T = lambda z, T: torch.softmax(z / T, dim=0)

print(f"{'T':>8}  softmax_T(z)")
for T in [0.01, 0.1, 0.5, 1.0, 2.0, 10.0, 1e6]:
    p = softmax_T(z, T)
    assert p.argmax() == z.argmax() and torch.isclose(p.sum(), torch.tensor(1.0))
    assert torch.equal(torch.argsort(p), torch.argsort(z)), "softmax keeps the order"
    print(f"{T:>8g}  {fmt(p)}")

assert cmp("T→0: one-hot", softmax_T(z, 0.01), onehot)
assert cmp("T→∞: uniform", softmax_T(z, 1e6), torch.full((K,), 1 / K), atol=1e-5)
# gradients: d max(z)/dz = one-hot argmax, d logsumexp(z)/dz = softmax(z)
assert cmp("∇max = onehot", autograd_grad(lambda v: v.max(), z)[0], onehot)
assert cmp("∇lse = softmax", autograd_grad(lambda v: torch.logsumexp(v, 0), z)[0], softmax_T(z, 1.0))
assert abs(0.01 * torch.logsumexp(z / 0.01, 0) - z.max()) < 1e-6, "T·logsumexp(z/T) → max z"

exercises.check_softmax_limit(lambda z: F.one_hot(z.argmax(), len(z)).to(z.dtype))


# %% tags=["solution"]
def draw_softmax(ax, T):
    ax.bar(range(K), softmax_T(z, T), color="tab:blue")
    ax.set(title=f"T = {T:g}", xlabel="index i", ylim=(0, 1.05), xticks=range(K))


temps = [0.1, 0.5, 1, 2, 10]
fig, axes = plt.subplots(1, len(temps) + 1, figsize=(15, 2.8), sharey=True)
axes[0].bar(range(K), onehot, color="tab:red")
axes[0].set(title="argmax (one-hot)", xlabel="index i", ylabel="probability", ylim=(0, 1.05), xticks=range(K))
for ax, T in zip(axes[1:], temps):
    draw_softmax(ax, T)
fig.suptitle(f"softmax(z / T) for z = {[round(v, 1) for v in z.tolist()]}: T → 0 gives argmax, large T gives uniform")
fig.tight_layout()
save_figure(fig, "softmax_temperature")
plt.show()


# %% [markdown] tags=["solution"]
# Interactive version (live kernel only): drag the temperature.

# %% tags=["nbval-ignore-output", "solution"]
# nbval-ignore-output (cell tag): Jupyter routes the slider's plot into the widget, but nbval does
# not emulate widgets and sees it as an extra output; the static figure above is compared instead.
def softmax_slider(T=1.0):
    fig, ax = plt.subplots(figsize=(5, 2.8))
    draw_softmax(ax, T)
    ax.set_ylabel("probability")
    plt.show()


widgets.interactive(softmax_slider, T=widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.05,
                                                             description="T"))

# %% [markdown]
# ## 1.5(b) The computational graph of $a = xy + z,\; b = (x+x)\,a,\; w = ab$
#
# **Exercise.** Write the graph as data: `ops` maps each operator node (any name) to `"+"` or `"*"`, and `edges` lists
# (source, target) pairs. Inputs are `"x"`, `"y"`, `"z"`; the value nodes `"a"`, `"b"` and the output `"w"` each receive
# one edge from the operator that computes them; an edge listed twice counts twice. The check evaluates your graph
# and its gradients on random inputs against autograd of the three equations, and looks at its structure.

# %% tags=["exercise"]
my_ops = None         # e.g. {"*1": "*", ...}
my_edges = None       # e.g. [("x", "*1"), ...]
exercises.check_graph(my_edges, my_ops)

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# The graph is written once, as data — operator nodes and a list of edges (source, target) — and the same list is
# both evaluated (forward and backward below) and drawn. Two things make this graph instructive: **$x$ is used three
# times** (twice by the same $+$, so that edge is listed twice, and once by the first $*$), and **$a$ is used twice**
# (by $b$'s $*$ and by $w$'s $*$).
#
# The drawing follows the block-diagram notation of the course's public notes (NYU Deep Learning, spring 2020,
# week 2, "Block diagram notations for computation graphs": repository `Atcold/NYU-DLSP20`, file
# `docs/en/week02/02-1.md`): variables are bubbles — an observed input, or a variable computed by a deterministic
# function — and a deterministic function is a box whose rounded side shows the direction in which it computes.
# Here the observed inputs $x, y, z$ are shaded and the computed $a, b, w$ are white.

# %% tags=["solution"]
ops = {"*₁": "*", "+₁": "+", "+₂": "+", "*₂": "*", "*₃": "*"}     # operator nodes and what they compute
edges = [("x", "*₁"), ("y", "*₁"), ("*₁", "+₁"), ("z", "+₁"), ("+₁", "a"),
         ("x", "+₂"), ("x", "+₂"), ("+₂", "*₂"), ("a", "*₂"), ("*₂", "b"),
         ("a", "*₃"), ("b", "*₃"), ("*₃", "w")]
inputs_of = {}
for src, dst in edges:
    inputs_of.setdefault(dst, []).append(src)


def combine(symbol, args):
    out = args[0]
    for arg in args[1:]:
        out = out + arg if symbol == "+" else out * arg
    return out


def forward_graph(x, y, z):
    """Every node's value from the edge list; the dict's order is a topological order."""
    values = {"x": x, "y": y, "z": z}
    while len(values) < len(inputs_of) + 3:
        for node, srcs in inputs_of.items():
            if node not in values and all(src in values for src in srcs):
                args = [values[src] for src in srcs]
                values[node] = combine(ops[node], args) if node in ops else args[0]   # a value node copies its input
    return values


def function_block(ax, cx, cy, label, width=0.8, height=0.62):
    """The notes' deterministic-function box: flat on the input side, rounded on the output side (→)."""
    r = height / 2
    t = torch.linspace(-math.pi / 2, math.pi / 2, 30)
    arc = torch.stack([cx + width / 2 - r + r * torch.cos(t), cy + r * torch.sin(t)], dim=1).tolist()
    corners = [[cx - width / 2, cy + r], [cx - width / 2, cy - r]]
    ax.add_patch(Polygon([[cx - width / 2, cy - r]] + arc + corners, closed=True, facecolor="#fff2cc",
                         edgecolor="black", lw=1.5))
    ax.text(cx - 0.05, cy, label, ha="center", va="center", fontsize=17)


def draw_graph(ax, edges, ops, position):
    """Draw every node and every edge of the list (an edge listed twice is drawn twice, curved apart)."""
    for name, (cx, cy) in position.items():
        if name in ops:
            function_block(ax, cx, cy, ops[name])
        else:
            ax.add_patch(Circle((cx, cy), 0.42, facecolor="#d9d9d9" if name in "xyz" else "white",
                                edgecolor="black", lw=1.5))
            ax.text(cx, cy, name, ha="center", va="center", fontsize=15, style="italic")
    drawn = 0
    for (src, dst), count in {e: edges.count(e) for e in edges}.items():
        for k in range(count):
            rad = 0.0 if count == 1 else 0.25 * (1 - 2 * k / (count - 1))
            ax.add_patch(FancyArrowPatch(position[src], position[dst], connectionstyle=f"arc3,rad={rad}",
                                         arrowstyle="-|>", mutation_scale=14, lw=1.3, shrinkA=17, shrinkB=19))
            drawn += 1
    return drawn


position = {"x": (0, 3.6), "y": (0, 2.0), "z": (0, 0.4), "*₁": (2.6, 2.6), "+₂": (2.6, 4.8), "+₁": (4.2, 1.2),
            "a": (5.6, 1.2), "*₂": (7.2, 3.6), "b": (8.6, 3.6), "*₃": (10.2, 2.4), "w": (11.6, 2.4)}
fig, ax = plt.subplots(figsize=(10, 4.6))
assert draw_graph(ax, edges, ops, position) == len(edges), "every edge of the list is drawn"
ax.text(2.6, 5.45, "x + x", ha="center", fontsize=10, color="dimgray")
ax.text(2.6, 1.95, "x · y", ha="center", fontsize=10, color="dimgray")
ax.set(xlim=(-0.8, 12.4), ylim=(-0.3, 5.9), aspect="equal",
       title="Computational graph of a = x·y + z,  b = (x + x)·a,  w = a·b  (drawn from the edge list)")
ax.axis("off")
save_figure(fig, "computational_graph")
plt.show()
exercises.check_graph(edges, ops)

# %% [markdown] tags=["solution"]
# **Backprop by hand.** Write $\bar v = \partial w/\partial v$ (the *adjoint* of $v$). Start at $\bar w = 1$ and walk the
# graph backwards. Three patterns do all the work:
#
# * **add distributes**: a $+$ passes its adjoint, unchanged, to each of its inputs (its local derivatives are 1);
# * **multiply swaps**: a $*$ passes to each input its adjoint times the *other* input;
# * **fan-out sums**: a value used several times receives one contribution per use, and they add up.
#
# With $s = x+x$ and $p = xy$:
#
# | node | pattern | adjoint |
# |------|---------|---------|
# | $w = ab$ | multiply swaps | $\bar b = \bar w\,a$, $\;\bar a \mathrel{+}= \bar w\,b$ |
# | $b = s\,a$ | multiply swaps | $\bar s = \bar b\,a$, $\;\bar a \mathrel{+}= \bar b\,s$ (fan-out: $a$'s second use) |
# | $a = p + z$ | add distributes | $\bar p = \bar a$, $\;\bar z = \bar a$ |
# | $s = x + x$ | add distributes, twice | $\bar x \mathrel{+}= \bar s + \bar s$ (fan-out: two edges) |
# | $p = xy$ | multiply swaps | $\bar x \mathrel{+}= \bar p\,y$ (fan-out: $x$'s third use), $\;\bar y = \bar p\,x$ |
#
# **Closed form** for comparison: $b = 2xa$, so $w = 2x\,a^2 = 2x(xy+z)^2$ and
# $\;\partial w/\partial x = 2a^2 + 4axy,\quad \partial w/\partial y = 4ax^2,\quad \partial w/\partial z = 4ax$.
#
# The code walks the **same edge list** backwards with these three patterns and prints, for each node, the
# contributions it received.

# %% tags=["solution"]
def backward_graph(values):
    """∂w/∂(node) for every node, walking the edges backwards; also which pattern made each contribution."""
    adjoint = {node: 0.0 for node in values}
    adjoint["w"] = 1.0
    terms = {node: [] for node in values}
    for node in reversed(list(values)):             # reverse topological order: a node's adjoint is complete
        srcs = inputs_of.get(node, [])
        for k, src in enumerate(srcs):
            if ops.get(node) == "*":                 # multiply swaps: times the other input(s)
                local, pattern = combine("*", [values[s] for j, s in enumerate(srcs) if j != k]), f"{node} swaps"
            else:                                    # add distributes (a value node just passes it on)
                local, pattern = 1.0, f"{node} distributes" if node in ops else f"{node} passes"
            adjoint[src] = adjoint[src] + adjoint[node] * local      # fan-out sums: one term per edge
            terms[src].append(pattern)
    return adjoint, terms


x, y, z_in = torch.tensor(1.5), torch.tensor(-2.0), torch.tensor(0.5)
values = forward_graph(x, y, z_in)
print("forward:  " + ", ".join(f"{k} = {float(v):g}" for k, v in values.items() if k not in "xyz"))
g, terms = backward_graph(values)
for k in ["b", "a", "z", "y", "x"]:
    print(f"∂w/∂{k} = {float(g[k]):>6g}   {len(terms[k])} contribution(s): {', '.join(terms[k])}")

closed = {"x": 2 * values["a"]**2 + 4 * values["a"] * x * y, "y": 4 * values["a"] * x**2, "z": 4 * values["a"] * x}
auto = dict(zip("xyz", autograd_grad(lambda x, y, z: (x * y + z) * ((x + x) * (x * y + z)), x, y, z_in)))
for k in "xyz":
    assert cmp(f"∂w/∂{k} closed", g[k], closed[k])
    assert cmp(f"∂w/∂{k} autograd", g[k], auto[k])
assert len(terms["x"]) == 3 and len(terms["a"]) == 2, "x is used three times, a twice: fan-out sums"

X_, Y_, Z_ = sp.symbols("x y z")
A_ = X_ * Y_ + Z_
W_ = A_ * ((X_ + X_) * A_)
for var, formula in [(X_, 2 * A_**2 + 4 * A_ * X_ * Y_), (Y_, 4 * A_ * X_**2), (Z_, 4 * A_ * X_)]:
    assert sp.expand(sp.diff(W_, var) - formula) == 0
print("sympy: the closed-form derivatives are exact")

# %% [markdown]
# ## 1.5(c) The derivatives of ReLU, LeakyReLU(0.01), Softplus(β=1) and GELU
#
# **Exercise.** Write each derivative as a function of a tensor `z`, element-wise (no autograd). The check compares
# them with autograd at random points away from the kink, and reports separately what you return at $z = 0$.

# %% tags=["exercise"]
def my_relu_prime(z):
    return None


def my_leaky_relu_prime(z):
    return None


def my_softplus_prime(z):
    return None


def my_gelu_prime(z):
    return None


exercises.check_derivatives(my_relu_prime, my_leaky_relu_prime, my_softplus_prime, my_gelu_prime)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_relu_prime_latex = None        # your LaTeX, e.g. r"\mathrm{ReLU}'(z) = \ldots"
exercises.check_derivatives(relu=my_relu_prime_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_derivatives, "relu")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# $$\mathrm{ReLU}'(z) = \begin{cases}1 & z>0\\0 & z<0\end{cases},\qquad
# \mathrm{LeakyReLU}'(z) = \begin{cases}1 & z>0\\0.01 & z<0\end{cases},\qquad
# \mathrm{Softplus}'(z) = \frac{d}{dz}\log(1+e^z) = \frac{e^z}{1+e^z} = \sigma(z),$$
# $$\mathrm{GELU}(z) = z\,\Phi(z)\ \Rightarrow\ \mathrm{GELU}'(z) = \Phi(z) + z\,\varphi(z),\qquad
# \varphi(z) = \tfrac{1}{\sqrt{2\pi}}e^{-z^2/2},\ \Phi = \text{its CDF}.$$
#
# At $z=0$, ReLU and LeakyReLU have a kink; PyTorch uses the value from the left (0 and 0.01). GELU' dips below 0
# (minimum $\approx -0.129$ at $z=-\sqrt2$, where $\mathrm{GELU}'' = \varphi(z)(2-z^2)$ vanishes) and overshoots 1 (maximum
# $\approx 1.129$ at $z=+\sqrt2$). The analytic curves are `mlp.py`'s
# backward functions; the dots are autograd's derivatives of `torch.nn.functional`'s activations.

# %% tags=["solution"]
zs = torch.arange(-400, 401) / 100                   # -4 … 4 in steps of 0.01, z = 0 exactly (linspace misses it by 1e-16)
cases = [
    ("ReLU", F.relu, mlp.relu, mlp.relu_backward),
    ("LeakyReLU(0.01)", lambda v: F.leaky_relu(v, 0.01), mlp.leaky_relu, mlp.leaky_relu_backward),
    ("Softplus(β=1)", lambda v: F.softplus(v, beta=1), mlp.softplus, mlp.softplus_backward),
    ("GELU", F.gelu, mlp.gelu, mlp.gelu_backward),
]
derivs = {}
for name, torch_fn, fwd, bwd in cases:
    analytic = bwd(torch.ones_like(zs), zs, fwd(zs))
    leaf = zs.clone().requires_grad_(True)
    torch_fn(leaf).sum().backward()                  # element-wise, so d(sum)/dz_i = f'(z_i)
    assert cmp(name, analytic, leaf.grad)
    derivs[name] = (torch_fn(zs), analytic, leaf.grad)

assert cmp("Softplus' = σ", derivs["Softplus(β=1)"][1], torch.sigmoid(zs))
assert set(derivs["LeakyReLU(0.01)"][1].tolist()) == {0.01, 1.0}
gelu_d = derivs["GELU"][1]
print(f"GELU' minimum {gelu_d.min().item():.4f} at z = {zs[gelu_d.argmin()].item():.2f}, "
      f"maximum {gelu_d.max().item():.4f} at z = {zs[gelu_d.argmax()].item():.2f}")
assert abs(zs[gelu_d.argmin()] + math.sqrt(2)) <= 0.01 and abs(zs[gelu_d.argmax()] - math.sqrt(2)) <= 0.01

derivative = lambda fwd, bwd: (lambda z: bwd(torch.ones_like(z), z, fwd(z)))     # mlp.py's backward as f′
exercises.check_derivatives(derivative(mlp.relu, mlp.relu_backward), derivative(mlp.leaky_relu, mlp.leaky_relu_backward),
                            derivative(mlp.softplus, mlp.softplus_backward), derivative(mlp.gelu, mlp.gelu_backward))

# %% tags=["solution"]
def plot_derivative(ax, zs, values, jump):
    """Draw f'(z); at a jump (z = 0), no vertical line: a closed dot at the value taken there, an open one at the other limit."""
    if not jump:
        ax.plot(zs, values, color="tab:blue", lw=2, label="derivative: analytic (mlp.py)")
        return
    left, right, at_zero = zs < 0, zs > 0, zs == 0
    ax.plot(zs[left], values[left], color="tab:blue", lw=2, label="derivative: analytic (mlp.py)")
    ax.plot(zs[right], values[right], color="tab:blue", lw=2)
    ax.plot([0], values[at_zero], "o", color="tab:blue", ms=7, label=f"value at z = 0: {values[at_zero].item():g}")
    ax.plot([0], values[right][:1], "o", mfc="white", mec="tab:blue", mew=1.5, ms=7,
            label=f"limit from the right: {values[right][0].item():g} (not taken)")


fig, axes = plt.subplots(2, 2, figsize=(10, 7))
for ax, (name, (f_vals, analytic, auto)) in zip(axes.flat, derivs.items()):
    ax.plot(zs, f_vals, color="gray", ls="--", lw=1, label=f"{name}(z)")
    plot_derivative(ax, zs, analytic, jump=name in ("ReLU", "LeakyReLU(0.01)"))
    ax.plot(zs[::40], auto[::40], "x", color="tab:orange", ms=5, label="derivative: autograd")
    ax.set(title=f"d/dz {name}", xlabel="z", ylabel="f′(z)   (f(z) dashed)", ylim=(-0.3, 1.3))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left")
fig.suptitle("Derivatives of four activation functions: ReLU′ and LeakyReLU′ jump at z = 0 (closed dot = value used)")
fig.tight_layout()
save_figure(fig, "activation_derivatives")
plt.show()

# %% [markdown]
# ## 1.5(d) Four kinds of linear transformation, and the role of linear vs non-linear layers
#
# **Exercise.** Name four different kinds of linear transformation of the plane, from `exercises.LINEAR_MENU`
# (the check tests each for linearity on random vectors). Then, for the role of the non-linearity: write
# `collapse(W1, b1, W2, b2, W3, b3)` returning one `(W, b)` with $\boldsymbol{W}\boldsymbol{x}+\boldsymbol{b}$ equal to three stacked linear
# layers $\boldsymbol{W}^{(3)}(\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)})+\boldsymbol{b}^{(3)}$ (column vectors).

# %% tags=["exercise"]
my_kinds = None       # four names from exercises.LINEAR_MENU
exercises.check_linear_kinds(my_kinds)

# %% tags=["exercise"]
def my_collapse(W1, b1, W2, b2, W3, b3):
    return None       # return W, b


exercises.check_collapse(my_collapse)

# %% [markdown]
# **Your explanation (in words).** The homework asks you to explain the role of linear and of non-linear layers.
# Write your answer here (double-click to edit):
#
# *YOUR ANSWER HERE*

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Rubric (how a TA grades the explanation; open it after writing yours)

# %% [markdown] tags=["solution"]
# Four points:
#
# | points | what earns them |
# |--------|-----------------|
# | 1 | Four different kinds of linear map named, each with what it does to the plane (a matrix or a picture counts): e.g. rotation, scaling (stretching), shear, reflection, projection. |
# | 1 | The role of the linear layers: they mix, rotate, stretch and project the features, and change their number (the affine layer also shifts them by $\boldsymbol{b}$); they hold the learned weights. |
# | 1 | Linear layers alone add nothing with depth: a stack of them is one affine map, $\boldsymbol{W}^{(3)}\boldsymbol{W}^{(2)}\boldsymbol{W}^{(1)}\boldsymbol{x} + (\ldots)$, so it can only draw straight decision boundaries. |
# | 1 | The role of the non-linear layers: applied element-wise between the linear ones, they bend and fold the space, so the composition can represent non-linear functions and boundaries (with enough units, any continuous function on a bounded set). |
#
# No point for "the non-linearity makes the network deep" or for naming an activation without saying what it does
# to the composition.

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# In the plane, a linear map is a $2\times2$ matrix $A$; it sends the origin to itself and straight lines to straight
# lines, and it multiplies every area by $|\det A|$.
#
# | kind | matrix | what it preserves |
# |------|--------|-------------------|
# | scaling | $\begin{pmatrix}s_x&0\\0&s_y\end{pmatrix}$ | axis directions; area × $s_xs_y$ |
# | rotation by $\theta$ | $\begin{pmatrix}\cos\theta&-\sin\theta\\ \sin\theta&\cos\theta\end{pmatrix}$ | lengths, angles, orientation ($R^\top R = I$, $\det = 1$) |
# | reflection across the line at angle $\varphi$ | $\begin{pmatrix}\cos2\varphi&\sin2\varphi\\ \sin2\varphi&-\cos2\varphi\end{pmatrix}$ | lengths, angles; flips orientation ($\det=-1$, $H^2=I$) |
# | shear by $k$ | $\begin{pmatrix}1&k\\0&1\end{pmatrix}$ | area ($\det=1$) and the $x$-axis; not angles |
#
# (Every matrix is a combination of these: the SVD writes it as rotation/reflection · scaling · rotation/reflection.)
# The checks: the shoelace area of the transformed letter equals $|\det A|$ times the original, and each matrix
# has its defining property.

# %% tags=["solution"]
F_shape = torch.tensor([[0, 0], [0, 3], [2, 3], [2, 2.5], [0.5, 2.5], [0.5, 1.7], [1.5, 1.7], [1.5, 1.2],
                        [0.5, 1.2], [0.5, 0]], dtype=torch.float64).T          # 2×10, one column per corner


def scaling(sx, sy): return torch.tensor([[sx, 0.0], [0.0, sy]])
def rotation(deg): t = math.radians(deg); return torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
def reflection(deg): t = 2 * math.radians(deg); return torch.tensor([[math.cos(t), math.sin(t)], [math.sin(t), -math.cos(t)]])
def shear(k): return torch.tensor([[1.0, k], [0.0, 1.0]])


def area(P):                                         # shoelace formula, P is 2×m
    x, y = P
    return 0.5 * abs((x * y.roll(-1) - x.roll(-1) * y).sum())


def transforms(sx=1.5, sy=0.6, theta=40.0, phi=60.0, k=0.8):
    return {f"scaling ({sx:g}, {sy:g})": scaling(sx, sy), f"rotation {theta:g}°": rotation(theta),
            f"reflection, line at {phi:g}°": reflection(phi), f"shear k = {k:g}": shear(k)}


A = transforms()
for name, M in A.items():
    assert cmp(f"area {name.split()[0].rstrip(',')}", area(M @ F_shape), abs(torch.linalg.det(M)) * area(F_shape))
R, H, S = A["rotation 40°"], A["reflection, line at 60°"], A["shear k = 0.8"]
assert cmp("RᵀR = I", R.T @ R, torch.eye(2)) and cmp("det R = 1", torch.linalg.det(R), torch.tensor(1.0))
assert cmp("H² = I", H @ H, torch.eye(2)) and cmp("det H = -1", torch.linalg.det(H), torch.tensor(-1.0))
assert cmp("shear keeps e₁", S @ torch.tensor([1.0, 0.0]), torch.tensor([1.0, 0.0]))
assert not cmp("shear: SᵀS ≠ I", S.T @ S, torch.eye(2)), "a shear is not orthogonal"


# %% tags=["solution"]
def draw_transforms(axes, mats):
    for ax, (name, M) in zip(axes, mats.items()):
        ax.add_patch(Polygon(F_shape.T, closed=True, fill=False, ls="--", ec="gray", label="original"))
        ax.add_patch(Polygon((M @ F_shape).T, closed=True, alpha=0.6, fc="tab:blue", ec="navy", label="transformed"))
        ax.set(title=name, xlim=(-4.5, 4.5), ylim=(-4.5, 4.5), aspect="equal", xlabel="x₁", ylabel="x₂")
        ax.axhline(0, color="k", lw=0.5); ax.axvline(0, color="k", lw=0.5)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower left", fontsize=8)


fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
draw_transforms(axes, transforms())
fig.suptitle("Four linear transformations acting on the letter F (dashed: original)")
fig.tight_layout()
save_figure(fig, "linear_transformations")
plt.show()


# %% [markdown] tags=["solution"]
# Interactive version (live kernel only): move the sliders.

# %% tags=["nbval-ignore-output", "solution"]
# nbval-ignore-output (cell tag): Jupyter routes the slider's plot into the widget, but nbval does
# not emulate widgets and sees it as an extra output; the static figure above is compared instead.
def transform_sliders(sx=1.5, sy=0.6, theta=40.0, phi=60.0, k=0.8):
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
    draw_transforms(axes, transforms(sx, sy, theta, phi, k))
    plt.show()


widgets.interactive(
    transform_sliders,
    sx=widgets.FloatSlider(value=1.5, min=-2, max=2, step=0.1, description="scale x"),
    sy=widgets.FloatSlider(value=0.6, min=-2, max=2, step=0.1, description="scale y"),
    theta=widgets.FloatSlider(value=40, min=-180, max=180, step=5, description="rotate θ°"),
    phi=widgets.FloatSlider(value=60, min=0, max=180, step=5, description="mirror φ°"),
    k=widgets.FloatSlider(value=0.8, min=-2, max=2, step=0.1, description="shear k"),
)

# %% [markdown] tags=["solution"]
# **Role of the linear layers:** they mix, rotate, stretch and project the features — all the *learnable*
# structure is in $\boldsymbol{W}$ and $\boldsymbol{b}$. **But linear layers alone collapse:**
# $\boldsymbol{W}^{(3)}(\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)})+\boldsymbol{b}^{(3)} = \boldsymbol{W}\boldsymbol{x}+\boldsymbol{b}$ with
# $\boldsymbol{W} = \boldsymbol{W}^{(3)}\boldsymbol{W}^{(2)}\boldsymbol{W}^{(1)}$ and $\boldsymbol{b} = \boldsymbol{W}^{(3)}(\boldsymbol{W}^{(2)}\boldsymbol{b}^{(1)}+\boldsymbol{b}^{(2)})+\boldsymbol{b}^{(3)}$: depth adds
# nothing. **The non-linearity** between them is what lets the composition bend: e.g. XOR on $\{0,1\}^2$ cannot be
# fitted by any affine map (the best one predicts 0.5 everywhere), yet
# $\mathrm{XOR}(x_1,x_2) = \mathrm{ReLU}(x_1+x_2) - 2\,\mathrm{ReLU}(x_1+x_2-1)$ — two hidden ReLU units — fits it exactly.

# %% tags=["solution"]
torch.manual_seed(0)
stack = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 4), nn.Linear(4, 2))        # no activation in between
(W1, b1), (W2, b2), (W3, b3) = [(m.weight.detach(), m.bias.detach()) for m in stack]
W, b = W3 @ W2 @ W1, W3 @ (W2 @ b1 + b2) + b3
Xs = torch.randn(10, 3)
assert cmp("stack = one Wx+b", stack(Xs), Xs @ W.T + b)

X_xor = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y_xor = torch.tensor([0.0, 1.0, 1.0, 0.0])
design = torch.cat([X_xor, torch.ones(4, 1)], dim=1)                            # affine: w1 x1 + w2 x2 + c
best = torch.linalg.lstsq(design, y_xor.unsqueeze(1)).solution
affine_pred = (design @ best).flatten()
show("best affine fit of XOR", affine_pred)
assert cmp("affine MSE", ((affine_pred - y_xor) ** 2).mean(), torch.tensor(0.25))  # cannot reach 0
assert not cmp("affine = XOR?", affine_pred, y_xor)

relu_net = lambda X: torch.relu(X.sum(1)) - 2 * torch.relu(X.sum(1) - 1)
assert cmp("ReLU net = XOR", relu_net(X_xor), y_xor)
u, v = X_xor[1:2], X_xor[2:3]
print(f"ReLU net is not linear: f(u+v) = {relu_net(u + v).item():g} but f(u)+f(v) = {(relu_net(u) + relu_net(v)).item():g}")
assert relu_net(u + v) != relu_net(u) + relu_net(v)

exercises.check_linear_kinds(["scaling", "rotation", "reflection", "shear"])
exercises.check_collapse(lambda W1, b1, W2, b2, W3, b3: (W3 @ W2 @ W1, W3 @ (W2 @ b1 + b2) + b3))

# %% [markdown]
# ## 1.5(e) Training as an argmin of the empirical MSE
#
# **Exercise.** Training $F_\theta$ on $D = \{\boldsymbol{x}_i\}$, $Y = \{\boldsymbol{y}_i\}$ with $\ell_{\mathrm{MSE}}$ means $\theta^* = \arg\min_\theta(\ldots)$. Write
# the function being minimised: `objective(F, theta, D, Y)`, where `F(theta, x)` is the network's output for one
# input, `D` holds the inputs one per row ($N\times n$) and `Y` the labels ($N\times K$). Any positive constant factor
# is accepted (the argmin does not change).

# %% tags=["exercise"]
def my_objective(F, theta, D, Y):
    return None


exercises.check_objective(my_objective)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_objective_latex = None        # your LaTeX, e.g. r"\theta^* = \arg\min_\theta \ldots"
exercises.check_objective(my_objective_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_objective, "objective")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# Given data $\{\boldsymbol{x}_i\}_{i=1}^N$ with labels $\{\boldsymbol{y}_i\}_{i=1}^N$ and the per-example loss
# $\ell(\hat{\boldsymbol{y}},\boldsymbol{y}) = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$, training the network $F_\theta$ means finding
#
# $$\theta^* = \arg\min_{\theta}\ \mathcal{L}(\theta),\qquad \mathcal{L}(\theta) = \frac1N\sum_{i=1}^N \big\|F_\theta(\boldsymbol{x}_i)-\boldsymbol{y}_i\big\|^2 ,$$
#
# in practice approximately, by (stochastic) gradient descent $\theta\leftarrow\theta-\eta\nabla_\theta\mathcal{L}$.
# A worked example where the argmin is known in closed form: the linear model $F_\theta(\boldsymbol{x}) = \boldsymbol{W}\boldsymbol{x}+\boldsymbol{b}$
# ($\boldsymbol{x}\in\mathbb{R}^2$, $\boldsymbol{y}\in\mathbb{R}^2$). With $\tilde{X} = [X\ \mathbf{1}]$, setting $\nabla_\theta\mathcal{L} = 0$ gives the normal
# equations $\tilde X^\top\tilde X\,\Theta = \tilde X^\top Y$. Gradient descent must land on the same $\theta^*$.

# %% tags=["solution"]
torch.manual_seed(0)
N = 50
Xd = torch.randn(N, 2)
W_true, b_true = torch.tensor([[2.0, -1.0], [0.5, 1.5]]), torch.tensor([0.3, -0.7])
Yd = Xd @ W_true.T + b_true + 0.1 * torch.randn(N, 2)
empirical_mse = lambda W, b: ((Xd @ W.T + b - Yd) ** 2).sum(dim=1).mean()       # (1/N) Σ ||F(x_i) - y_i||²

Xt = torch.cat([Xd, torch.ones(N, 1)], dim=1)
Theta = torch.linalg.solve(Xt.T @ Xt, Xt.T @ Yd)                                # normal equations, 3×2
W_star, b_star = Theta[:2].T, Theta[2]

W_gd, b_gd = torch.zeros(2, 2), torch.zeros(2)
for step in range(100):                                                         # full-batch gradient descent
    gW, gb = autograd_grad(empirical_mse, W_gd, b_gd)
    W_gd, b_gd = W_gd - 0.3 * gW, b_gd - 0.3 * gb

assert cmp("W: GD vs argmin", W_gd, W_star, atol=1e-8)
assert cmp("b: GD vs argmin", b_gd, b_star, atol=1e-8)
for name, grad in zip(["W", "b"], autograd_grad(empirical_mse, W_star, b_star)):
    assert cmp(f"∇{name} L(θ*) = 0", grad, torch.zeros_like(grad))
show("W*", W_star)
show("b*", b_star)
print(f"L(θ*) = {empirical_mse(W_star, b_star).item():.5f}; "
      f"L at θ* + 0.05 = {empirical_mse(W_star + 0.05, b_star + 0.05).item():.5f} (larger)")
assert empirical_mse(W_star + 0.05, b_star + 0.05) > empirical_mse(W_star, b_star)

exercises.check_objective(lambda F, theta, D, Y: sum(((F(theta, x) - y) ** 2).sum() for x, y in zip(D, Y)) / len(D))
