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
# # 01 · Regression — homework question 1.2
#
# The network of the homework, for one input $\boldsymbol{x}\in\mathbb{R}^n$:
#
# $$\boldsymbol{x}\xrightarrow{\ \mathrm{Linear}_1\ }\boldsymbol{z}_1\xrightarrow{\ f\ }\boldsymbol{z}_2
# \xrightarrow{\ \mathrm{Linear}_2\ }\boldsymbol{z}_3\xrightarrow{\ g\ }\hat{\boldsymbol{y}}\in\mathbb{R}^K,
# \qquad \mathrm{Linear}_i(\boldsymbol{v}) = \boldsymbol{W}^{(i)}\boldsymbol{v}+\boldsymbol{b}^{(i)},$$
#
# with hidden size $h$: $\boldsymbol{W}^{(1)}\in\mathbb{R}^{h\times n}$, $\boldsymbol{W}^{(2)}\in\mathbb{R}^{K\times h}$.
# Question 1.2 takes $f = 5\,\mathrm{ReLU}$ (`mlp.py` calls it `'scaled_relu'`), $g$ = identity and
# $\ell(\hat{\boldsymbol{y}},\boldsymbol{y}) = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$.
#
# **This $\ell$ is a sum of squares** over the $K$ outputs of one data point. `nn.MSELoss()` and `mlp.mse_loss`
# return the *mean* over all elements instead, so whenever we compare with them a factor $K$ (and, for a batch,
# the batch size) appears. We write that factor out each time.
#
# **Notation: numerator layout**, as the homework demands. Every vector is a column vector. For a function
# $\boldsymbol{u}\in\mathbb{R}^m$ of $\boldsymbol{v}\in\mathbb{R}^p$, $\partial\boldsymbol{u}/\partial\boldsymbol{v}$ is the
# $m\times p$ Jacobian, with row $i$ = output $u_i$. Hence
#
# * $\partial\ell/\partial\hat{\boldsymbol{y}}$ is a $1\times K$ **row** vector;
# * $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ is $h\times h$;
# * for a scalar and a $K\times h$ matrix, $\partial\ell/\partial\boldsymbol{W}$ is $h\times K$:
#   $\left(\partial\ell/\partial\boldsymbol{W}\right)_{ji} = \partial\ell/\partial W_{ij}$.
#
# PyTorch's `.grad` has the parameter's own shape, so
# $\;\texttt{W.grad} = \left(\partial\ell/\partial\boldsymbol{W}\right)^\top$ and
# $\texttt{b.grad} = \left(\partial\ell/\partial\boldsymbol{b}\right)^\top$ (flattened). Section 1.2(c) checks this.
#
# Every formula below is followed by code that fails (an `assert`) if the formula is wrong;
# `cmp` prints one verdict line per tensor.
#
# **Exercises first.** Before each worked answer there is an exercise cell: replace the `None`
# placeholder with your answer and run the cell. `lab.exercises` evaluates it on random draws
# (sizes $n \ne h \ne K$, so a missing transpose cannot hide), compares it with autograd, and prints
# one line: `not answered yet`, `correct`, `wrong: <the mistake, named> — <a hint>`, or the shape it
# expected. Where a worked answer follows (the student edition has none), it sits under a folded heading
# **Worked answer**: none of its lines or outputs show until you click the arrow beside that heading (or its
# "cells hidden" button). Open it after you have tried.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from torch.autograd.functional import jacobian

import mlp
from lab import exercises
from lab.figures import save_figure
from lab.gradcheck import autograd_grad, cmp, fmt_err, numerical_grad
from lab.theory import show
from lab.latex.widget import latex_box

torch.set_default_dtype(torch.float64)   # float64: comparisons are exact to ~1e-15
torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
torch.manual_seed(0)
n, h, K = 3, 4, 2                          # h != K, so a wrong identity size or a missing transpose shows


class FiveReLU(nn.Module):
    """f(z) = 5·ReLU(z), the hidden activation of question 1.2."""
    def forward(self, z):
        return 5 * torch.relu(z)


model = nn.Sequential(nn.Linear(n, h), FiveReLU(), nn.Linear(h, K), nn.Identity())
print(model)

# %% [markdown]
# ## 1.2(a) The five steps of training with SGD on one batch
#
# **Exercise.** Put the five steps of one SGD step with PyTorch in the order you would run them, using
# the names of `exercises.STEP_MENU` (alphabetically: `"backward"`, `"forward"`, `"loss"`, `"step"`, `"zero_grad"`). The check
# runs your order on a small model whose `.grad` still holds the gradient of an earlier batch.

# %% tags=["exercise"]
my_steps = None       # e.g. ["...", "...", "...", "...", "..."]
exercises.check_steps(my_steps)

# %% [markdown]
# **Exercise.** Step 2 in code: the loss of a batch `y_hat`, `Y` (one example per row) for the homework's
# $\ell(\hat{\boldsymbol{y}},\boldsymbol{y}) = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$. (A constant factor is accepted — the
# learning rate absorbs it — and the verdict says which one you used.)

# %% tags=["exercise"]
def my_batch_loss(y_hat, Y):
    return None       # your expression in y_hat and Y


exercises.check_batch_loss(my_batch_loss)

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# For a batch $\{(\boldsymbol{x}_b,\boldsymbol{y}_b)\}_{b=1}^{B}$ and parameters
# $\theta = (\boldsymbol{W}^{(1)},\boldsymbol{b}^{(1)},\boldsymbol{W}^{(2)},\boldsymbol{b}^{(2)})$:
#
# | # | step | math | PyTorch |
# |---|------|------|---------|
# | 1 | forward pass | $\hat{\boldsymbol{y}}_b = F_\theta(\boldsymbol{x}_b)$ | `y_hat = model(X)` |
# | 2 | compute the loss | $L(\theta) = \frac1B\sum_b \|\hat{\boldsymbol{y}}_b-\boldsymbol{y}_b\|^2$ | `loss = ((y_hat - Y)**2).sum(1).mean()` |
# | 3 | zero the gradients | $G \leftarrow 0$ | `optimizer.zero_grad()` |
# | 4 | backward pass | $G \leftarrow \nabla_\theta L$ | `loss.backward()` |
# | 5 | SGD step | $\theta \leftarrow \theta - \eta\, G$ | `optimizer.step()` |
#
# Step 3 exists because `backward()` *adds* into `.grad`; without it, step 4 would give
# $G_{\text{old}} + \nabla_\theta L$. The code runs the five steps and checks that after `optimizer.step()`
# every parameter equals $\theta - \eta\nabla_\theta L$ up to float64 rounding (the differences printed below).

# %% tags=["solution"]
B, eta = 8, 0.05
X, Y = torch.randn(B, n), torch.randn(B, K)
optimizer = torch.optim.SGD(model.parameters(), lr=eta)
names = ["W1", "b1", "W2", "b2"]
theta_before = [p.detach().clone() for p in model.parameters()]

y_hat = model(X)                                  # 1. forward
loss = ((y_hat - Y) ** 2).sum(dim=1).mean()       # 2. loss: batch mean of the homework's sum of squares
optimizer.zero_grad()                             # 3. zero the gradients
loss.backward()                                   # 4. backward: fills p.grad = dL/dp (shape of p)
grads = [p.grad.detach().clone() for p in model.parameters()]
optimizer.step()                                  # 5. p <- p - eta * p.grad

print(f"loss before the step: {loss.item():.4f}")
for name, p, p0, g in zip(names, model.parameters(), theta_before, grads):
    assert cmp(f"{name} - (θ-ηg)", p, p0 - eta * g)

# nn.MSELoss() averages over all B·K numbers: it is L / K
assert cmp("MSELoss·K", nn.MSELoss()(y_hat, Y) * K, loss)

loss_after = ((model(X) - Y) ** 2).sum(dim=1).mean()
print(f"loss after the step:  {loss_after.item():.4f}")
assert loss_after < loss, "one small SGD step should lower the loss"

exercises.check_steps(["forward", "loss", "zero_grad", "backward", "step"])
exercises.check_batch_loss(lambda y_hat, Y: ((y_hat - Y) ** 2).sum(dim=1).mean())

# %% [markdown] tags=["solution"]
# Why step 3 matters: a second `backward()` without `zero_grad()` adds the new gradient to the old one.

# %% tags=["solution"]
loss2 = ((model(X) - Y) ** 2).sum(dim=1).mean()
fresh = torch.autograd.grad(loss2, list(model.parameters()), retain_graph=True)   # the gradient alone
loss2.backward()                                  # no zero_grad(): .grad still holds step 4's gradient
for name, p, g_old, g_new in zip(names, model.parameters(), grads, fresh):
    assert cmp(f"{name}.grad", p.grad, g_old + g_new)
optimizer.zero_grad()

# %% [markdown]
# ## 1.2(b) Inputs and outputs of each layer for one data point
#
# **Exercise.** Write the forward pass for one data point with $\boldsymbol{x},\boldsymbol{y},\boldsymbol{W}^{(1)},\boldsymbol{b}^{(1)},
# \boldsymbol{W}^{(2)},\boldsymbol{b}^{(2)}$ only (column vectors: `x` is $n\times1$, `b1` is $h\times1$): return the outputs
# $\boldsymbol{z}_1,\boldsymbol{z}_2,\boldsymbol{z}_3,\hat{\boldsymbol{y}}$ of the four layers and the loss $\ell$ (each layer's input is
# the previous one's output).

# %% tags=["exercise"]
def my_forward(x, y, W1, b1, W2, b2):
    return None       # return z1, z2, z3, y_hat, ell


exercises.check_forward(my_forward)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_z3_latex = None        # your LaTeX, e.g. r"z_3 = \ldots"
exercises.check_forward(z3=my_z3_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_forward, "z3")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# Using only $\boldsymbol{x},\boldsymbol{y},\boldsymbol{W}^{(1)},\boldsymbol{b}^{(1)},\boldsymbol{W}^{(2)},\boldsymbol{b}^{(2)}$
# (with $(\cdot)^+ = \max(\cdot, 0)$ element-wise):
#
# | layer | input | output |
# |-------|-------|--------|
# | $\mathrm{Linear}_1$ | $\boldsymbol{x}$ | $\boldsymbol{z}_1 = \boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ |
# | $f$ | $\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ | $\boldsymbol{z}_2 = 5\,(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+$ |
# | $\mathrm{Linear}_2$ | $5\,(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+$ | $\boldsymbol{z}_3 = 5\,\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+ + \boldsymbol{b}^{(2)}$ |
# | $g$ | $5\,\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+ + \boldsymbol{b}^{(2)}$ | $\hat{\boldsymbol{y}} = 5\,\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+ + \boldsymbol{b}^{(2)}$ |
# | loss | $\hat{\boldsymbol{y}}$ above and $\boldsymbol{y}$ | $\ell = \big\|5\,\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+ + \boldsymbol{b}^{(2)} - \boldsymbol{y}\big\|^2$ |
#
# Shapes: $\boldsymbol{z}_1,\boldsymbol{z}_2\in\mathbb{R}^h$, $\boldsymbol{z}_3,\hat{\boldsymbol{y}}\in\mathbb{R}^K$, $\ell\in\mathbb{R}$.
# Below, each expression is evaluated literally from the parameters and compared with what the
# `nn.Module` sees (forward hooks on every layer) and with `mlp.py`'s forward cache. PyTorch stores a data
# point as a *row* $(1\times n)$, i.e. $\boldsymbol{x}^\top$, so the module's tensors are the transposes of ours.

# %% tags=["solution"]
torch.manual_seed(1)
x = torch.randn(n, 1)                 # one data point, a column vector
y = torch.randn(K, 1)
W1, b1 = model[0].weight.detach(), model[0].bias.detach().reshape(h, 1)
W2, b2 = model[2].weight.detach(), model[2].bias.detach().reshape(K, 1)

# the table, written with x, y, W1, b1, W2, b2 only
table = {
    "Linear1": (x, W1 @ x + b1),
    "f":       (W1 @ x + b1, 5 * torch.relu(W1 @ x + b1)),
    "Linear2": (5 * torch.relu(W1 @ x + b1), 5 * W2 @ torch.relu(W1 @ x + b1) + b2),
    "g":       (5 * W2 @ torch.relu(W1 @ x + b1) + b2, 5 * W2 @ torch.relu(W1 @ x + b1) + b2),
}
loss_formula = ((5 * W2 @ torch.relu(W1 @ x + b1) + b2 - y) ** 2).sum()

seen = {}
hooks = [m.register_forward_hook(lambda mod, inp, out, i=i: seen.__setitem__(i, (inp[0], out)))
         for i, m in enumerate(model)]
out = model(x.T)
for hook in hooks:
    hook.remove()
for i, (layer, (inp, outp)) in enumerate(table.items()):
    assert cmp(f"{layer} in", inp.T, seen[i][0])
    assert cmp(f"{layer} out", outp.T, seen[i][1])
assert cmp("loss", loss_formula, ((out - y.T) ** 2).sum())

net = mlp.MLP(n, h, "scaled_relu", h, K, "identity")   # the hand-written network, same parameters
net.parameters.update(W1=W1.clone(), b1=b1.flatten().clone(), W2=W2.clone(), b2=b2.flatten().clone())
net.forward(x.T)
for key, layer in [("z1", "Linear1"), ("z2", "f"), ("z3", "Linear2"), ("y_hat", "g")]:
    assert cmp(f"mlp {key}", net.cache[key], table[layer][1].T)

# %% tags=["solution"]
print("values for this data point (column vectors printed as rows):")
for layer, (inp, outp) in table.items():
    show(f"  {layer:<8} in ", inp.T)
    show(f"  {layer:<8} out", outp.T)
show("  loss ℓ", loss_formula)
z1 = W1 @ x + b1
assert (z1 > 0).any() and (z1 < 0).any(), "pick a point with active and inactive hidden units"


def forward_12(x, y, W1, b1, W2, b2):
    """The table's outputs, as a function: the worked answer passed to the exercise's check."""
    z1 = W1 @ x + b1
    z2 = 5 * torch.relu(z1)
    z3 = W2 @ z2 + b2
    return z1, z2, z3, z3, ((z3 - y) ** 2).sum()


exercises.check_forward(forward_12)

# %% [markdown]
# ## 1.2(c) The backward pass in numerator layout
#
# **Exercise.** Write the four gradients $\partial\ell/\partial\boldsymbol{W}^{(1)}$, $\partial\ell/\partial\boldsymbol{b}^{(1)}$,
# $\partial\ell/\partial\boldsymbol{W}^{(2)}$, $\partial\ell/\partial\boldsymbol{b}^{(2)}$ in numerator layout, each as a function whose
# arguments are among the variables the question allows: `x, y, W1, b1, W2, b2, dl_dyhat, dz2_dz1, dyhat_dz3`
# ($\partial\ell/\partial\hat{\boldsymbol{y}}$ is $1\times K$, $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ is $h\times h$,
# $\partial\hat{\boldsymbol{y}}/\partial\boldsymbol{z}_3$ is $K\times K$). Name only the arguments you use; a name the question
# does not allow (such as `z1`) is refused.

# %% tags=["exercise"]
def my_dl_dW1(x, W2, dl_dyhat, dz2_dz1, dyhat_dz3):
    return None


def my_dl_db1(W2, dl_dyhat, dz2_dz1, dyhat_dz3):
    return None


def my_dl_dW2(x, W1, b1, dl_dyhat, dyhat_dz3):
    return None


def my_dl_db2(dl_dyhat, dyhat_dz3):
    return None


exercises.check_gradients(my_dl_dW1, my_dl_db1, my_dl_dW2, my_dl_db2)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_dl_dW1_latex = None        # your LaTeX, e.g. r"\partial \ell / \partial W^{(1)} = \ldots"
exercises.check_gradients(dl_dW1=my_dl_dW1_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_gradients, "dl_dW1")


# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# Write $\boldsymbol{\delta} = \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}$
# ($1\times K$), the derivative of $\ell$ with respect to $\boldsymbol{z}_3$. The chain rule in numerator layout
# multiplies Jacobians **left to right from the loss**:
#
# * $\mathrm{Linear}_2$: $\boldsymbol{z}_3 = \boldsymbol{W}^{(2)}\boldsymbol{z}_2+\boldsymbol{b}^{(2)}$, so
#   $\partial\boldsymbol{z}_3/\partial\boldsymbol{b}^{(2)} = I_K$ and
#   $\partial\ell/\partial W^{(2)}_{ij} = \delta_i\, z_{2,j}$. Collecting the entries $(j,i)$ gives an $h\times K$ matrix,
#   the outer product $\boldsymbol{z}_2\boldsymbol{\delta}$. With $\boldsymbol{z}_2 = 5(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+$:
#
# $$\frac{\partial\ell}{\partial\boldsymbol{b}^{(2)}} = \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\quad(1\times K),
# \qquad
# \frac{\partial\ell}{\partial\boldsymbol{W}^{(2)}} = 5\,(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+\,
# \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\quad(h\times K).$$
#
# * Through $\mathrm{Linear}_2$ and $f$: $\partial\boldsymbol{z}_3/\partial\boldsymbol{z}_2 = \boldsymbol{W}^{(2)}$ ($K\times h$), so
#   $\partial\ell/\partial\boldsymbol{z}_1 = \boldsymbol{\delta}\,\boldsymbol{W}^{(2)}\,\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ ($1\times h$), and the same
#   two rules for $\mathrm{Linear}_1$ (input $\boldsymbol{x}$) give
#
# $$\frac{\partial\ell}{\partial\boldsymbol{b}^{(1)}} = \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}\quad(1\times h),
# \qquad
# \frac{\partial\ell}{\partial\boldsymbol{W}^{(1)}} = \boldsymbol{x}\,\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}\quad(n\times h).$$
#
# Every product is shape-consistent: $(1\times K)(K\times K)(K\times h)(h\times h) = 1\times h$, and
# $(n\times 1)(1\times h) = n\times h$. PyTorch's `.grad` is the transpose:
# `W2.grad` $= (\partial\ell/\partial\boldsymbol{W}^{(2)})^\top$ ($K\times h$), `b2.grad` $= (\partial\ell/\partial\boldsymbol{b}^{(2)})^\top$ flattened.

# %% [markdown] tags=["solution"]
# ##### The shapes, drawn
#
# Forward along the top (each value with its shape, each function with its parameters), backward along the bottom:
# under each function its Jacobian in numerator layout, under each value the row $\partial\ell/\partial(\cdot)$ that arrives there.
# A product of Jacobians is defined only when the inner sizes meet, which is what the walk-through below checks
# product by product.

# %% tags=["solution"]
def shape_diagram():
    fig, ax = plt.subplots(figsize=(16, 5))
    values = [(r"$\boldsymbol{x}$", "n×1", ""), (r"$\boldsymbol{z}_1$", "h×1", "1×h"), (r"$\boldsymbol{z}_2$", "h×1", "1×h"),
              (r"$\boldsymbol{z}_3$", "K×1", "1×K"), (r"$\hat{\boldsymbol{y}}$", "K×1", "1×K"), (r"$\ell$", "1×1", "1×1")]
    functions = [  # name, its parameters, their derivatives' shapes, its Jacobian (numerator layout) and shape
        ("Linear₁", r"$\boldsymbol{W}^{(1)}$: h×n,  $\boldsymbol{b}^{(1)}$: h×1",
         r"$\partial\ell/\partial\boldsymbol{W}^{(1)}$: n×h,  $\partial\ell/\partial\boldsymbol{b}^{(1)}$: 1×h", "", ""),
        ("f = 5·ReLU", "", "", r"$\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$", "h×h, diagonal"),
        ("Linear₂", r"$\boldsymbol{W}^{(2)}$: K×h,  $\boldsymbol{b}^{(2)}$: K×1",
         r"$\partial\ell/\partial\boldsymbol{W}^{(2)}$: h×K,  $\partial\ell/\partial\boldsymbol{b}^{(2)}$: 1×K",
         r"$\partial\boldsymbol{z}_3/\partial\boldsymbol{z}_2 = \boldsymbol{W}^{(2)}$", "K×h"),
        ("g = identity", "", "", r"$\partial\hat{\boldsymbol{y}}/\partial\boldsymbol{z}_3$", "K×K"),
        ("‖ŷ − y‖²", r"target $\boldsymbol{y}$: K×1", "", r"$\partial\ell/\partial\hat{\boldsymbol{y}}$", "1×K")]
    top, bottom, step, radius, half_box = 3.0, 0.7, 3.0, 0.42, 0.75
    for i, (label, shape, grad_shape) in enumerate(values):
        cx = i * step
        ax.add_patch(Circle((cx, top), radius, facecolor="#d9d9d9" if i == 0 else "white", edgecolor="black", lw=1.4))
        ax.text(cx, top, label, ha="center", va="center", fontsize=15)
        ax.text(cx, top - 0.7, shape, ha="center", fontsize=11)
        if grad_shape:
            ax.text(cx, bottom, r"$\partial\ell/\partial$" + label + f"\n{grad_shape}", ha="center", va="center",
                    fontsize=11, color="tab:red")
    arrow = dict(arrowstyle="-|>", mutation_scale=13, shrinkA=0, shrinkB=0)
    for i, (name, params, param_grads, jac, jac_shape) in enumerate(functions):
        cx = i * step + step / 2
        ax.add_patch(FancyBboxPatch((cx - half_box, top - 0.28), 2 * half_box, 0.56, boxstyle="round,pad=0.05",
                                    facecolor="#fff2cc", edgecolor="black", lw=1.2))
        ax.text(cx, top, name, ha="center", va="center", fontsize=10)
        ax.text(cx, top + 0.62, params, ha="center", fontsize=9.5)
        ax.text(cx, top + 1.02, param_grads, ha="center", fontsize=9.5, color="tab:red")
        ax.add_patch(FancyArrowPatch((cx - step / 2 + radius, top), (cx - half_box - 0.05, top), color="black", **arrow))
        ax.add_patch(FancyArrowPatch((cx + half_box + 0.05, top), (cx + step / 2 - radius, top), color="black", **arrow))
        if jac:
            ax.text(cx, bottom, f"{jac}\n{jac_shape}", ha="center", va="center", fontsize=10, color="tab:red")
            ax.add_patch(FancyArrowPatch((cx + step / 2 - 0.35, bottom + 0.75), (cx - step / 2 + 0.35, bottom + 0.75),
                                         color="tab:red", **arrow))
    ax.text(-0.9, top, "forward", ha="right", va="center", fontsize=12)
    ax.text(-0.9, bottom, "backward\n(numerator layout)", ha="right", va="center", fontsize=12, color="tab:red")
    ax.set(xlim=(-3.2, 5 * step + 0.6), ylim=(-0.1, 4.4), aspect="equal",
           title="Question 1.2: every value, parameter and Jacobian with its shape (n inputs, h hidden units, K outputs)")
    ax.axis("off")
    return fig


fig = shape_diagram()
save_figure(fig, "shapes_1_2c")
plt.show()

# %% tags=["solution"]
# the three Jacobians the answer may use (their elements are question 1.2(d))
z1 = W1 @ x + b1
y_hat = 5 * W2 @ torch.relu(W1 @ x + b1) + b2
dl_dyhat = 2 * (y_hat - y).T                                # 1×K
dyhat_dz3 = torch.eye(K)                                   # K×K
dz2_dz1 = torch.diag(5.0 * (z1.flatten() > 0))             # h×h

# the four gradients, numerator layout, only allowed symbols
dl_db2 = dl_dyhat @ dyhat_dz3
dl_dW2 = 5 * torch.relu(W1 @ x + b1) @ (dl_dyhat @ dyhat_dz3)
dl_db1 = dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1
dl_dW1 = x @ (dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1)
ours = {"W1": dl_dW1, "b1": dl_db1, "W2": dl_dW2, "b2": dl_db2}
expected_shapes = {"W1": (n, h), "b1": (1, h), "W2": (h, K), "b2": (1, K)}
for name, g in ours.items():
    assert tuple(g.shape) == expected_shapes[name], (name, tuple(g.shape))
    print(f"dl/d{name}: numerator-layout shape {tuple(g.shape)}")

# autograd on the module (a single data point, the homework's sum-of-squares loss)
model.zero_grad()
((model(x.T) - y.T) ** 2).sum().backward()
params = dict(zip(names, model.parameters()))
for name, g in ours.items():
    grad = params[name].grad
    # .grad has the parameter's shape: it is the TRANSPOSE of the numerator-layout derivative
    assert cmp(f"dl/d{name}ᵀ", g.T.reshape(grad.shape), grad)

# the same four formulas as functions of the allowed variables, for the exercise's check
exercises.check_gradients(dl_dW1=lambda x, W2, dl_dyhat, dz2_dz1, dyhat_dz3: x @ (dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1),
    dl_db1=lambda W2, dl_dyhat, dz2_dz1, dyhat_dz3: dl_dyhat @ dyhat_dz3 @ W2 @ dz2_dz1,
    dl_dW2=lambda x, W1, b1, dl_dyhat, dyhat_dz3: 5 * torch.relu(W1 @ x + b1) @ (dl_dyhat @ dyhat_dz3),
    dl_db2=lambda dl_dyhat, dyhat_dz3: dl_dyhat @ dyhat_dz3)

# the same answer for ∂ℓ/∂W⁽¹⁾ as it would be written in theory.tex: the check reads the LaTeX and says how
exercises.check_gradients(dl_dW1=r"\frac{\partial \ell}{\partial \boldsymbol{W}^{(1)}} = \boldsymbol{x}\,"
                                 r"\frac{\partial \ell}{\partial \hat{\boldsymbol{y}}}\frac{\partial \hat{\boldsymbol{y}}}{\partial \boldsymbol{z}_3}"
                                 r"\boldsymbol{W}^{(2)}\frac{\partial \boldsymbol{z}_2}{\partial \boldsymbol{z}_1}")

# %% tags=["solution"]
# 1.2(c) with this data point's numbers (n = 3, h = 4, K = 2): each product, the shapes of its factors under it
def product(label, *factors):
    """Multiply the factors left to right; print the formula, the factors' shapes and the value."""
    value = factors[0]
    for factor in factors[1:]:
        value = value @ factor
    shapes = "  ·  ".join("×".join(map(str, f.shape)) for f in factors)
    print(f"{label}\n    shapes: {shapes}  =  {'×'.join(map(str, value.shape))}")
    show("    value", value)
    return value


z2_col = 5 * torch.relu(W1 @ x + b1)                                           # h×1, a column
walk = {}
delta_walk = product("δ = ∂ℓ/∂ŷ · ∂ŷ/∂z₃", dl_dyhat, dyhat_dz3)
walk["b2"] = product("∂ℓ/∂b⁽²⁾ = δ", delta_walk)
walk["W2"] = product("∂ℓ/∂W⁽²⁾ = z₂ · δ", z2_col, delta_walk)
walk["b1"] = product("∂ℓ/∂b⁽¹⁾ = δ · W⁽²⁾ · ∂z₂/∂z₁", delta_walk, W2, dz2_dz1)
walk["W1"] = product("∂ℓ/∂W⁽¹⁾ = x · ∂ℓ/∂b⁽¹⁾", x, walk["b1"])
for name, value in walk.items():
    assert torch.equal(value, ours[name]), name

# %% [markdown] tags=["solution"]
# The transpose is not optional: compared *without* it, the shapes disagree ($h\times K$ against $K\times h$) and
# the check says so. And `mlp.py`, which stores gradients in `.grad`'s layout for a *mean* loss, agrees once the
# factor $K$ is put back: `mlp.mse_loss` returns $J = \ell/K$ and $\partial J/\partial\hat{\boldsymbol{y}} = (\partial\ell/\partial\hat{\boldsymbol{y}})/K$.
# (No transpose: for one data point `mlp.py`'s `dJdy_hat` has $\hat{\boldsymbol{y}}$'s batch shape $1\times K$, a row, and so has
# $\partial\ell/\partial\hat{\boldsymbol{y}}$ in numerator layout.)

# %% tags=["solution"]
v = cmp("no transpose", dl_dW2, params["W2"].grad)
assert not v, "a K×h .grad must not pass as an h×K numerator-layout derivative"

J, dJdy_hat = mlp.mse_loss(y.T, y_hat.T)                   # target first (course API)
assert cmp("K·J = ℓ", K * J, ((y_hat - y) ** 2).sum())
assert cmp("K·dJ/dŷ", K * dJdy_hat, dl_dyhat)
net.clear_grad_and_cache()
net.forward(x.T)
net.backward(K * dJdy_hat)                                 # the gradient of the sum-of-squares loss
for name, g in ours.items():
    ref = net.grads[f"dJd{name}"]
    assert cmp(f"mlp dJd{name}", g.T.reshape(ref.shape), ref)


# %% [markdown]
# ## 1.2(d) The elements of $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$, $\partial\hat{\boldsymbol{y}}/\partial\boldsymbol{z}_3$ and $\partial\ell/\partial\hat{\boldsymbol{y}}$
#
# **Exercise.** Write the three Jacobians as functions: `dz2_dz1(z1)` ($h\times h$), `dyhat_dz3(z3)` ($K\times K$) and
# `dl_dyhat(y_hat, y)` ($1\times K$); `z1`, `z3`, `y_hat`, `y` are column vectors.

# %% tags=["exercise"]
def my_dz2_dz1(z1):
    return None


def my_dyhat_dz3(z3):
    return None


def my_dl_dyhat(y_hat, y):
    return None


exercises.check_jacobians(my_dz2_dz1, my_dyhat_dz3, my_dl_dyhat)

# %% tags=["exercise"]
# The same check reads LaTeX, as you would write it in theory.tex: with or without the left-hand side,
# $…$, $$…$$ or an equation environment. Its verdict says how it read your formula.
my_dl_dyhat_latex = None        # your LaTeX, e.g. r"\partial \ell / \partial \hat{y} = \ldots"
exercises.check_jacobians(dl_dyhat=my_dl_dyhat_latex)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output (cell tag): a live widget (its view id changes on every run).
# Or type it here: the box shows your LaTeX as you type, and Check gives the verdict.
latex_box(exercises.check_jacobians, "dl_dyhat")

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# $f$ acts element by element, so $z_{2,i}$ depends on $z_{1,i}$ only and the Jacobian is diagonal. The slope of
# $5\,\mathrm{ReLU}$ is **5** where the unit is active (not 1):
#
# $$\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1} = \mathrm{diag}\big(5\cdot\mathbb{1}[z_{1,1}>0],\ \dots,\ 5\cdot\mathbb{1}[z_{1,h}>0]\big)\in\mathbb{R}^{h\times h},
# \qquad \left(\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}\right)_{ij} = \begin{cases}5 & i=j,\ z_{1,i}>0\\ 0 & \text{otherwise}\end{cases}$$
#
# (at $z_{1,i}=0$ we take 0, as PyTorch does),
#
# $$\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3} = I_K\in\mathbb{R}^{K\times K},
# \qquad
# \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}} = 2(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top
# = \big[2(\hat y_1-y_1),\ \dots,\ 2(\hat y_K-y_K)\big]\in\mathbb{R}^{1\times K}.$$
#
# `torch.autograd.functional.jacobian` of a function from $\mathbb{R}^p$ to $\mathbb{R}^m$ returns the $m\times p$ matrix
# with rows = outputs — numerator layout. For a scalar output it returns the input's shape $(K,)$, which we
# read as the $1\times K$ row.

# %% tags=["solution"]
z3 = y_hat                                                  # g = identity
J_f = jacobian(lambda z: 5 * torch.relu(z), z1.flatten())
J_g = jacobian(lambda z: z, z3.flatten())
J_l = jacobian(lambda yh: ((yh - y.flatten()) ** 2).sum(), y_hat.flatten()).reshape(1, K)

assert cmp("dz2/dz1", dz2_dz1, J_f)
assert cmp("dŷ/dz3", dyhat_dz3, J_g)
assert cmp("dl/dŷ", dl_dyhat, J_l)
assert set(torch.diagonal(dz2_dz1).tolist()) == {0.0, 5.0}, "diagonal entries must be 0 or 5"
show("dz2/dz1", dz2_dz1, 1)
show("dŷ/dz3", dyhat_dz3, 1)
show("dl/dŷ", dl_dyhat)

exercises.check_jacobians(dz2_dz1=lambda z1: torch.diag(5.0 * (z1.flatten() > 0)),
                          dyhat_dz3=lambda z3: torch.eye(z3.shape[0]),
                          dl_dyhat=lambda y_hat, y: 2 * (y_hat - y).T)

# %% [markdown] tags=["solution"]
# **Summary.** Forward: $\boldsymbol{z}_1\in\mathbb{R}^h$, $\boldsymbol{z}_2 = 5\boldsymbol{z}_1^+$, $\hat{\boldsymbol{y}} = \boldsymbol{z}_3\in\mathbb{R}^K$.
# Backward (numerator layout): $\partial\ell/\partial\boldsymbol{W}^{(2)}$ is $h\times K$, $\partial\ell/\partial\boldsymbol{W}^{(1)}$ is $n\times h$,
# bias derivatives are rows; `.grad` is their transpose. Notebook 02 changes $f$, $g$ and the loss;
# notebook 05 shows what the checks above print when one of these formulas is written wrong.

# %% [markdown]
# ## After 1.2: a second, independent check — centred finite differences, and ReLU's kink
#
# Autograd is one reference; the forward pass alone gives another. For each parameter entry $\theta_i$,
# $\big(\ell(\theta+\varepsilon\boldsymbol{e}_i)-\ell(\theta-\varepsilon\boldsymbol{e}_i)\big)/2\varepsilon$ equals $\partial\ell/\partial\theta_i$ up to $O(\varepsilon^2)$: the centred difference
# cancels the $\varepsilon$ term of the Taylor series, which a one-sided difference keeps. We compare each parameter's
# gradient by its relative error $\|a-b\|/\max(\|a\|,\|b\|)$: about $10^{-8}$ or below when the two agree, about 1 when a
# gradient is wrong. The data point is drawn so that no hidden pre-activation lies within $\varepsilon$ of 0.

# %%
torch.manual_seed(2)                 # parameters of their own: this check reads nothing from the worked answers
fd_model = nn.Sequential(nn.Linear(n, h), FiveReLU(), nn.Linear(h, K))
gen = torch.Generator().manual_seed(2)
x_fd, y_fd = torch.randn(n, generator=gen), torch.randn(K, generator=gen)
theta = [p.detach().clone() for p in fd_model.parameters()]       # W1, b1, W2, b2 in nn.Linear's shapes
param_names = ["W1", "b1", "W2", "b2"]


def loss_at(W1, b1, W2, b2):
    """ℓ = ‖ŷ − y‖² for the point (x_fd, y_fd), with f = 5·ReLU and g = identity."""
    return ((W2 @ (5 * torch.relu(W1 @ x_fd + b1)) + b2 - y_fd) ** 2).sum()


def rel_error(a, b):
    """‖a - b‖ / max(‖a‖, ‖b‖), 0 when both are 0."""
    scale = max(a.norm().item(), b.norm().item())
    return (a - b).norm().item() / scale if scale > 0 else 0.0


assert (theta[0] @ x_fd + theta[1]).abs().min() > 1e-3, "no pre-activation near ReLU's kink"
errors = {name: rel_error(a, c) for name, a, c in
          zip(param_names, autograd_grad(loss_at, *theta), numerical_grad(loss_at, *theta, eps=1e-6))}
print("relative error, centred differences (ε = 1e-6) vs autograd: "
      + ", ".join(f"{name} {fmt_err(e)}" for name, e in errors.items()))
assert max(errors.values()) < 1e-7

# %% [markdown]
# **At the kink.** $5\,\mathrm{ReLU}$ has no derivative at 0: its slope is 0 on the left and 5 on the right, and PyTorch
# (like `mlp.py`) uses 0 there. Move $b^{(1)}_1$ so that hidden unit 1's pre-activation $z_{1,1}$ sits exactly at the kink,
# then just beside it. Whenever $|z_{1,1}| < \varepsilon$ the centred difference straddles the kink: exactly at it, it returns
# the average of the left and right derivatives (half the active-side value), which is neither; just beside it, a
# mixture of the two. The relative error is then of order 1 although autograd is right. Once $|z_{1,1}|$ exceeds $\varepsilon$, they agree again. A gradient check must therefore use points away from kinks
# (random points almost never land within $\varepsilon$ of one) or skip the entries whose pre-activation is within $\varepsilon$ of 0.

# %%
W1_t, b1_t, W2_t, b2_t = theta
eps = 1e-6
print(f"{'z₁,₁ (unit 1 pre-activation)':<30}{'autograd ∂ℓ/∂b⁽¹⁾₁':>20}{'centred difference':>20}{'relative error':>16}")
kink_errors = {}
for z_target in [0.0, 0.3 * eps, 10 * eps]:
    b1_kink = b1_t.clone()
    b1_kink[0] = z_target - W1_t[0] @ x_fd                        # so that z₁,₁ = W1[0]·x + b1[0] = z_target
    auto = autograd_grad(loss_at, W1_t, b1_kink, W2_t, b2_t)[1][0]
    shift = torch.zeros_like(b1_kink)
    shift[0] = eps
    centred = (loss_at(W1_t, b1_kink + shift, W2_t, b2_t) - loss_at(W1_t, b1_kink - shift, W2_t, b2_t)) / (2 * eps)
    kink_errors[z_target] = rel_error(auto.reshape(1), centred.reshape(1))
    if z_target == 0:
        at_kink = centred.item()
    elif z_target < eps:
        beside = centred.item()
    else:
        active = auto.item()                                           # the active side's slope
    label = "0 (at the kink)" if z_target == 0 else f"{z_target:.0e} ({'within' if z_target < eps else 'beyond'} ε)"
    error = kink_errors[z_target]
    print(f"{label:<30}{auto.item():>20.4f}{centred.item():>20.4f}{f'{error:.2f}' if error >= 0.01 else fmt_err(error):>16}")
assert kink_errors[0.0] > 0.5 and kink_errors[0.3 * eps] > 0.1, "straddling the kink, the difference quotient is off"
assert abs(at_kink - active / 2) < 1e-3 * abs(active), "at the kink: the average of 0 and the active-side slope"
assert active / 2 < beside < active, "just beside it: a mixture of the two"
assert kink_errors[10 * eps] < 1e-4, "beyond ε from the kink, the two agree again"
