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
# # 06 · mlp.py from scratch
#
# Part 2.1 of the homework asks for the forward and backward pass of **Linear, ReLU, Sigmoid, MSE and
# BCE** in `mlp.py`, without autograd. This notebook takes them one at a time: for each piece you write the
# function in an exercise cell, and a check compares it with PyTorch's autograd. At the end, one cell checks your
# whole `mlp.py` through the course's API.
#
# The network of the homework:
#
# $$x \xrightarrow{\ \text{Linear}_1\ } z_1 \xrightarrow{\ f\ } z_2 \xrightarrow{\ \text{Linear}_2\ } z_3 \xrightarrow{\ g\ } \hat y, \qquad J = \ell(y, \hat y)$$
#
# **Exercises first.** Each layer starts with an exercise cell: write the function (forward or backward,
# PyTorch's layout, no autograd) in place of the `None` placeholder and run the cell. `lab.exercises`
# runs it on random batches of three different sizes, compares it with autograd and prints one line: `not
# answered yet`, `correct`, `wrong: <the mistake, named> — <a hint>`, or the shape it expected. Near the end,
# one cell checks your whole `mlp.py` (the course's API: `MLP`, `mse_loss`, `bce_loss`). Where a worked answer
# follows (the student edition has none), it sits under a folded heading **Worked answer**: open it after you
# have tried.

# %%
import copy, importlib.util, inspect

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import mlp
from lab import exercises
from lab.gradcheck import autograd_grad, check_mlp, cmp, torch_activation
from lab.figures import save_figure

torch.manual_seed(0)
np.random.seed(0)

# %% [markdown]
# ## Shapes: PyTorch's layout, not the blackboard's
#
# On paper (part 1 of the homework) a data point is a column vector and $\text{Linear}(x) = Wx + b$.
# In code a **batch** is a matrix with one example per **row**: `x` has shape `(N, in)`, the weight
# `W` has shape `(out, in)` (as in `nn.Linear`), and the layer computes
#
# $$Z = X W^\top + \mathbf 1 b^\top \qquad X: (N, \text{in}),\; W: (\text{out}, \text{in}),\; Z: (N, \text{out}).$$
#
# Every gradient is stored with the shape of the thing it is the gradient of (`dJdW` has the shape of
# `W`), which is the layout of PyTorch's `.grad`. The homework's hint — "it is not necessarily the math
# you got from part 1" — is exactly this transpose.

# %% [markdown]
# ## Linear
#
# **Exercise.** `linear(x, W, b)` with `x` $(N, \text{in})$, `W` $(\text{out}, \text{in})$, `b` $(\text{out})$ returns
# $Z$ $(N, \text{out})$. `linear_backward(dJdz, x, W)` gets $G = \partial J/\partial Z$ and returns the three gradients
# `(dJdx, dJdW, dJdb)`, each with the shape of the tensor it is the gradient of.

# %% tags=["exercise"]
def my_linear(x, W, b):
    return None


exercises.check_linear(my_linear)

# %% tags=["exercise"]
def my_linear_backward(dJdz, x, W):
    return None       # three gradients: dJdx, dJdW and dJdb


exercises.check_linear_backward(my_linear_backward)

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# The worked answers of this notebook read the project's own `mlp.py` piece by piece — every function shown is
# printed from the file with `inspect.getsource`, so there is exactly one copy of the code — and check each piece
# against autograd with `lab.gradcheck.cmp`, one line per tensor. After the last exercise they train two small
# networks with nothing but `mlp.py`'s gradients, and break `mlp.py` on purpose, the way learners do, to show that
# the checks catch each of those bugs.
#
# Backward gets $G = \partial J/\partial Z$ of shape $(N, \text{out})$ and returns three gradients:
#
# $$\frac{\partial J}{\partial X} = G\,W \;(N, \text{in}), \qquad
# \frac{\partial J}{\partial W} = G^\top X \;(\text{out}, \text{in}), \qquad
# \frac{\partial J}{\partial b} = \textstyle\sum_{n} G_{n,:} \;(\text{out}).$$
#
# The bias is added to every row, so its gradient sums over the batch. Here is the code as it stands
# in `mlp.py`:

# %% tags=["solution"]
# NBVAL_IGNORE_OUTPUT — prints mlp.py as it is now; the checks below test what it computes
print(inspect.getsource(mlp.linear))
print(inspect.getsource(mlp.linear_backward))

# %% [markdown] tags=["solution"]
# To check a layer on its own we need a scalar to differentiate. Any upstream gradient $G$ can be
# produced by the scalar $J = \sum_{n,k} Z_{nk} G_{nk}$ (its gradient with respect to $Z$ is exactly
# $G$), so autograd on that $J$ gives the reference for each of the three outputs.

# %% tags=["solution"]
N, n_in, n_out = 5, 3, 4
gen = torch.Generator().manual_seed(1)
x = torch.randn(N, n_in, generator=gen, dtype=torch.float64)
W = torch.randn(n_out, n_in, generator=gen, dtype=torch.float64)
b = torch.randn(n_out, generator=gen, dtype=torch.float64)
G = torch.randn(N, n_out, generator=gen, dtype=torch.float64)   # a stand-in for dJ/dZ

z = mlp.linear(x, W, b)
dJdx, dJdW, dJdb = mlp.linear_backward(G, x, W)
print(f"x {tuple(x.shape)}  W {tuple(W.shape)}  b {tuple(b.shape)}  ->  z {tuple(z.shape)}")
print(f"dJdx {tuple(dJdx.shape)}  dJdW {tuple(dJdW.shape)}  dJdb {tuple(dJdb.shape)}")

ref_x, ref_W, ref_b = autograd_grad(lambda x, W, b: (F.linear(x, W, b) * G).sum(), x, W, b)
verdicts = [cmp("z", z, F.linear(x, W, b)), cmp("dJdx", dJdx, ref_x), cmp("dJdW", dJdW, ref_W), cmp("dJdb", dJdb, ref_b)]
assert all(verdicts)

exercises.check_linear(mlp.linear)
exercises.check_linear_backward(mlp.linear_backward)

# %% [markdown]
# ## ReLU and sigmoid (and the other activations)
#
# **Exercise.** `relu(z)` and `sigmoid(z)` act element-wise; their backward functions get `dJda` $= \partial J/\partial a$,
# the input `z` and the output `a` of the forward pass, and return $\partial J/\partial z$ (the shape of `z`).

# %% tags=["exercise"]
def my_relu(z):
    return None


exercises.check_relu(my_relu)

# %% tags=["exercise"]
def my_relu_backward(dJda, z, a):
    return None


exercises.check_relu_backward(my_relu_backward)

# %% tags=["exercise"]
def my_sigmoid(z):
    return None


exercises.check_sigmoid(my_sigmoid)

# %% tags=["exercise"]
def my_sigmoid_backward(dJda, z, a):
    return None


exercises.check_sigmoid_backward(my_sigmoid_backward)

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# An element-wise activation $a = \varphi(z)$ has a diagonal Jacobian, so its backward is an
# element-wise product: $\partial J/\partial z = \partial J/\partial a \odot \varphi'(z)$.
#
# * ReLU: $\varphi'(z) = 1$ where $z > 0$, else $0$ (PyTorch also uses $0$ at $z = 0$).
# * Sigmoid: $\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = a\,(1 - a)$ — the derivative can be computed from
#   the **output** $a$ that forward already produced. Note: from $a$ as $a(1-a)$, *not* as
#   $\sigma(a)(1-\sigma(a))$; that second form is one of the bugs at the end of this notebook.
#
# Each backward in `mlp.py` receives `(dJda, z, a)` and uses whichever is cheaper:

# %% tags=["solution"]
# NBVAL_IGNORE_OUTPUT — prints mlp.py as it is now; the checks below test what it computes
for name in ["relu", "relu_backward", "sigmoid", "sigmoid_backward"]:
    print(inspect.getsource(getattr(mlp, name)))

# %% tags=["solution"]
z = torch.randn(N, n_out, generator=gen, dtype=torch.float64) * 3
dJda = torch.randn(N, n_out, generator=gen, dtype=torch.float64)
ok = []
for name, (phi, phi_backward) in mlp.ACTIVATIONS.items():
    if name == "5relu":          # an alias of scaled_relu
        continue
    a = phi(z)
    ours = phi_backward(dJda, z, a)
    torch_phi = torch_activation(name)   # PyTorch's own version of the same activation
    (ref,) = autograd_grad(lambda t: (torch_phi(t) * dJda).sum(), z)
    ok.append(cmp(f"{name}'", ours, ref))
assert all(ok) and len(ok) == 8

for name in ["relu", "relu_backward", "sigmoid", "sigmoid_backward"]:
    getattr(exercises, f"check_{name}")(getattr(mlp, name))

# %% [markdown]
# ## MSE and BCE
#
# **Exercise.** `mse_loss(y, y_hat)` and `bce_loss(y, y_hat)` — target first, as in the course's API — return
# `(J, dJdy_hat)`: the loss, the **mean over every element** like `nn.MSELoss()` and `nn.BCELoss()`, and its
# gradient with respect to `y_hat` (the shape of `y_hat`).

# %% tags=["exercise"]
def my_mse_loss(y, y_hat):
    return None       # two things: the loss J and dJdy_hat


exercises.check_mse_loss(my_mse_loss)

# %% tags=["exercise"]
def my_bce_loss(y, y_hat):
    return None       # two things: the loss J and dJdy_hat


exercises.check_bce_loss(my_bce_loss)

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# Both losses are the **mean over every element** of $\hat y$ (shape $(N, K)$, $M = NK$ elements), like
# `nn.MSELoss()` and `nn.BCELoss()` with their default `reduction='mean'`. Note the argument order of
# the course's API: `mse_loss(y, y_hat)`, target first.
#
# $$J_\text{MSE} = \frac1M\sum_{i}(\hat y_i - y_i)^2, \qquad \frac{\partial J_\text{MSE}}{\partial \hat y_i} = \frac{2(\hat y_i - y_i)}{M}$$
#
# $$J_\text{BCE} = -\frac1M\sum_i \big[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\big], \qquad
# \frac{\partial J_\text{BCE}}{\partial \hat y_i} = \frac{\hat y_i - y_i}{M\,\hat y_i(1-\hat y_i)}$$
#
# (differentiate the two log terms and put them over the common denominator $\hat y_i(1-\hat y_i)$).
#
# The $1/M$ is part of the gradient because it is part of $J$. `nn.BCELoss` clamps each log at $-100$
# so that $J$ stays finite when a sigmoid saturates to exactly 0 or 1; `mlp.py` does the same.

# %% tags=["solution"]
# NBVAL_IGNORE_OUTPUT — prints mlp.py as it is now; the checks below test what it computes
print(inspect.getsource(mlp.mse_loss))
print(inspect.getsource(mlp.bce_loss))

# %% tags=["solution"]
y = torch.rand(N, 2, generator=gen, dtype=torch.float64)
y_hat = torch.rand(N, 2, generator=gen, dtype=torch.float64) * 0.98 + 0.01
ok = []
for name, ours_fn, ref_fn in [("MSE", mlp.mse_loss, F.mse_loss), ("BCE", mlp.bce_loss, F.binary_cross_entropy)]:
    J, dJdy_hat = ours_fn(y, y_hat)                       # target first
    (ref_grad,) = autograd_grad(lambda p: ref_fn(p, y), y_hat)   # PyTorch: prediction first
    ok += [cmp(f"{name} J", J, ref_fn(y_hat, y)), cmp(f"{name} dJdŷ", dJdy_hat, ref_grad)]

# saturated predictions: ŷ exactly 0 or 1, the case nn.BCELoss handles with its −100 clamp
y_sat = torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
p_sat = torch.tensor([[0.0, 1.0, 1.0, 0.0]], dtype=torch.float64)
J_sat, _ = mlp.bce_loss(y_sat, p_sat)
ok.append(cmp("BCE J sat.", J_sat, F.binary_cross_entropy(p_sat, y_sat)))
print(f"BCE with two confidently wrong saturated predictions: J = {J_sat.item():.1f} (finite)")
assert all(ok)

exercises.check_mse_loss(mlp.mse_loss)
exercises.check_bce_loss(mlp.bce_loss)

# %% [markdown]
# ## Your whole mlp.py
#
# **Exercise.** Put your functions into `mlp.py` (the course's API: `MLP`, `mse_loss`, `bce_loss`; in the student
# edition, the file beside this notebook) and restart the kernel. This cell builds your `MLP` for a few choices of
# $f$, $g$ and the loss, runs forward, the loss and backward on a random batch, and compares $\hat y$, $J$, `dJdy_hat`
# and the four gradients with autograd. While your file still raises `NotImplementedError` it says `not answered
# yet`.

# %% tags=["exercise"]
exercises.check_network(mlp)

# %% [markdown] jp-MarkdownHeadingCollapsed=true tags=["solution"]
# #### Worked answer (open it after you have tried)

# %% [markdown] tags=["solution"]
# ##### The gradient-check table
#
# Now the whole network, `mlp.MLP`, for every activation as $f$, several $g$, and both losses (BCE only
# with a sigmoid output: it needs $\hat y \in [0, 1]$). `lab.gradcheck.check_mlp` runs forward,
# the loss, and backward, then compares $J$ and the four parameter gradients with
#
# * **autograd** on the same parameters, and
# * **central finite differences** in float64, $(J(\theta+\varepsilon) - J(\theta-\varepsilon))/2\varepsilon$
#   for every single parameter — a reference that uses nothing but the forward pass.
#
# One net printed in full first, then the table (one row per net; each row summarises 5 autograd and
# 4 finite-difference comparisons).

# %% tags=["solution"]
torch.manual_seed(0)
x = torch.randn(6, 3, dtype=torch.float64)
y = torch.rand(6, 2, dtype=torch.float64)
net = mlp.MLP(3, 4, "relu", 4, 2, "sigmoid")
net.parameters = {k: v.double() for k, v in net.parameters.items()}
assert check_mlp(net, x, y, "bce", finite_differences=True)

# %% tags=["solution"]
import contextlib, io

activations = [n for n in mlp.ACTIVATIONS if n != "5relu"]
rows = [(f, g, "mse") for f in activations for g in ["identity", "sigmoid", "tanh", "relu"]]
rows += [(f, "sigmoid", "bce") for f in activations]

torch.manual_seed(0)
print(f"{'f':<12} {'g':<9} {'loss':<5} {'autograd':<9} finite diff.")
all_ok = []
for f, g, loss in rows:
    net = mlp.MLP(3, 4, f, 4, 2, g)
    net.parameters = {k: v.double() for k, v in net.parameters.items()}
    x = torch.randn(6, 3, dtype=torch.float64)
    y = torch.rand(6, 2, dtype=torch.float64)
    ag = check_mlp(net, x, y, loss, verbose=False)
    with contextlib.redirect_stdout(io.StringIO()) as lines:
        both = check_mlp(net, x, y, loss, finite_differences=True)
    fd = all(" ok " in line for line in lines.getvalue().splitlines()[5:])
    all_ok.append(ag and both and fd)
    print(f"{f:<12} {g:<9} {loss:<5} {'ok' if ag else 'MISMATCH':<9} {'ok' if fd else 'MISMATCH'}")
print(f"{sum(all_ok)} of {len(rows)} networks pass both checks")
assert all(all_ok)


# %% [markdown] tags=["solution"]
# ##### Training with mlp.py's own gradients
#
# A training step of the homework's question 1.2(a), written out by hand: forward, loss, zero the
# gradients, backward, and the SGD update $\theta \leftarrow \theta - \eta\,\partial J/\partial\theta$:

# %% tags=["solution"]
def sgd_step(net, x, y, loss_fn, lr):
    """One full-batch step of plain gradient descent using only mlp.py; returns J before the step."""
    net.clear_grad_and_cache()
    y_hat = net.forward(x)
    J, dJdy_hat = loss_fn(y, y_hat)
    net.backward(dJdy_hat)
    for name, p in net.parameters.items():
        p -= lr * net.grads[f"dJd{name}"]      # in place: net.parameters keeps the same tensors
    return J.item()


def make_net(n_in, hidden, f, n_out, g, seed):
    """mlp.MLP in float64, with the torch.randn initialization scaled by 1/sqrt(fan_in).

    Plain randn weights (std 1) make the outputs of a 32-unit layer ~6x too large; the scaling is the
    usual LeCun-style fix and is done from outside, by swapping the parameter tensors."""
    torch.manual_seed(seed)
    net = mlp.MLP(n_in, hidden, f, hidden, n_out, g)
    p = net.parameters
    net.parameters = dict(W1=p["W1"].double() / n_in ** 0.5, b1=p["b1"].double() * 0.5,
                          W2=p["W2"].double() / hidden ** 0.5, b2=p["b2"].double() * 0.0)
    net.clear_grad_and_cache()
    return net


# %% [markdown] tags=["solution"]
# Before trusting the loop, compare it with PyTorch's own training: the same weights copied into an
# `nn.Sequential`, trained with `torch.optim.SGD` and autograd for 50 steps. The parameters must stay
# equal step after step.

# %% tags=["solution"]
torch.manual_seed(3)
xs = torch.linspace(-3, 3, 64, dtype=torch.float64)[:, None]
ys = torch.sin(2 * xs)

net = make_net(1, 16, "tanh", 1, "identity", seed=3)
ref = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
with torch.no_grad():
    for layer, w, b in [(ref[0], "W1", "b1"), (ref[2], "W2", "b2")]:
        layer.weight.copy_(net.parameters[w]); layer.bias.copy_(net.parameters[b])
opt = torch.optim.SGD(ref.parameters(), lr=0.1)
for step in range(50):
    sgd_step(net, xs, ys, mlp.mse_loss, lr=0.1)
    opt.zero_grad(); F.mse_loss(ref(xs), ys).backward(); opt.step()
ok = [cmp(n, net.parameters[n], t) for n, t in
      [("W1", ref[0].weight), ("b1", ref[0].bias), ("W2", ref[2].weight), ("b2", ref[2].bias)]]
assert all(ok)

# %% [markdown] tags=["solution"]
# ##### Regression: fit a 1-D curve
#
# $f = \tanh$, $g$ = identity, MSE, 32 hidden units, 64 noisy samples of $y = \sin(2x) + 0.3x$ on
# $[-3, 3]$, learning rate 0.05 (at 0.1 this net diverges: the loss passes 1e40 within 50 steps and overflows to inf within a few
# hundred steps — the learning rate is part of the algorithm).

# %% tags=["solution"]
gen = torch.Generator().manual_seed(0)
x_reg = torch.linspace(-3, 3, 64, dtype=torch.float64)[:, None]
y_reg = torch.sin(2 * x_reg) + 0.3 * x_reg + 0.1 * torch.randn(x_reg.shape, generator=gen, dtype=torch.float64)

reg = make_net(1, 32, "tanh", 1, "identity", seed=0)
reg_losses = [sgd_step(reg, x_reg, y_reg, mlp.mse_loss, lr=0.05) for step in range(4000)]
print(f"MSE: start {reg_losses[0]:.3f}, after 100 steps {reg_losses[100]:.3f}, after 4000 steps {reg_losses[-1]:.4f}")
assert reg_losses[-1] < 0.05 < reg_losses[0]   # the noise alone costs 0.01

# %% [markdown] tags=["solution"]
# ##### Classification: two moons
#
# $f$ = ReLU, $g$ = sigmoid, BCE, 16 hidden units, 300 points of `sklearn.datasets.make_moons`
# (noise 0.2, seeded), inputs standardized.

# %% tags=["solution"]
from sklearn.datasets import make_moons

X_np, Y_np = make_moons(n_samples=300, noise=0.2, random_state=0)
X_np = (X_np - X_np.mean(0)) / X_np.std(0)
x_cls = torch.tensor(X_np, dtype=torch.float64)
y_cls = torch.tensor(Y_np, dtype=torch.float64)[:, None]

clf = make_net(2, 16, "relu", 1, "sigmoid", seed=0)
clf_losses = [sgd_step(clf, x_cls, y_cls, mlp.bce_loss, lr=1.0) for step in range(3000)]
accuracy = ((clf.forward(x_cls) > 0.5).double() == y_cls).double().mean().item()
print(f"BCE: start {clf_losses[0]:.3f}, after 3000 steps {clf_losses[-1]:.3f}; training accuracy {accuracy:.1%}")
assert accuracy > 0.95

# %% tags=["solution"]
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
ax = axes[0]
ax.semilogy(reg_losses, label="regression (MSE)")
ax.semilogy(clf_losses, label="two moons (BCE)")
ax.set(title="Training loss, plain SGD with mlp.py's gradients", xlabel="step", ylabel="loss J (log scale)")
ax.legend()

ax = axes[1]
x_fine = torch.linspace(-3.5, 3.5, 300, dtype=torch.float64)[:, None]
ax.plot(x_reg[:, 0], y_reg[:, 0], ".", color="gray", label="training data")
ax.plot(x_fine[:, 0], reg.forward(x_fine)[:, 0], color="C0", label="mlp.MLP (tanh, 32 units)")
ax.plot(x_fine[:, 0], torch.sin(2 * x_fine[:, 0]) + 0.3 * x_fine[:, 0], "--", color="C1", label="sin(2x) + 0.3x")
ax.set(title="Regression fit", xlabel="x", ylabel="y")
ax.legend(fontsize=8)

ax = axes[2]
g1, g2 = np.meshgrid(np.linspace(-2.5, 2.5, 200), np.linspace(-2.5, 2.5, 200))
grid = torch.tensor(np.c_[g1.ravel(), g2.ravel()], dtype=torch.float64)
p = clf.forward(grid)[:, 0].numpy().reshape(g1.shape)
cs = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45)
ax.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=1.5)
ax.scatter(X_np[:, 0], X_np[:, 1], c=Y_np, cmap="RdBu_r", edgecolors="w", linewidths=0.5, s=18)
fig.colorbar(cs, ax=ax, label="ŷ = P(class 1)")
ax.set(title=f"Two moons: decision regions (train acc. {accuracy:.1%})",
       xlabel="x₁ (standardized)", ylabel="x₂ (standardized)")
fig.tight_layout()
save_figure(fig, "mlp_training")
plt.show()


# %% [markdown] tags=["solution"]
# ##### The bugs learners really write — and the check that catches each
#
# Each bug below is a one-line change to a backward function. We never edit `mlp.py`: each bug is
# patched into a **fresh copy** of the module (`broken_mlp()` loads the file again under another
# name), and the same checks as above must now print `MISMATCH`.
#
# | bug | what it looks like | why it is wrong |
# |---|---|---|
# | missing $1/M$ | `dJdy_hat = 2 * (y_hat - y)` | $J$ is a mean over all $M = NK$ elements, so its gradient carries the $1/M$ |
# | wrong transpose | `dJdW = x.T @ dJdz` | gives $(\text{in}, \text{out})$; `W` is $(\text{out}, \text{in})$ |
# | $\sigma'$ from the wrong variable | `dJda * sigmoid(a) * (1 - sigmoid(a))` | that is $\sigma'(a)$; the layer needs $\sigma'(z) = a(1-a)$ |
# | BCE sign flipped | `dJdy_hat = (y - y_hat) / (...)` | the gradient now points uphill: training *raises* the loss |

# %% tags=["solution"]
def broken_mlp():
    """A fresh, independent copy of the mlp module (patching it leaves the real mlp untouched)."""
    spec = importlib.util.spec_from_file_location("mlp_broken_copy", mlp.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fresh_net(module, f, g, seed=0):
    torch.manual_seed(seed)
    net = module.MLP(3, 4, f, 4, 2, g)
    net.parameters = {k: v.double() for k, v in net.parameters.items()}
    net.clear_grad_and_cache()
    return net


torch.manual_seed(0)
xb = torch.randn(6, 3, dtype=torch.float64)
yb = torch.rand(6, 2, dtype=torch.float64)


# %% [markdown] tags=["solution"]
# **Bug 1 — the missing $1/M$.** The loss value is right (it still divides by the number of elements),
# but the gradient is $M = N\cdot K$ times too large: $N$ rows times $K$ outputs, not just the batch size $N$.
# Training may even appear to work with a smaller learning rate, which is why this bug survives; the gradient
# check does not let it.

# %% tags=["solution"]
def mse_loss_missing_mean(y, y_hat):
    J = ((y_hat - y) ** 2).mean()
    return J, 2 * (y_hat - y)                      # BUG: no division by y_hat.numel()

J, dJdy_hat = mse_loss_missing_mean(yb, xb[:, :2])
(ref,) = autograd_grad(lambda p: F.mse_loss(p, yb), xb[:, :2])
v = cmp("dJdŷ", dJdy_hat, ref)
assert not v
N_rows, K_out = yb.shape
print(f"ratio ours / autograd = {(dJdy_hat / ref).mean().item():.0f} = N·K = {N_rows}·{K_out}, the number of elements")
assert torch.allclose(dJdy_hat / ref, torch.full_like(ref, N_rows * K_out))

# %% [markdown] tags=["solution"]
# **Bug 2 — the wrong transpose.** With `x` of shape $(N, \text{in})$ and $G$ of shape
# $(N, \text{out})$, `x.T @ G` is the numerator-layout Jacobian of part 1, shape $(\text{in},
# \text{out})$. `cmp` compares shapes first; the SGD step `W -= lr * dJdW` would then crash — or, for a
# square layer, silently update with the wrong numbers.

# %% tags=["solution"]
bad = broken_mlp()
correct_linear_backward = bad.linear_backward
def linear_backward_transposed(dJdz, x, W, *args, **kwargs):
    dJdx, dJdW, dJdb = correct_linear_backward(dJdz, x, W, *args, **kwargs)
    return dJdx, x.T @ dJdz, dJdb                  # BUG: (in, out) instead of (out, in)
bad.linear_backward = linear_backward_transposed

assert not check_mlp(fresh_net(bad, "relu", "identity"), xb, yb, "mse")

# %% [markdown] tags=["solution"]
# **Bug 3 — $\sigma'$ from the wrong variable.** The backward receives both $z$ and $a = \sigma(z)$.
# Writing the textbook formula $\sigma(\cdot)(1-\sigma(\cdot))$ and feeding it $a$ computes $\sigma'(a)$,
# the derivative at the wrong point. Only the output layer uses sigmoid here, so $W_1$, $b_1$, $W_2$ and
# $b_2$ are all wrong (everything upstream of the sigmoid).

# %% tags=["solution"]
bad = broken_mlp()
def sigmoid_backward_wrong_variable(dJda, z, a):
    return dJda * torch.sigmoid(a) * (1 - torch.sigmoid(a))   # BUG: σ'(a) instead of σ'(z) = a(1 − a)
bad.ACTIVATIONS["sigmoid"] = (bad.sigmoid, sigmoid_backward_wrong_variable)

assert not check_mlp(fresh_net(bad, "tanh", "sigmoid"), xb, yb, "bce")

# %% [markdown] tags=["solution"]
# **Bug 4 — the BCE sign flipped.** $\frac{d}{d\hat y}\big[-\log \hat y\big] = -1/\hat y$: dropping
# the leading minus of the loss gives a gradient pointing the wrong way. The check says `MISMATCH`
# (every entry has the right size and the wrong sign), and a few SGD steps show the consequence — the loss
# goes up.

# %% tags=["solution"]
bad = broken_mlp()
real_bce = bad.bce_loss
def bce_loss_sign_flipped(y, y_hat):
    J, dJdy_hat = real_bce(y, y_hat)
    return J, -dJdy_hat                            # BUG: −(ŷ − y)/(ŷ(1 − ŷ)M)
bad.bce_loss = bce_loss_sign_flipped

J, dJdy_hat = bad.bce_loss(yb, torch.sigmoid(xb[:, :2]))
(ref_yhat,) = autograd_grad(lambda q: F.binary_cross_entropy(q, yb), torch.sigmoid(xb[:, :2]))
v = cmp("dJdŷ", dJdy_hat, ref_yhat)
assert not v and cmp("−dJdŷ", -dJdy_hat, ref_yhat)   # flipping it back agrees

net = make_net(2, 16, "relu", 1, "sigmoid", seed=0)
losses = [sgd_step(net, x_cls, y_cls, bad.bce_loss, lr=1.0) for _ in range(20)]
print(f"20 steps with the flipped sign: BCE {losses[0]:.3f} -> {losses[-1]:.3f}")
assert losses[-1] > losses[0]

# %% [markdown] tags=["solution"]
# Finally, the copies did not touch the real module: the same checks on `mlp` itself still pass.

# %% tags=["solution"]
assert mlp.linear_backward.__module__ == "mlp" and mlp.ACTIVATIONS["sigmoid"][1] is mlp.sigmoid_backward
assert check_mlp(fresh_net(mlp, "tanh", "sigmoid"), xb, yb, "bce")

# %% [markdown] tags=["solution"]
# ##### What the worked answers showed
#
# * Every piece of the project's `mlp.py` — Linear, the activations, MSE and BCE — matches autograd to float64
#   precision, and the whole `MLP` matches both autograd and finite differences for every activation and loss.
# * Hand-written SGD on `mlp.py`'s gradients follows `torch.optim.SGD` exactly, fits a curve and separates two moons.
# * The four classic bugs each print `MISMATCH` in a one-line check. TAs run the course-style battery on a
#   submission with `python mlp.py --check path/to/their/mlp.py` (in the full project).

# %% [markdown]
# ## Summary
#
# * `mlp.py`'s forward and backward are five small functions — Linear, ReLU, sigmoid, MSE and BCE — each checked
#   above on its own against autograd, on batches of three different sizes.
# * Every gradient has the shape of what it is the gradient of (PyTorch's layout), the transpose of part 1's
#   numerator layout.
# * When `exercises.check_network(mlp)` says `correct`, your `MLP` gives the same $\hat y$, $J$, `dJdy_hat` and four
#   gradients as autograd for every choice of $f$, $g$ and the loss it tries.
