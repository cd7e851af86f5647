# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Common mistakes — and the checks that catch them
#
# Written answers to questions 1.2–1.4 go wrong silently; code does not. Each section below takes one mistake
# that really appears in student write-ups we reviewed (four answer sheets, two course years — the source is
# named by file and question, the mistake described in our own words), writes the **wrong** formula as code, and
# runs the same check the earlier notebooks use. The verdict line must say `MISMATCH` (or the matrix product
# must fail on its shapes) — and an `assert` makes sure it does, so this notebook fails if a check ever stops
# catching the mistake. Each wrong formula is shown next to the right one, which passes.
#
# Setting: the network of question 1.2 ($f = 5\,\mathrm{ReLU}$, $g$ = identity, $\ell = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$) and of
# question 1.3 ($f=\tanh$, $g=\sigma$, BCE), with $n=3$, $h=4$, $K=2$ — $h\ne K$ on purpose, so that a
# transposed or wrongly-sized matrix cannot hide. Reference values come from autograd, in numerator layout
# (autograd's `.grad` transposed; see notebook 01).

# %%
import sys, pathlib; sys.path.insert(0, str(pathlib.Path.cwd().resolve().parent))  # repo root
import sympy as sp
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.functional import jacobian

from lab.gradcheck import autograd_grad, cmp

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
torch.manual_seed(0)
n, h, K = 3, 4, 2
W1, b1, W2, b2 = torch.randn(h, n), torch.randn(h, 1), torch.randn(K, h), torch.randn(K, 1)
x, y = torch.randn(n, 1), torch.randn(K, 1)
names = ["W1", "b1", "W2", "b2"]


def regression(W1, b1, W2, b2):                       # question 1.2: returns z1, z2, z3, ŷ
    z1 = W1 @ x + b1
    z2 = 5 * torch.relu(z1)
    z3 = W2 @ z2 + b2
    return z1, z2, z3, z3


z1, z2, z3, y_hat = regression(W1, b1, W2, b2)
ell = lambda *p: ((regression(*p)[3] - y) ** 2).sum()                  # sum of squares, one data point
ref = {k: g.T for k, g in zip(names, autograd_grad(ell, W1, b1, W2, b2))}   # numerator layout
assert (z1 > 0).any() and (z1 < 0).any()

# the right pieces (notebook 01)
dl_dyhat = 2 * (y_hat - y).T                          # 1×K
dyhat_dz3 = torch.eye(K)                              # K×K
dz2_dz1 = torch.diag(5.0 * (z1.flatten() > 0))        # h×h
delta = dl_dyhat @ dyhat_dz3


def shape_error(product):
    """Run a matrix product that should not type-check; report torch's error. True if it failed."""
    try:
        product()
    except RuntimeError as err:
        print("   shape error:", str(err).splitlines()[0])
        return True
    return False


# %% [markdown]
# ## Mistake 1 — the slope of $5\,\mathrm{ReLU}$ taken as 1 instead of 5
#
# *Seen in:* `004` question 1.2(d), which gives the diagonal of $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ as 1 or 0; the same sheet's
# 1.2(b) table also drops the factor 5 from $f$'s output. The derivative of $5\max(0,z)$ is $5$ for $z>0$.

# %%
J_f = jacobian(lambda v: 5 * torch.relu(v), z1.flatten())
assert cmp("right dz2/dz1", dz2_dz1, J_f)
wrong = torch.diag(1.0 * (z1.flatten() > 0))
assert not cmp("slope 1", wrong, J_f)
# the error propagates into every gradient below f
assert not cmp("→ dl/dW1", x @ (delta @ W2 @ wrong), ref["W1"])
# and the forward pass without the 5 predicts something else
assert not cmp("→ ŷ without 5", W2 @ torch.relu(W1 @ x + b1) + b2, y_hat)

# %% [markdown]
# ## Mistake 2 — sigmoid used where the question says $f = \tanh$
#
# *Seen in:* `004` question 1.3(a): the forward table applies $\sigma$ to the hidden layer and the
# Jacobian is written as $\mathrm{diag}(z_2(1-z_2))$, the sigmoid's. Question 1.3 sets $f=\tanh$, whose Jacobian is
# $\mathrm{diag}(1-\tanh^2(\boldsymbol{z}_1))$.

# %%
J_tanh = jacobian(torch.tanh, z1.flatten())
assert cmp("right tanh'", torch.diag(1 - torch.tanh(z1.flatten()) ** 2), J_tanh)
s = torch.sigmoid(z1.flatten())
assert not cmp("σ(1-σ) for f", torch.diag(s * (1 - s)), J_tanh)
assert not cmp("z2 = σ(z1)", torch.sigmoid(z1), torch.tanh(z1))

# %% [markdown]
# ## Mistake 3 — the BCE derivative with its sign flipped and the $\frac1K$ dropped
#
# *Seen in:* `004` question 1.3(b), whose $\partial\ell/\partial\hat{\boldsymbol{y}}$ has $\frac{y}{\hat y}-\frac{1-y}{1-\hat y}$ — the negative of the
# right expression — with no $\frac1K$, and arranged as a $K\times K$ diagonal matrix instead of a $1\times K$ row;
# and `001` question 1.3(b), with the right sign but no $\frac1K$. The right one (notebook 02):
# $\partial\ell/\partial\hat{\boldsymbol{y}} = \frac1K\big[\frac{\hat y_i-y_i}{\hat y_i(1-\hat y_i)}\big]_i$, a $1\times K$ row.
# A flipped sign is the worst of the three: a gradient step then *climbs* the loss.

# %%
z3c = torch.tensor([0.8, -1.2])                       # logits of a classifier, and 0/1 targets
t = torch.tensor([1.0, 0.0])
p = torch.sigmoid(z3c)
bce = lambda q: F.binary_cross_entropy(q, t)           # mean over K = (1/K) Σ
J_bce = jacobian(bce, p).reshape(1, K)
assert cmp("right dl/dŷ", ((p - t) / (p * (1 - p))).reshape(1, K) / K, J_bce)

wrong_004 = torch.diag(t / p - (1 - t) / (1 - p))      # sign flipped, no 1/K, K×K
assert not cmp("004: as K×K", wrong_004, J_bce)
assert not cmp("004: as a row", torch.diagonal(wrong_004).reshape(1, K), J_bce)
wrong_001 = ((p - t) / (p * (1 - p))).reshape(1, K)    # right sign, no 1/K
assert not cmp("001: no 1/K", wrong_001, J_bce)
assert cmp("001 × 1/K", wrong_001 / K, J_bce)          # ... it is off by exactly K

# consequence of the sign: one gradient step on the logits with the flipped derivative
step = lambda g: z3c - 0.5 * (g.flatten() * p * (1 - p))              # chain through σ'
loss_before = bce(p).item()
loss_right = bce(torch.sigmoid(step(J_bce))).item()
loss_wrong = bce(torch.sigmoid(step(torch.diagonal(wrong_004)))).item()
print(f"BCE {loss_before:.4f} → right step {loss_right:.4f}, flipped-sign step {loss_wrong:.4f}")
assert loss_right < loss_before < loss_wrong

# %% [markdown]
# ## Mistake 4 — gradients in denominator layout
#
# *Seen in:* `000` questions 1.2(c)–(d) and `002` questions 1.2(c)–(d): $\partial\ell/\partial\hat{\boldsymbol{y}}$ written as a $K\times1$
# column and $\partial\ell/\partial\boldsymbol{W}^{(2)}$ as a $K\times h$ matrix (input-shaped, like PyTorch's `.grad`). The homework
# demands numerator layout — $1\times K$ and $h\times K$ — and counts a missing transpose as wrong. The numbers are
# right, the layout is not; and mixing the two layouts in one chain rule produces products that do not exist
# (`002`'s $\partial\ell/\partial\boldsymbol{z}_1$ multiplies an $h\times1$ column by the $h\times h$ Jacobian from the right).

# %%
J_l = jacobian(lambda v: ((v - y.flatten()) ** 2).sum(), y_hat.flatten()).reshape(1, K)   # numerator: 1×K
assert cmp("right dl/dŷ", dl_dyhat, J_l)
assert not cmp("dl/dŷ column", 2 * (y_hat - y), J_l)
assert cmp("right dl/dW2", z2 @ delta, ref["W2"])
dW2_denominator = delta.T @ z2.T                                 # K×h
assert not cmp("dl/dW2 K×h", dW2_denominator, ref["W2"])
assert cmp("... its ᵀ", dW2_denominator.T, ref["W2"])            # right numbers, wrong layout
# mixing layouts: (h×1 column) times (h×h Jacobian) on the right
assert shape_error(lambda: (W2.T @ delta.T) @ dz2_dz1)

# %% [markdown]
# ## Mistake 5 — an identity matrix of the wrong size
#
# *Seen in:* `002` question 1.2(c), which writes $\partial\boldsymbol{z}_1/\partial\boldsymbol{b}^{(1)} = I_K$. Since $\boldsymbol{z}_1 = \boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$
# has $h$ entries, the Jacobian is $I_h$. With $h = K$ this slips through unnoticed; here $h \ne K$.

# %%
J_b1 = jacobian(lambda v: W1 @ x.flatten() + v, b1.flatten())
assert cmp("right I_h", torch.eye(h), J_b1)
assert not cmp("I_K", torch.eye(K), J_b1)
dl_dz1 = delta @ W2 @ dz2_dz1                                     # 1×h
assert shape_error(lambda: dl_dz1 @ torch.eye(K))
assert cmp("right dl/db1", dl_dz1 @ torch.eye(h), ref["b1"])

# %% [markdown]
# ## Mistake 6 — the right factors in an order that does not multiply
#
# *Seen in:* `001` question 1.2(c): $\partial\ell/\partial\boldsymbol{W}^{(2)}$ is written as $\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}$ times $\boldsymbol{z}_2$
# *on the right* (a $1\times K$ row times an $h\times1$ column), and $\partial\ell/\partial\boldsymbol{W}^{(1)}$ ends with $\boldsymbol{x}$ on the
# right (a $1\times h$ row times an $n\times1$ column). In numerator layout the input vector goes on the **left**:
# $\boldsymbol{z}_2\,\boldsymbol{\delta}$ and $\boldsymbol{x}\,(\cdots)$ — outer products.

# %%
assert shape_error(lambda: delta @ z2)
assert shape_error(lambda: (delta @ W2 @ dz2_dz1) @ x)
assert cmp("right dl/dW2", z2 @ delta, ref["W2"])
assert cmp("right dl/dW1", x @ (delta @ W2 @ dz2_dz1), ref["W1"])

# %% [markdown]
# ## Mistake 7 — `nn.MSELoss()` for the homework's $\|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$
#
# *Seen in:* `001` question 1.2(a), which trains the sum-of-squares loss with `nn.MSELoss()`. That loss is the
# *mean* over the $K$ outputs: its gradients are $\frac1K$ of the homework's, which silently changes the learning
# rate by a factor $K$ (notebook 01 puts the factor back explicitly).

# %%
mse_mean = lambda *p: nn.MSELoss()(regression(*p)[3], y)
grads_mean = autograd_grad(mse_mean, W1, b1, W2, b2)
assert not cmp("MSELoss dW1", grads_mean[0].T, ref["W1"])
assert cmp("MSELoss dW1 · K", K * grads_mean[0].T, ref["W1"])

# %% [markdown]
# ## Mistake 8 — an integration slip in the tanh-logistic loss (question 1.4(3))
#
# *Seen in:* `000` question 1.4(3). To reproduce the update rule, the loss must satisfy
# $\frac{dL}{d\hat y} = \frac{\hat y - y}{1-\hat y^2}$ (with $\hat y=\tanh z$). The intermediate antiderivative on that sheet,
# $-\tfrac12\big[(1+\hat y)\log(1+\hat y) + (1-\hat y)\log(1-\hat y)\big]$, has $\hat y$ where the label $y$ belongs in the
# two coefficients, so it does not depend on $y$ at all — its derivative is $-\operatorname{artanh}\hat y$. (The sheet's final
# answer, with $y$ in those places, is right: it equals $\log\cosh z - yz$ from notebook 03.)

# %%
yh, yy = sp.symbols("yhat y", real=True)
target = (yh - yy) / (1 - yh**2)
slip = -(1 + yh) * sp.log(1 + yh) / 2 - (1 - yh) * sp.log(1 - yh) / 2
fixed = -(1 + yy) * sp.log(1 + yh) / 2 - (1 - yy) * sp.log(1 - yh) / 2
print("d/dŷ of the slip  :", sp.simplify(sp.diff(slip, yh)))
assert sp.simplify(sp.diff(slip, yh) - target) != 0
assert sp.simplify(sp.diff(fixed, yh) - target) == 0

zg = torch.linspace(-3, 3, 61)
for label in (-1.0, 1.0):
    f_slip = sp.lambdify(yh, sp.diff(slip, yh), "math")
    got = torch.tensor([f_slip(v) for v in torch.tanh(zg).tolist()])
    want = (torch.tanh(zg) - label) / (1 - torch.tanh(zg) ** 2)
    assert not cmp(f"slip, y={label:+.0f}", got, want)
    L_fixed = sp.lambdify((yh, yy), fixed, "math")
    vals = torch.tensor([L_fixed(v, label) for v in torch.tanh(zg).tolist()])
    assert cmp(f"final, y={label:+.0f}", vals, torch.log(torch.cosh(zg)) - label * zg)

# %% [markdown]
# ## Summary
#
# | # | mistake | where we saw it | what catches it |
# |---|---------|-----------------|-----------------|
# | 1 | $5\,\mathrm{ReLU}$' as 1/0, and the 5 missing in the forward pass | `004` 1.2(b), 1.2(d) | `cmp` vs `jacobian`; downstream gradient |
# | 2 | sigmoid where $f=\tanh$ | `004` 1.3(a) | `cmp` of forward value and Jacobian |
# | 3 | BCE derivative: sign flipped, $\frac1K$ dropped, $K\times K$ | `004` 1.3(b); $\frac1K$ only: `001` 1.3(b) | `cmp` (shape and values); the loss goes up |
# | 4 | denominator layout | `000`, `002` 1.2(c)–(d) | `cmp` shape check; mixed-layout product fails |
# | 5 | $I_K$ where $I_h$ is meant | `002` 1.2(c) | `cmp` shape check; product fails |
# | 6 | factors in a non-multiplying order | `001` 1.2(c) | the matrix product fails |
# | 7 | `nn.MSELoss()` (mean) for a sum of squares | `001` 1.2(a) | `cmp`: off by exactly $K$ |
# | 8 | antiderivative without the label | `000` 1.4(3) | sympy and `cmp` on the derivative |
