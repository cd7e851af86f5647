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
# # 05 · Common mistakes — and the checks that catch them
#
# Written answers to questions 1.2–1.4 go wrong silently; code does not. Each section below takes one mistake
# that really appears in student write-ups we reviewed (written answers from two course years; we name the question
# and describe the mistake in our own words), writes the **wrong** formula as code, and
# runs the same check the earlier notebooks use. The verdict line must say `MISMATCH` (or the matrix product
# must fail on its shapes) — and an `assert` makes sure it does, so this notebook fails if a check ever stops
# catching the mistake. Each wrong formula is shown next to the right one, which passes. Section 7 is the
# exception: a constant factor worth noting, not an error.
#
# Setting: the network of question 1.2 ($f = 5\,\mathrm{ReLU}$, $g$ = identity, $\ell = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$) and of
# question 1.3 ($f=\tanh$, $g=\sigma$, BCE), with $n=3$, $h=4$, $K=2$ — $h\ne K$ on purpose, so that a
# transposed or wrongly-sized matrix cannot hide. Reference values come from autograd, in numerator layout
# (autograd's `.grad` transposed; see notebook 01).
#
# Each mistake is also one of the shared catalogue `lab.mistakes`, which the exercise checks of notebooks 01–04 use
# to name what went wrong: the first cell of each section prints the catalogue's name for it. The written answer,
# fed to the same exercise check, comes next (the check's verdict is printed), then the correction, compared
# numerically with autograd. **This notebook shows the right answers**: work through notebooks 01–04 first.

# %%
import sympy as sp
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.functional import jacobian

from lab import exercises, mistakes
from lab.gradcheck import autograd_grad, cmp

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
torch.manual_seed(0)
n, h, K = 3, 4, 2
W1, b1, W2, b2 = torch.randn(h, n), torch.randn(h, 1), torch.randn(K, h), torch.randn(K, 1)
x, y = torch.randn(n, 1), torch.randn(K, 1)
names = ["W1", "b1", "W2", "b2"]




def shape_error(product):
    """Run a matrix product that should not type-check; report torch's error. True if it failed."""
    try:
        product()
    except RuntimeError as err:
        print("   shape error:", str(err).splitlines()[0])
        return True
    return False


# %%
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


# %% [markdown]
# ## Mistake 1 — the slope of $5\,\mathrm{ReLU}$ taken as 1 instead of 5
#
# A written answer to question 1.2(d) fills the diagonal of $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ with ones and zeros; its 1.2(b)
# table also leaves a factor out of $f$'s output.
#
# **Wrong:** $\;\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1 = \mathrm{diag}\big(\mathbb{1}[\boldsymbol{z}_1>0]\big)$. **Right:** $\;\mathrm{diag}\big(5\cdot\mathbb{1}[\boldsymbol{z}_1>0]\big)$.

# %%
print(mistakes.get('relu5_slope_one').name)
print(mistakes.get('relu5_forward_missing_5').name)

# %%
# the written answer, fed to the exercise check of notebooks 01–03
v = exercises.check_jacobians(dz2_dz1=lambda z1: torch.diag(1.0 * (z1.flatten() > 0)))   # the written answer
assert v.mistake_key == "relu5_slope_one"

# %% [markdown]
# *Seen in:* a written answer to question 1.2(d), which gives the diagonal of $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ as 1 or 0; the same answer's
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
# A written answer to question 1.3(a) applies $\sigma$ to the hidden layer and writes the hidden Jacobian as
# $\mathrm{diag}(z_2(1-z_2))$.
#
# **Wrong:** $\;\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1 = \mathrm{diag}\big(\sigma(\boldsymbol{z}_1)\odot(1-\sigma(\boldsymbol{z}_1))\big)$. **Right:** $\;\mathrm{diag}\big(1-\tanh^2\boldsymbol{z}_1\big)$.

# %%
print(mistakes.get('sigmoid_for_tanh').name)

# %%
# the written answer, fed to the exercise check of notebooks 01–03
sig = lambda v: torch.sigmoid(v.flatten())
v = exercises.check_jacobians(dz2_dz1=lambda z1: torch.diag(sig(z1) * (1 - sig(z1))), question="1.3a")
assert v.mistake_key == "sigmoid_for_tanh"

# %% [markdown]
# *Seen in:* a written answer to question 1.3(a): the forward table applies $\sigma$ to the hidden layer and the
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
# Two written answers to question 1.3(b): one writes $\partial\ell/\partial\hat{\boldsymbol{y}}$ with the opposite sign, without the mean's
# factor and as a $K\times K$ diagonal matrix; the other has the sign right but still no factor.
#
# **Wrong:** $\;\mathrm{diag}\big(\frac{y_i}{\hat y_i}-\frac{1-y_i}{1-\hat y_i}\big)$ ($K\times K$), and $\big[\frac{\hat y_i-y_i}{\hat y_i(1-\hat y_i)}\big]_i$.
# **Right:** $\;\frac1K\big[\frac{\hat y_i-y_i}{\hat y_i(1-\hat y_i)}\big]_i$ ($1\times K$).

# %%
print(mistakes.get('bce_sign_flipped').name)
print(mistakes.get('factor_K').name)
print(mistakes.get('row_as_diagonal').name)

# %%
# the written answer, fed to the exercise check of notebooks 01–03
first = lambda y_hat, y: torch.diag((y / y_hat - (1 - y) / (1 - y_hat)).flatten())
second = lambda y_hat, y: ((y_hat - y) / (y_hat * (1 - y_hat))).T
v1 = exercises.check_bce_gradient(dl_dyhat=first)
v2 = exercises.check_bce_gradient(dl_dyhat=second)
assert v1.mistake_keys == ("bce_sign_flipped", "factor_K", "row_as_diagonal") and v2.mistake_key == "factor_K"

# %% [markdown]
# *Seen in:* a written answer to question 1.3(b), whose $\partial\ell/\partial\hat{\boldsymbol{y}}$ has $\frac{y}{\hat y}-\frac{1-y}{1-\hat y}$ — the negative of the
# right expression — with no $\frac1K$, and arranged as a $K\times K$ diagonal matrix instead of a $1\times K$ row;
# and another written answer to 1.3(b), with the right sign but no $\frac1K$. The right one (notebook 02):
# $\partial\ell/\partial\hat{\boldsymbol{y}} = \frac1K\big[\frac{\hat y_i-y_i}{\hat y_i(1-\hat y_i)}\big]_i$, a $1\times K$ row.
# The errors differ in kind. A flipped sign is the worst: a gradient step then *climbs* the loss. A missing $\frac1K$
# only makes every step $K$ times longer (the learning rate could absorb it, though the written derivative is still
# wrong); the $K\times K$ arrangement is a shape error. The code takes the sign and the size one at a time.

# %%
z3c = torch.tensor([0.8, -1.2])                       # logits of a classifier, and 0/1 targets
t = torch.tensor([1.0, 0.0])
p = torch.sigmoid(z3c)
bce = lambda q: F.binary_cross_entropy(q, t)           # mean over K = (1/K) Σ
J_bce = jacobian(bce, p).reshape(1, K)
assert cmp("right dl/dŷ", ((p - t) / (p * (1 - p))).reshape(1, K) / K, J_bce)

wrong_flipped = torch.diag(t / p - (1 - t) / (1 - p))  # the first answer: sign flipped, no 1/K, K×K
assert not cmp("flipped, K×K", wrong_flipped, J_bce)
assert not cmp("flipped, a row", torch.diagonal(wrong_flipped).reshape(1, K), J_bce)
assert cmp("its sign and K put back", -torch.diagonal(wrong_flipped).reshape(1, K) / K, J_bce)
wrong_no_1_over_K = ((p - t) / (p * (1 - p))).reshape(1, K)   # the second answer: right sign, no 1/K
assert not cmp("no 1/K", wrong_no_1_over_K, J_bce)
assert cmp("no 1/K, × 1/K", wrong_no_1_over_K / K, J_bce)    # ... it is off by exactly K

# the two errors have different consequences; take them one at a time. One gradient step on the logits
# (chained through σ'), with the right derivative, with only its sign flipped, and with only the 1/K missing:
step = lambda g: z3c - 0.5 * (g.flatten() * p * (1 - p))
loss_before = bce(p).item()
loss_after = {name: bce(torch.sigmoid(step(g))).item()
              for name, g in [("right", J_bce), ("sign flipped", -J_bce), ("1/K missing (K× larger)", K * J_bce)]}
print(f"BCE before the step {loss_before:.4f}; after one step: "
      + ", ".join(f"{name} {value:.4f}" for name, value in loss_after.items()))
assert loss_after["sign flipped"] > loss_before, "a flipped sign climbs the loss"
assert loss_after["right"] < loss_before and loss_after["1/K missing (K× larger)"] < loss_before, \
    "a missing 1/K only scales the step: for a small step the loss still goes down"

# %% [markdown]
# ## Mistake 4 — gradients in denominator layout
#
# Two written answers to questions 1.2(c)–(d) write $\partial\ell/\partial\hat{\boldsymbol{y}}$ as a $K\times1$ column and
# $\partial\ell/\partial\boldsymbol{W}^{(2)}$ as a $K\times h$ matrix, shaped like PyTorch's `.grad`; one of them then mixes the two layouts in
# one chain rule.
#
# **Wrong:** $\;\partial\ell/\partial\hat{\boldsymbol{y}} = 2(\hat{\boldsymbol{y}}-\boldsymbol{y})$ ($K\times1$), $\;\partial\ell/\partial\boldsymbol{W}^{(2)} = \boldsymbol{\delta}^\top\boldsymbol{z}_2^\top$ ($K\times h$).
# **Right:** $\;2(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top$ ($1\times K$), $\;\boldsymbol{z}_2\boldsymbol{\delta}$ ($h\times K$), with $\boldsymbol{\delta} = \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}$.

# %%
print(mistakes.get('transpose').name)
print(mistakes.get('sizes_dont_multiply').name)

# %%
# the written answer, fed to the exercise check of notebooks 01–03
v1 = exercises.check_jacobians(dl_dyhat=lambda y_hat, y: 2 * (y_hat - y))                  # a column
v2 = exercises.check_gradients(dl_dW2=lambda x, W1, b1, dl_dyhat, dyhat_dz3:
                               (dl_dyhat @ dyhat_dz3).T @ (5 * torch.relu(W1 @ x + b1)).T)     # K×h
v3 = exercises.check_gradients(dl_db1=lambda W2, dl_dyhat, dyhat_dz3, dz2_dz1:
                               (W2.T @ (dl_dyhat @ dyhat_dz3).T) @ dz2_dz1)                     # mixed layouts
assert (v1.mistake_key, v2.mistake_key, v3.mistake_key) == ("transpose", "transpose", "sizes_dont_multiply")

# %% [markdown]
# *Seen in:* two written answers to questions 1.2(c)–(d): $\partial\ell/\partial\hat{\boldsymbol{y}}$ written as a $K\times1$
# column and $\partial\ell/\partial\boldsymbol{W}^{(2)}$ as a $K\times h$ matrix (input-shaped, like PyTorch's `.grad`). The homework
# demands numerator layout — $1\times K$ and $h\times K$ — and counts a missing transpose as wrong. The numbers are
# right, the layout is not; and mixing the two layouts in one chain rule produces products that do not exist
# (one of them computes $\partial\ell/\partial\boldsymbol{z}_1$ by multiplying an $h\times1$ column by the $h\times h$ Jacobian from the right).

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
# A written answer to question 1.2(c) writes $\partial\boldsymbol{z}_1/\partial\boldsymbol{b}^{(1)} = I_K$.
#
# **Wrong:** $\;\partial\boldsymbol{z}_1/\partial\boldsymbol{b}^{(1)} = I_K$. **Right:** $\;I_h$.

# %%
print(mistakes.get('wrong_identity_size').name)

# %%
# the written answer, fed to the exercise check of notebooks 01–03
v = exercises.check_gradients(dl_db1=lambda W2, dl_dyhat, dyhat_dz3, dz2_dz1:
                              dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1 @ torch.eye(dl_dyhat.shape[1]))   # I_K
assert v.mistake_key == "wrong_identity_size"

# %% [markdown]
# *Seen in:* a written answer to question 1.2(c), which writes $\partial\boldsymbol{z}_1/\partial\boldsymbol{b}^{(1)} = I_K$. Since $\boldsymbol{z}_1 = \boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$
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
# A written answer to question 1.2(c) puts $\boldsymbol{z}_2$ on the right of $\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}$ in $\partial\ell/\partial\boldsymbol{W}^{(2)}$,
# and ends $\partial\ell/\partial\boldsymbol{W}^{(1)}$ with $\boldsymbol{x}$ on the right.
#
# **Wrong:** $\;\boldsymbol{\delta}\,\boldsymbol{z}_2$ and $\;\big(\boldsymbol{\delta}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}\big)\boldsymbol{x}$.
# **Right:** $\;\boldsymbol{z}_2\,\boldsymbol{\delta}$ and $\;\boldsymbol{x}\,\big(\boldsymbol{\delta}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}\big)$.

# %%
print(mistakes.get('sizes_dont_multiply').name)

# %%
# the written answer, fed to the exercise check of notebooks 01–03
v1 = exercises.check_gradients(dl_dW2=lambda x, W1, b1, dl_dyhat, dyhat_dz3:
                               (dl_dyhat @ dyhat_dz3) @ (5 * torch.relu(W1 @ x + b1)))
v2 = exercises.check_gradients(dl_dW1=lambda x, W2, dl_dyhat, dyhat_dz3, dz2_dz1:
                               (dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1) @ x)
assert v1.mistake_key == v2.mistake_key == "sizes_dont_multiply"

# %% [markdown]
# *Seen in:* a written answer to question 1.2(c): $\partial\ell/\partial\boldsymbol{W}^{(2)}$ is written as $\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}$ times $\boldsymbol{z}_2$
# *on the right* (a $1\times K$ row times an $h\times1$ column), and $\partial\ell/\partial\boldsymbol{W}^{(1)}$ ends with $\boldsymbol{x}$ on the
# right (a $1\times h$ row times an $n\times1$ column). In numerator layout the input vector goes on the **left**:
# $\boldsymbol{z}_2\,\boldsymbol{\delta}$ and $\boldsymbol{x}\,(\cdots)$ — outer products.

# %%
assert shape_error(lambda: delta @ z2)
assert shape_error(lambda: (delta @ W2 @ dz2_dz1) @ x)
assert cmp("right dl/dW2", z2 @ delta, ref["W2"])
assert cmp("right dl/dW1", x @ (delta @ W2 @ dz2_dz1), ref["W1"])

# %% [markdown]
# ## 7 — a factor to note, not a mistake: `nn.MSELoss()` for the homework's $\|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$
#
# A written answer to question 1.2(a) trains the homework's sum of squares with `nn.MSELoss()`.
#
# **Written:** `nn.MSELoss()`, that is $\frac1K\|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$. **The homework's:** $\;\|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$ — the same steps with a learning rate $K$ times larger.

# %%
print("not a mistake of the catalogue: a constant factor 1/K, which the learning rate absorbs")

# %%
# the written answer, fed to the exercise check of notebooks 01–03
v = exercises.check_batch_loss(lambda y_hat, Y: nn.MSELoss()(y_hat, Y))     # accepted, with the factor noted
assert v.status == "correct" and "nn.MSELoss()" in v.line

# %% [markdown]
# *Seen in:* a written answer to question 1.2(a), which trains the sum-of-squares loss with `nn.MSELoss()`. That
# loss is the *mean* over the $K$ outputs, so its value and its gradients are exactly $\frac1K$ of the homework's. This
# is a constant factor, and a learning rate $K$ times larger absorbs it: SGD then takes exactly the same steps. Worth
# noting (and putting back, as notebook 01 does, when the numbers are compared), but not wrong.

# %%
mse_mean = lambda *p: nn.MSELoss()(regression(*p)[3], y)
grads_mean = autograd_grad(mse_mean, W1, b1, W2, b2)
for name, g in zip(names, grads_mean):
    assert cmp(f"MSELoss d{name} · K", K * g.T, ref[name])               # exactly 1/K of the homework's
eta = 0.01                                                                 # the same SGD step, learning rate K·η
for name, theta, g_mean in zip(names, (W1, b1, W2, b2), grads_mean):
    assert cmp(f"step {name}: K·η", theta - (K * eta) * g_mean, theta - eta * ref[name].T)

# %% [markdown]
# ## Mistake 8 — an integration slip in the tanh-logistic loss (question 1.4(3))
#
# A written answer to question 1.4(3) integrates $dL/d\hat y$ and, in an intermediate step, writes $\hat y$ in two places
# where the label $y$ belongs.
#
# **Wrong:** $\;-\tfrac12\big[(1+\hat y)\log(1+\hat y)+(1-\hat y)\log(1-\hat y)\big]$. **Right:** $\;-\tfrac12\big[(1+y)\log(1+\hat y)+(1-y)\log(1-\hat y)\big]$.

# %%
print(mistakes.get('label_lost_in_integration').name)

# %%
# the written answer, fed to the exercise check of notebooks 01–03
zs_, ys_ = sp.symbols("z y", real=True)
yh_ = sp.tanh(zs_)                                    # the slip, written in z with ŷ = tanh z
slip_in_z = -(1 + yh_) * sp.log(1 + yh_) / 2 - (1 - yh_) * sp.log(1 - yh_) / 2
v = exercises.check_loss("logistic", slip_in_z)
assert v.mistake_key == "label_lost_in_integration"

# %% [markdown]
# *Seen in:* a written answer to question 1.4(3). To reproduce the update rule, the loss must satisfy
# $\frac{dL}{d\hat y} = \frac{\hat y - y}{1-\hat y^2}$ (with $\hat y=\tanh z$). The intermediate antiderivative in that answer,
# $-\tfrac12\big[(1+\hat y)\log(1+\hat y) + (1-\hat y)\log(1-\hat y)\big]$, has $\hat y$ where the label $y$ belongs in the
# two coefficients, so it does not depend on $y$ at all — its derivative is $-\operatorname{artanh}\hat y$. (The answer's final
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
# | # | mistake | seen in a written answer to | what catches it |
# |---|---------|-----------------------------|-----------------|
# | 1 | $5\,\mathrm{ReLU}$' as 1/0, and the 5 missing in the forward pass | 1.2(b), 1.2(d) | `cmp` vs `jacobian`; downstream gradient |
# | 2 | sigmoid where $f=\tanh$ | 1.3(a) | `cmp` of forward value and Jacobian |
# | 3 | BCE derivative: sign flipped, $\frac1K$ dropped, $K\times K$ | 1.3(b) (twice; once $\frac1K$ only) | `cmp` (shape and values); the flipped sign raises the loss |
# | 4 | denominator layout | 1.2(c)–(d) (twice) | `cmp` shape check; mixed-layout product fails |
# | 5 | $I_K$ where $I_h$ is meant | 1.2(c) | `cmp` shape check; product fails |
# | 6 | factors in a non-multiplying order | 1.2(c) | the matrix product fails |
# | 7 | *a factor to note, not a mistake:* `nn.MSELoss()` (mean) for a sum of squares | 1.2(a) | `cmp`: exactly $\frac1K$; the learning rate absorbs it |
# | 8 | antiderivative without the label | 1.4(3) | sympy and `cmp` on the derivative |
