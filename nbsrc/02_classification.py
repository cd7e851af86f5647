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
# # 02 · Classification — homework question 1.3
#
# Same network as notebook 01 ($\boldsymbol{x}\in\mathbb{R}^n \to \boldsymbol{z}_1 \to \boldsymbol{z}_2 \to \boldsymbol{z}_3 \to \hat{\boldsymbol{y}}\in\mathbb{R}^K$,
# hidden size $h$), same **numerator layout** ($\partial\ell/\partial\hat{\boldsymbol{y}}$ is $1\times K$, a scalar's derivative
# with respect to a $K\times h$ matrix is $h\times K$, `.grad` is its transpose). Now $f=\tanh$ and $g=\sigma$,
# $\sigma(z) = 1/(1+e^{-z})$:
#
# * **1.3(a)** keep the loss $\ell = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$ (a sum over the $K$ outputs);
# * **1.3(b)** switch to $\ell_{\mathrm{BCE}} = \frac1K\sum_{i=1}^K -\big[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\big]$;
# * **1.3(c)** why $f=\mathrm{ReLU}$ helps deeper networks — an experiment.

# %%
import math

import matplotlib.pyplot as plt
import sympy as sp
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.functional import jacobian

import mlp
from lab import exercises
from lab.figures import save_figure
from lab.gradcheck import autograd_grad, cmp, fmt_err, numerical_grad
from lab.theory import show
from lab.latex.widget import latex_box

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
torch.manual_seed(0)
n, h, K = 3, 4, 2
W1, b1 = torch.randn(h, n), torch.randn(h, 1)      # column-vector convention of the homework
W2, b2 = torch.randn(K, h), torch.randn(K, 1)
x = torch.randn(n, 1)
y = torch.tensor([[1.0], [0.0]])                    # a target in {0, 1}^K


def forward(x, W1, b1, W2, b2):
    """1.3's network for one column vector x: returns z1, z2, z3, ŷ."""
    z1 = W1 @ x + b1
    z2 = torch.tanh(z1)
    z3 = W2 @ z2 + b2
    return z1, z2, z3, torch.sigmoid(z3)


# %% [markdown]
# ## 1.3(a) $f=\tanh$, $g=\sigma$, same MSE loss: what changes
#
# What changes in the forward table of 1.2(b), the gradients of 1.2(c) and the elements of 1.2(d)? One exercise for
# each, in that order; the checks also recognise the answers of 1.2 kept by mistake.
#
# **Exercise (b), the forward table.** Write the forward pass of the new network for one data point, with
# $\boldsymbol{x},\boldsymbol{y},\boldsymbol{W}^{(1)},\boldsymbol{b}^{(1)},\boldsymbol{W}^{(2)},\boldsymbol{b}^{(2)}$ only (column vectors): return
# $\boldsymbol{z}_1,\boldsymbol{z}_2,\boldsymbol{z}_3,\hat{\boldsymbol{y}}$ and the loss $\ell$, as in notebook 01.

# %% tags=["exercise"]
def my_forward(x, y, W1, b1, W2, b2):
    return None       # return z1, z2, z3, y_hat, ell


exercises.check_forward(my_forward, question="1.3a")

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_y_hat_latex = None        # your LaTeX, e.g. r"\hat{y} = \ldots"
exercises.check_forward(y_hat=my_y_hat_latex, question="1.3a")

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_forward, "y_hat", question="1.3a")


# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# Only the two activation rows change, and with them everything downstream of them:
#
# | layer | input | output |
# |-------|-------|--------|
# | $\mathrm{Linear}_1$ | $\boldsymbol{x}$ | $\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ |
# | $f$ | $\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ | $\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})$ |
# | $\mathrm{Linear}_2$ | $\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})$ | $\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}$ |
# | $g$ | $\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}$ | $\sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)$ |
# | loss | $\hat{\boldsymbol{y}}$, $\boldsymbol{y}$ | $\big\|\sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)-\boldsymbol{y}\big\|^2$ |

# %% tags=["solution"]
def forward_13a(x, y, W1, b1, W2, b2):
    """The table's outputs, as a function: the worked answer passed to the exercise's check."""
    z1 = W1 @ x + b1
    z2 = torch.tanh(z1)
    z3 = W2 @ z2 + b2
    y_hat = torch.sigmoid(z3)
    return z1, z2, z3, y_hat, ((y_hat - y) ** 2).sum()


exercises.check_forward(forward_13a, question="1.3a")

# %% [markdown]
# #### Exercise (c): the gradients
#
# Write the four gradients in numerator layout as in 1.2(c), each a function whose
# arguments are among `x, y, W1, b1, W2, b2, dl_dyhat, dz2_dz1, dyhat_dz3` (the Jacobians are now those of $\tanh$, $\sigma$
# and the loss; name only the arguments you use).

# %% tags=["exercise"]
def my_dl_dW1(x, W2, dl_dyhat, dz2_dz1, dyhat_dz3):
    return None


def my_dl_db1(W2, dl_dyhat, dz2_dz1, dyhat_dz3):
    return None


def my_dl_dW2(x, W1, b1, dl_dyhat, dyhat_dz3):
    return None


def my_dl_db2(dl_dyhat, dyhat_dz3):
    return None


exercises.check_gradients(my_dl_dW1, my_dl_db1, my_dl_dW2, my_dl_db2, question="1.3a")

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_dl_dW2_latex = None        # your LaTeX, e.g. r"\partial \ell / \partial W^{(2)} = \ldots"
exercises.check_gradients(dl_dW2=my_dl_dW2_latex, question="1.3a")

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_gradients, "dl_dW2", question="1.3a")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# Written with the allowed Jacobian symbols, the gradients keep their form. The one place where
# $f$'s *value* appears, the input of $\mathrm{Linear}_2$, changes from $5(\cdot)^+$ to $\tanh(\cdot)$:
#
# $$\frac{\partial\ell}{\partial\boldsymbol{W}^{(2)}} = \tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})\,\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\ (h\times K),
# \quad
# \frac{\partial\ell}{\partial\boldsymbol{b}^{(2)}},\ \frac{\partial\ell}{\partial\boldsymbol{b}^{(1)}},\ \frac{\partial\ell}{\partial\boldsymbol{W}^{(1)}}\ \text{as in 1.2(c)}.$$

# %% tags=["solution"]
exercises.check_gradients(dl_dW1=lambda x, W2, dl_dyhat, dz2_dz1, dyhat_dz3: x @ (dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1),
    dl_db1=lambda W2, dl_dyhat, dz2_dz1, dyhat_dz3: dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1,
    dl_dW2=lambda x, W1, b1, dl_dyhat, dyhat_dz3: torch.tanh(W1 @ x + b1) @ (dl_dyhat @ dyhat_dz3),
    dl_db2=lambda dl_dyhat, dyhat_dz3: dl_dyhat @ dyhat_dz3, question="1.3a")

# %% [markdown]
# #### Exercise (d): the elements
#
# Write the three Jacobians of the new network as functions: `dz2_dz1(z1)` ($h\times h$),
# `dyhat_dz3(z3)` ($K\times K$) and `dl_dyhat(y_hat, y)` ($1\times K$), column vectors in, numerator layout out.
# As on paper, a Jacobian may also be written in its layer's output: `dz2_dz1(z2)`, `dyhat_dz3(y_hat)`.

# %% tags=["exercise"]
def my_dz2_dz1(z1):
    return None


def my_dyhat_dz3(z3):
    return None


def my_dl_dyhat(y_hat, y):
    return None


exercises.check_jacobians(my_dz2_dz1, my_dyhat_dz3, my_dl_dyhat, question="1.3a")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# **In (d), the elements**: the two activation Jacobians change, $\partial\ell/\partial\hat{\boldsymbol{y}}$ does not:
#
# $$\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1} = \mathrm{diag}\big(1-\tanh^2(\boldsymbol{z}_1)\big)\in\mathbb{R}^{h\times h},\qquad
# \frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3} = \mathrm{diag}\big(\sigma(\boldsymbol{z}_3)\odot(1-\sigma(\boldsymbol{z}_3))\big)\in\mathbb{R}^{K\times K},\qquad
# \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}} = 2(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top\in\mathbb{R}^{1\times K},$$
#
# with $\boldsymbol{z}_1 = \boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ and $\boldsymbol{z}_3 = \boldsymbol{W}^{(2)}\tanh(\boldsymbol{z}_1)+\boldsymbol{b}^{(2)}$.

# %% tags=["solution"]
def numerator_grads(x, W2, dl_dyhat, dyhat_dz3, dz2_dz1, z2):
    """The four formulas of 1.2(c), unchanged in form (numerator layout)."""
    delta = dl_dyhat @ dyhat_dz3                                 # 1×K
    return {"W1": x @ (delta @ W2 @ dz2_dz1),                    # n×h
            "b1": delta @ W2 @ dz2_dz1,                          # 1×h
            "W2": z2 @ delta,                                    # h×K
            "b2": delta}                                         # 1×K


def check_against_autograd(ours, loss_fn):
    """cmp each numerator-layout gradient, transposed, with autograd's gradient (parameter's shape)."""
    refs = autograd_grad(loss_fn, W1, b1, W2, b2)
    return all([cmp(f"dl/d{name}ᵀ", ours[name].T, ref) for name, ref in zip(["W1", "b1", "W2", "b2"], refs)])


z1, z2, z3, y_hat = forward(x, W1, b1, W2, b2)

# (b) the table's expressions against an nn.Module and mlp.py's cache
module = nn.Sequential(nn.Linear(n, h), nn.Tanh(), nn.Linear(h, K), nn.Sigmoid())
with torch.no_grad():
    module[0].weight.copy_(W1); module[0].bias.copy_(b1.flatten())
    module[2].weight.copy_(W2); module[2].bias.copy_(b2.flatten())
assert cmp("module ŷ", torch.sigmoid(W2 @ torch.tanh(W1 @ x + b1) + b2).T, module(x.T))
net = mlp.MLP(n, h, "tanh", h, K, "sigmoid")
net.parameters.update(W1=W1.clone(), b1=b1.flatten(), W2=W2.clone(), b2=b2.flatten())
net.forward(x.T)
assert cmp("mlp z2", net.cache["z2"], torch.tanh(W1 @ x + b1).T)
assert cmp("mlp ŷ", net.cache["y_hat"], torch.sigmoid(W2 @ torch.tanh(W1 @ x + b1) + b2).T)

# (d) the elements, against torch.autograd.functional.jacobian (rows = outputs = numerator layout)
dz2_dz1 = torch.diag(1 - torch.tanh(z1.flatten()) ** 2)
dyhat_dz3 = torch.diag(torch.sigmoid(z3.flatten()) * (1 - torch.sigmoid(z3.flatten())))
dl_dyhat = 2 * (y_hat - y).T
assert cmp("dz2/dz1", dz2_dz1, jacobian(torch.tanh, z1.flatten()))
assert cmp("dŷ/dz3", dyhat_dz3, jacobian(torch.sigmoid, z3.flatten()))
assert cmp("dl/dŷ", dl_dyhat, jacobian(lambda v: ((v - y.flatten()) ** 2).sum(), y_hat.flatten()).reshape(1, K))
show("diag of dz2/dz1", torch.diagonal(dz2_dz1))
show("diag of dŷ/dz3", torch.diagonal(dyhat_dz3))

sig = lambda v: torch.sigmoid(v.flatten())
exercises.check_jacobians(dz2_dz1=lambda z1: torch.diag(1 - torch.tanh(z1.flatten()) ** 2),
                          dyhat_dz3=lambda z3: torch.diag(sig(z3) * (1 - sig(z3))),
                          dl_dyhat=lambda y_hat, y: 2 * (y_hat - y).T, question="1.3a")

# %% tags=["solution"]
# (c) the same four formulas, now with tanh's and σ's Jacobians, against autograd
ours_mse = numerator_grads(x, W2, dl_dyhat, dyhat_dz3, dz2_dz1, torch.tanh(W1 @ x + b1))
for name, g in ours_mse.items():
    print(f"dl/d{name}: numerator-layout shape {tuple(g.shape)}")
mse = lambda W1, b1, W2, b2: ((forward(x, W1, b1, W2, b2)[3] - y) ** 2).sum()
assert check_against_autograd(ours_mse, mse)

# %% [markdown]
# ## 1.3(b) Binary cross-entropy: what changes
#
# **Exercise (b), the forward table.** Write the forward pass for one data point as in 1.3(a), now with the loss
# $\ell_{\mathrm{BCE}}$ (`y` holds 0/1 targets): return $\boldsymbol{z}_1,\boldsymbol{z}_2,\boldsymbol{z}_3,\hat{\boldsymbol{y}}$ and $\ell$.

# %% tags=["exercise"]
def my_forward_bce(x, y, W1, b1, W2, b2):
    return None       # return z1, z2, z3, y_hat, ell


exercises.check_forward(my_forward_bce, question="1.3b")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# The table of 1.3(a) is unchanged except the loss row, which becomes
# $\ell = \frac1K\sum_i -\big[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\big]$ with
# $\hat{\boldsymbol{y}} = \sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)$:
# a mean over the $K$ outputs, with a minus sign in front.

# %% tags=["solution"]
def forward_13b(x, y, W1, b1, W2, b2):
    """1.3(a)'s table with the BCE loss row: the worked answer passed to the exercise's check."""
    z1 = W1 @ x + b1
    z2 = torch.tanh(z1)
    z3 = W2 @ z2 + b2
    y_hat = torch.sigmoid(z3)
    return z1, z2, z3, y_hat, -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()


assert cmp("ℓ_BCE vs F.binary_cross_entropy", forward_13b(x, y, W1, b1, W2, b2)[4],
           F.binary_cross_entropy(forward(x, W1, b1, W2, b2)[3], y))
exercises.check_forward(forward_13b, question="1.3b")

# %% [markdown]
# #### Exercise (d) and (c): the loss derivative
#
# With $\ell_{\mathrm{BCE}}$, write $\partial\ell/\partial\hat{\boldsymbol{y}}$ as a function `dl_dyhat(y_hat, y)` ($1\times K$), and the
# product $\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}$, simplified, as a function `dl_dz3(y_hat, y)` ($1\times K$); `y` holds 0/1
# targets, both are column vectors.

# %% tags=["exercise"]
def my_dl_dyhat(y_hat, y):
    return None


def my_dl_dz3(y_hat, y):
    return None


exercises.check_bce_gradient(my_dl_dyhat, my_dl_dz3)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_dl_dyhat_bce_latex = None        # your LaTeX, e.g. r"\partial \ell / \partial \hat{y} = \ldots"
exercises.check_bce_gradient(dl_dyhat=my_dl_dyhat_bce_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_bce_gradient, "dl_dyhat")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# **Why $\partial\ell/\partial\boldsymbol{z}_3 = (\hat{\boldsymbol{y}}-\boldsymbol{y})^\top/K$.**
#
# **(d) elements:** $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ and $\partial\hat{\boldsymbol{y}}/\partial\boldsymbol{z}_3$ are those of 1.3(a). The loss
# derivative changes. Each term depends on its own $\hat y_i$, and
# $\frac{d}{d\hat y}\big(-y\log\hat y-(1-y)\log(1-\hat y)\big) = -\frac{y}{\hat y}+\frac{1-y}{1-\hat y} = \frac{\hat y-y}{\hat y(1-\hat y)}$, so
#
# $$\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}} = \frac1K\left[\frac{\hat y_1-y_1}{\hat y_1(1-\hat y_1)},\ \dots,\ \frac{\hat y_K-y_K}{\hat y_K(1-\hat y_K)}\right]\in\mathbb{R}^{1\times K}
# \qquad(\text{note the } \tfrac1K \text{ and the sign: } \hat y - y).$$
#
# **(c) gradients:** multiply by $\partial\hat{\boldsymbol{y}}/\partial\boldsymbol{z}_3 = \mathrm{diag}(\hat y_i(1-\hat y_i))$: entry $i$ becomes
# $\frac1K\frac{\hat y_i-y_i}{\hat y_i(1-\hat y_i)}\cdot\hat y_i(1-\hat y_i) = \frac{\hat y_i-y_i}{K}$. The factor that could vanish
# cancels:
#
# $$\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3} = \frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K},\qquad
# \frac{\partial\ell}{\partial\boldsymbol{W}^{(2)}} = \tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})\frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K},\quad
# \frac{\partial\ell}{\partial\boldsymbol{b}^{(2)}} = \frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K},$$
# $$\frac{\partial\ell}{\partial\boldsymbol{b}^{(1)}} = \frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1},\quad
# \frac{\partial\ell}{\partial\boldsymbol{W}^{(1)}} = \boldsymbol{x}\frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}.$$
#
# The same derivation, one step at a time, in sympy (one output, so the sum has one term; the $\frac1K$ stays):

# %% tags=["solution"]
z, yy, Ks = sp.symbols("z y K", real=True)
p = sp.Symbol("p", positive=True)                       # p stands for ŷ = σ(z)
sigma = 1 / (1 + sp.exp(-z))
ell_p = -(yy * sp.log(p) + (1 - yy) * sp.log(1 - p)) / Ks
is_zero = lambda e: sp.cancel(sp.together(e)) == 0     # exact rational-function identity test

step1 = sp.factor(sp.together(sp.diff(ell_p, p)))      # dℓ/dŷ
step2 = sp.diff(sigma, z)                               # dŷ/dz
step3 = step1.subs(p, sigma) * step2                    # chain rule: dℓ/dz = dℓ/dŷ · dŷ/dz
print("step 1  dℓ/dŷ =", step1, "  i.e. (ŷ - y) / (K ŷ (1 - ŷ))")
print("step 2  dŷ/dz =", step2, "  i.e. σ(z)(1 - σ(z))")
print("step 3  dℓ/dz =", sp.factor(sp.cancel(sp.together(step3))), "  i.e. (σ(z) - y) / K")
assert is_zero(step1 - (p - yy) / (Ks * p * (1 - p)))
assert is_zero(step2 - sigma * (1 - sigma))
assert is_zero(step3 - (sigma - yy) / Ks)
assert not is_zero(step3 - (yy - sigma) / Ks)           # the test can fail: the flipped sign is rejected
# and directly, without the chain rule by hand:
assert is_zero(sp.diff(ell_p.subs(p, sigma), z) - (sigma - yy) / Ks)
print("checked: dℓ/dz = (σ(z) - y)/K")

# %% tags=["solution"]
dl_dyhat_bce = ((y_hat - y) / (y_hat * (1 - y_hat))).T / K             # 1×K
bce = lambda W1, b1, W2, b2: F.binary_cross_entropy(forward(x, W1, b1, W2, b2)[3], y)   # mean over K = 1/K·Σ
assert cmp("dl/dŷ (BCE)", dl_dyhat_bce,
           jacobian(lambda v: F.binary_cross_entropy(v, y.flatten()), y_hat.flatten()).reshape(1, K))
assert cmp("dl/dz3", dl_dyhat_bce @ dyhat_dz3, (y_hat - y).T / K)        # the simplification
assert cmp("dl/dz3 (ag)", (y_hat - y).T / K,
           jacobian(lambda v: F.binary_cross_entropy(torch.sigmoid(v), y.flatten()), z3.flatten()).reshape(1, K))

ours_bce = numerator_grads(x, W2, dl_dyhat_bce, dyhat_dz3, dz2_dz1, torch.tanh(W1 @ x + b1))
assert check_against_autograd(ours_bce, bce)

# mlp.py: for one data point its mean-reduced BCE is exactly this ℓ, and its grads are .grad-shaped
J, dJdy_hat = mlp.bce_loss(y.T, y_hat.T)
assert cmp("mlp dJ/dŷ", dJdy_hat, dl_dyhat_bce)
net.clear_grad_and_cache(); net.forward(x.T); net.backward(dJdy_hat)
for name, g in ours_bce.items():
    assert cmp(f"mlp dJd{name}", net.grads[f"dJd{name}"], g.T.reshape(net.grads[f"dJd{name}"].shape))

exercises.check_bce_gradient(dl_dyhat=lambda y_hat, y: ((y_hat - y) / (y_hat * (1 - y_hat))).T / y.shape[0],
                             dl_dz3=lambda y_hat, y: (y_hat - y).T / y.shape[0])

# %% [markdown]
# ### A second, independent check: centred finite differences
#
# Autograd is one reference; the forward pass alone gives another. For each parameter entry $\theta_i$,
# $\big(\ell(\theta+\varepsilon\boldsymbol{e}_i)-\ell(\theta-\varepsilon\boldsymbol{e}_i)\big)/2\varepsilon$ equals $\partial\ell/\partial\theta_i$ up to $O(\varepsilon^2)$ (the centred
# difference cancels the $\varepsilon$ term of the Taylor series; a one-sided difference keeps it). We compare each
# parameter's gradient by its relative error $\|a-b\|/\max(\|a\|,\|b\|)$: a size-free number, about $10^{-8}$ or below when the
# two agree and about 1 when a gradient is wrong. (Taken entry by entry, it can be large for an entry that is nearly 0:
# the difference quotient carries a rounding error of about $10^{-16}\,\ell/\varepsilon$ in absolute terms.) Here $\tanh$ and $\sigma$ are
# smooth, so the quotient agrees to about $\varepsilon^2$ plus rounding; notebook 01 shows what happens at ReLU's kink.

# %%
def rel_error(a, b):
    """‖a - b‖ / max(‖a‖, ‖b‖), 0 when both are 0."""
    scale = max(a.norm().item(), b.norm().item())
    return (a - b).norm().item() / scale if scale > 0 else 0.0


losses_13 = {"MSE, 1.3(a)": lambda W1, b1, W2, b2: ((forward(x, W1, b1, W2, b2)[3] - y) ** 2).sum(),
             "BCE, 1.3(b)": lambda W1, b1, W2, b2: F.binary_cross_entropy(forward(x, W1, b1, W2, b2)[3], y)}
for loss_name, loss_fn in losses_13.items():
    auto = autograd_grad(loss_fn, W1, b1, W2, b2)
    centred = numerical_grad(loss_fn, W1, b1, W2, b2, eps=1e-6)
    errors = {name: rel_error(a, c) for name, a, c in zip(["W1", "b1", "W2", "b2"], auto, centred)}
    print(f"{loss_name}: relative error, centred differences (ε = 1e-6) vs autograd: "
          + ", ".join(f"{name} {fmt_err(e)}" for name, e in errors.items()))
    assert max(errors.values()) < 1e-7

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# ##### Why the fused form (BCE-with-logits) is numerically safer
#
# Computed in two stages, the loss first rounds $\hat y = \sigma(z_3)$ and then takes $\log(1-\hat y)$. For a
# confident wrong logit the rounding destroys everything: in float32, $\sigma(40)$ *is* 1.0, so $\log(1-\hat y)=-\infty$.
# Autograd then multiplies $\partial\ell/\partial\hat y = \infty$ by $\sigma'(40)=0$ and gets NaN. `nn.BCELoss` clamps
# $\log$ at $-100$ so the loss stays finite (100, not 40) — but the gradient through the rounded $\hat y$ is still
# $0$, although the true gradient is $\sigma(40)-0\approx 1$: the most wrong output stops learning.
#
# The fused form never forms $\log(1-\sigma(z))$. It uses the identity
# $-[y\log\sigma(z)+(1-y)\log(1-\sigma(z))] = \max(z,0) - yz + \log(1+e^{-|z|})$ (no overflow, no $\log 0$) and its
# gradient is exactly the simplified $\sigma(z)-y$ derived above.

# %% tags=["solution"]
z_bad = torch.tensor([40.0], dtype=torch.float32)         # a saturated logit, target 0
t = torch.tensor([0.0], dtype=torch.float32)
print(f"float32 sigmoid(40) == 1.0: {torch.sigmoid(z_bad).item() == 1.0}")


def loss_and_grad(fn):
    zz = z_bad.clone().requires_grad_(True)
    loss = fn(zz)
    loss.backward()
    return loss.item(), zz.grad.item()


rows = {
    "by hand: log(1-σ(z))": loss_and_grad(lambda v: -(t * torch.log(torch.sigmoid(v)) + (1 - t) * torch.log(1 - torch.sigmoid(v))).sum()),
    "nn.BCELoss(σ(z))": loss_and_grad(lambda v: F.binary_cross_entropy(torch.sigmoid(v), t)),
    "BCE-with-logits (fused)": loss_and_grad(lambda v: F.binary_cross_entropy_with_logits(v, t)),
}
exact_loss = F.softplus(torch.tensor(40.0, dtype=torch.float64)).item()     # -log(1-σ(40)) = softplus(40)
exact_grad = torch.sigmoid(torch.tensor(40.0, dtype=torch.float64)).item()  # σ(40) - 0
print(f"{'method':<26}{'loss':>10}{'dℓ/dz':>10}")
for name, (loss, grad) in rows.items():
    print(f"{name:<26}{loss:>10.4g}{grad:>10.4g}")
print(f"{'exact (float64 math)':<26}{exact_loss:>10.4g}{exact_grad:>10.4g}")

assert math.isinf(rows["by hand: log(1-σ(z))"][0]) and math.isnan(rows["by hand: log(1-σ(z))"][1])
assert rows["nn.BCELoss(σ(z))"] == (100.0, 0.0)           # clamped loss, dead gradient
assert cmp("fused loss", torch.tensor(rows["BCE-with-logits (fused)"][0]), torch.tensor(exact_loss))
assert cmp("fused dℓ/dz", torch.tensor(rows["BCE-with-logits (fused)"][1]), torch.tensor(exact_grad))

# %% [markdown]
# ## 1.3(c) Why $f = \mathrm{ReLU}$ helps deeper networks — an experiment
#
# The homework keeps $g = \tanh$ at the output and asks why $f(\cdot) = (\cdot)^+$ helps a deeper network. Backprop
# through one hidden layer of a deep net, $\boldsymbol{z}_{l+1} = \boldsymbol{W}^{(l+1)} f(\boldsymbol{z}_l) + \boldsymbol{b}^{(l+1)}$, is (rows, numerator layout)
#
# $$\frac{\partial L}{\partial\boldsymbol{z}_l} = \Big(\frac{\partial L}{\partial\boldsymbol{z}_{l+1}}\boldsymbol{W}^{(l+1)}\Big)\odot f'(\boldsymbol{z}_l)^\top ,$$
#
# so the backward signal $\partial L/\partial\boldsymbol{z}_l$ is multiplied by a weight matrix and by the slopes $f'(\boldsymbol{z}_l)$ once per layer.
#
# **The experiment** (one run, seeded): 20 hidden layers of width 64, zero biases, a batch of 128 random inputs, a
# linear read-out followed by $g = \tanh$, targets in $(-1, 1)$ and an MSE loss. Each activation gets the weight scale
# made for it: weights of variance $v/64$ with $v = 1$ (Xavier's scale) for sigmoid and tanh, $v = 2$ (He's scale) for
# ReLU. We measure the size of the backward signal $\|\partial L/\partial\boldsymbol{z}_l\|$ at every layer. Two more tanh nets,
# with weights 2 and 3 times Xavier's scale ($v = 4$, $v = 9$; weights grow like this during training), show what
# happens to tanh's slopes when the pre-activations grow: the **saturation table** counts, per layer, the units whose
# slope $f'(z)$ is below 0.1 — units that pass less than a tenth of the gradient to their weights and to the layers
# below.
#
# **Exercise (predict, then run).** Before running the experiment, predict for which of the three nets — sigmoid and
# tanh at Xavier's scale, ReLU at He's — the backward signal reaching layer 1 keeps its size: within a factor 3 of
# its size at layer 20. Give a set of names among `"sigmoid"`, `"tanh"`, `"relu"`.

# %% tags=["exercise"]
my_keeps_scale = None      # a set of names, e.g. {"..."}
exercises.check_deep_gradients(my_keeps_scale)

# %%
def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


# the experiment lives in lab.exercises (exercises.deep_gradient_experiment), so that the check of the exercise
# above runs exactly this run: same nets, same seed, same numbers
deep = exercises.deep_gradient_experiment()
ratio = {name: r["signal"][0] / r["signal"][-1] for name, r in deep.items()}
print(f"{'net':<13}{'v':>3}{'‖∂L/∂z₁‖/‖∂L/∂z₂₀‖':>21}{'gain per layer':>16}{'v·E[f′²]':>10}")
for name, r in deep.items():
    print(f"{name:<13}{r['v']:>3.0f}{ratio[name]:>21.1e}{geometric_mean(r['gain']):>16.2f}"
          f"{geometric_mean(r['predicted']):>10.2f}")
print("\nsaturation table: the fraction of units whose slope f′(z) is below 0.1, per layer")
layers_shown = [0, 1, 4, 9, 14, 19]
print(f"{'net':<13}" + "".join(f"{'layer ' + str(l + 1):>10}" for l in layers_shown))
for name in ["tanh", "tanh, v = 4", "tanh, v = 9", "relu"]:
    print(f"{name:<13}" + "".join(f"{deep[name]['saturated'][l]:>10.0%}" for l in layers_shown))
relu_slopes = torch.cat([s.flatten() for s in deep["relu"]["slopes"]])
relu_active = torch.cat([z.flatten() for z in deep["relu"]["pre"]]) > 0
print(f"\nReLU: slope exactly 1 on all {int(relu_active.sum())} active units and 0 on the "
      f"{int((~relu_active).sum())} inactive ones: {bool(torch.all(relu_slopes[relu_active] == 1))}")

# %%
fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 4.4))
layers_axis = list(range(1, 21))
labels = {"sigmoid": "sigmoid, Xavier (v = 1)", "tanh": "tanh, Xavier (v = 1)", "relu": "ReLU, He (v = 2)",
          "tanh, v = 4": "tanh, v = 4 (2 × Xavier's scale)"}
styles = {"sigmoid": "o-", "tanh": "s-", "relu": "^-", "tanh, v = 4": "s--"}
colors = {"sigmoid": "tab:blue", "tanh": "tab:orange", "relu": "tab:green", "tanh, v = 4": "tab:red"}
for name in ["sigmoid", "tanh", "relu"]:
    relative = [value / deep[name]["signal"][-1] for value in deep[name]["signal"]]
    ax1.semilogy(layers_axis, relative, styles[name], color=colors[name], label=labels[name], markersize=4)
    if name != "sigmoid":
        ax2.plot(layers_axis, relative, styles[name], color=colors[name], label=labels[name], markersize=4)
ax1.set(title="Backward signal, relative to layer 20", xlabel="layer l (1 = nearest the input)",
        ylabel="‖∂L/∂z_l‖ / ‖∂L/∂z₂₀‖ (log scale)")
ax2.axhspan(1 / 3, 3, color="gray", alpha=0.12, label="within a factor 3 of layer 20")
ax2.set(title="The same for tanh and ReLU (linear scale)", xlabel="layer l", ylabel="‖∂L/∂z_l‖ / ‖∂L/∂z₂₀‖",
        ylim=(0, 1.6))
bins = torch.linspace(0, 1, 21)
for name in ["tanh", "tanh, v = 4", "relu"]:
    slopes = torch.cat([s.flatten() for s in deep[name]["slopes"]]).clamp(0, 1)
    share = torch.histogram(slopes, bins=bins).hist / slopes.numel()
    ax3.stairs(share.numpy(), bins.numpy(), color=colors[name], lw=2, label=labels[name])
ax3.axvline(0.1, color="gray", ls=":", lw=1)
ax3.set(title="Distribution of the slopes f′(z), all layers", xlabel="f′(z)  (dotted: 0.1, the saturation line)",
        ylabel="share of units × inputs", ylim=(0, 1))
for ax in (ax1, ax2):
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))       # layers are whole numbers
for ax in (ax1, ax2, ax3):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "deep_net_gradient_norms")
plt.show()

# %% [markdown]
# **Your explanation (in words).** The homework asks *why* $f = \mathrm{ReLU}$ helps a deeper network. Write your
# answer here (double-click to edit), using what the experiment measured:
#
# *YOUR ANSWER HERE*

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Rubric (how a TA grades the explanation; open it after writing yours)

# %% [markdown] tags=["solution"]
# Four points, one for each of these ideas in the learner's own words (a formula or a number from the experiment
# counts as well as a sentence):
#
# | points | what earns them |
# |--------|-----------------|
# | 1 | Backprop multiplies the gradient by $f'(\boldsymbol{z}_l)$ (and a weight matrix) once per layer, so the gradient at the first layers is a product of many such factors. |
# | 1 | Sigmoid's slope is at most $\frac14$ and tanh's is below 1 except at 0, and close to 0 when the unit saturates ($|z|$ large): the product shrinks geometrically with depth — vanishing gradients in the early layers. |
# | 1 | ReLU's slope is exactly 1 on active units however large $z$ is: it never saturates, so the signal passes undiminished (with He's scale the per-layer gain is about 1). |
# | 1 | A cost or condition named: inactive units pass no gradient (half of them here; "dying ReLU" when a unit is off for every input), and the scale of the weights must suit the activation (He's factor 2); $g = \tanh$ at the output costs one factor, not one per layer. |
#
# No point for "ReLU is non-linear" (so are the others) or "ReLU is cheaper to compute" alone (true, but not why
# the gradient survives depth). An answer that says tanh is as good because its gradient "stays flat" misreads the
# experiment: at Xavier's scale its backward signal shrinks by a factor of several over 20 layers, and at larger scales
# a growing share of its units saturate.

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# **The per-layer gain.** With independent zero-mean weights of variance $v/\text{fan-in}$ (square layers), multiplying
# by $\boldsymbol{W}^{(l+1)}$ multiplies the expected squared norm of the backward signal by $v$; the element-wise product with
# $f'(\boldsymbol{z}_l)$ multiplies it by about $\mathbb{E}[f'(z)^2]$. So each layer scales $\|\partial L/\partial\boldsymbol{z}_l\|^2$ by
#
# $$\text{gain}_l \approx v\cdot\mathbb{E}\big[f'(\boldsymbol{z}_l)^2\big],$$
#
# and 20 layers multiply 20 such gains: anything steadily below 1 vanishes geometrically. The table above measures the
# gain and the prediction side by side; the checks below hold the story to the numbers of this one run. In the figure:
# on the left, sigmoid's signal falls by twelve orders of magnitude; in the middle, tanh's falls steadily towards the
# input while ReLU's stays within a factor 3 of its size at layer 20; on the right, ReLU's slopes are exactly 0 or 1,
# tanh's lie below 1, and with weights twice Xavier's scale a fifth of them fall under 0.1.
#
# * **sigmoid** (Xavier's scale): $\sigma' \le \tfrac14$, so the gain is at most $v/16$. The backward signal reaching layer 1
#   is many orders of magnitude smaller than at layer 20: the early layers cannot learn.
# * **tanh** (Xavier's scale): $\tanh' < 1$ except at $z = 0$, so $\mathbb{E}[\tanh'^2] < 1$ and the gain stays below 1 at every
#   layer. The loss is slow but steady: over 20 layers the signal shrinks by the factor printed above.
# * **ReLU** (He's scale): $\mathrm{ReLU}'$ is exactly 1 on active units and 0 on inactive ones, so $\mathbb{E}[\mathrm{ReLU}'^2]$ is the
#   fraction of active units, about $\tfrac12$. He's factor 2 makes up for that half: the gain is about $2\cdot\tfrac12 = 1$ and the
#   signal keeps its size from layer 20 to layer 1.
# * **Saturation** is what separates tanh from ReLU. tanh's slope depends on how large $z$ is; ReLU's does not. Scale
#   tanh's weights up (the $v = 4$ and $v = 9$ rows) and its signal no longer shrinks — the gain rises above 1 and the
#   signal grows towards the input instead — but a fifth, then about half of its units now have a slope below 0.1 (the
#   saturation table): they pass almost nothing to their own weights, which then barely learn. tanh's gain depends on
#   where its units sit on the curve, which moves as the weights learn. ReLU's gain is $v/2$ whatever the size of $z$, so
#   He's scale sets it to 1 once; ReLU blocks about half its units (the inactive ones) at any scale, and every active
#   unit passes its gradient whole.
# * **The price of ReLU**: a unit that is inactive for every input passes no gradient to its weights, so nothing moves
#   it back ("dying ReLU"); and its scale must be right — He's $v = 2$ — since its gain is exactly $v/2$ per layer.

# %% tags=["solution"]
gain = {name: geometric_mean(r["gain"]) for name, r in deep.items()}
for name, r in deep.items():                      # the gain formula holds to within 15 % on every net
    assert abs(math.log(gain[name] / geometric_mean(r["predicted"]))) < math.log(1.15), name
assert ratio["sigmoid"] < 1e-6, "sigmoid: the backward signal vanishes"
assert ratio["tanh"] < 1 / 3 and gain["tanh"] < 1, "tanh at Xavier's scale: a gain below 1 at every layer"
assert 1 / 3 <= ratio["relu"] <= 3 and 0.8 < gain["relu"] < 1.25, "ReLU at He's scale keeps its size"
saturated = {name: sum(deep[name]["saturated"][1:]) / 19 for name in ["tanh", "tanh, v = 4", "tanh, v = 9"]}
assert saturated["tanh"] < 0.02 < 0.1 < saturated["tanh, v = 4"] < saturated["tanh, v = 9"], saturated
assert torch.all(relu_slopes[relu_active] == 1) and torch.all(relu_slopes[~relu_active] == 0)
keeps = {name for name in ["sigmoid", "tanh", "relu"] if 1 / 3 <= ratio[name] <= 3}
assert keeps == exercises.keeps_scale(deep)
print("keeps its size over 20 layers:", sorted(keeps))
exercises.check_deep_gradients(keeps)
