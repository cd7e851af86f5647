"""Write the implementation notebooks (06 mlp.py from scratch, 07 DeepDream studio) with nbformat.

The notebooks are generated so that their text lives in one reviewable Python file. After
building, store fresh outputs with

    python3 tools/build_impl_notebooks.py            # both notebooks (or: 06 / 07)
    python3 -m jupyter nbconvert --to notebook --execute --inplace notebooks/06_*.ipynb notebooks/07_*.ipynb

and validate with ``python3 -m pytest notebooks/06_*.ipynb notebooks/07_*.ipynb`` (nbval).
"""
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

PATH_CELL = """\
import sys, pathlib; sys.path.insert(0, str(pathlib.Path.cwd().resolve().parent))"""


def md(text):
    return new_markdown_cell(text.strip("\n"))


def code(text):
    return new_code_cell(text.strip("\n"))


def notebook(cells):
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):   # stable ids: rebuilding gives no spurious diffs
        cell.id = f"cell-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


# =============================================================================
# 06 — mlp.py from scratch
# =============================================================================
def nb06():
    c = []
    c.append(md(r"""
# 06 · mlp.py from scratch

Part 2.1 of the homework asks for the forward and backward pass of **Linear, ReLU, Sigmoid, MSE and
BCE** in `mlp.py`, without autograd. This notebook reads the project's own `mlp.py` piece by piece —
every function shown below is printed from the file with `inspect.getsource`, so there is exactly one
copy of the code — and checks each piece against PyTorch's autograd with `lab.gradcheck.cmp`, one
line per tensor.

Then it trains two small networks with nothing but `mlp.py`'s gradients and a hand-written SGD step
(a 1-D regression and the two-moons classification), and finally breaks `mlp.py` on purpose, the way
learners really do, to show that the checks catch every one of those bugs.

The network of the homework:

$$x \xrightarrow{\ \text{Linear}_1\ } z_1 \xrightarrow{\ f\ } z_2 \xrightarrow{\ \text{Linear}_2\ } z_3 \xrightarrow{\ g\ } \hat y, \qquad J = \ell(y, \hat y)$$
"""))
    c.append(code(PATH_CELL + """
import copy, importlib.util, inspect

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import mlp
from lab.gradcheck import autograd_grad, check_mlp, cmp, torch_activation
from lab.figures import save_figure

torch.manual_seed(0)
np.random.seed(0)
print("mlp.py loaded from the repository root:", pathlib.Path(mlp.__file__).parent == pathlib.Path.cwd().resolve().parent)"""))
    c.append(md(r"""
## Shapes: PyTorch's layout, not the blackboard's

On paper (part 1 of the homework) a data point is a column vector and $\text{Linear}(x) = Wx + b$.
In code a **batch** is a matrix with one example per **row**: `x` has shape `(N, in)`, the weight
`W` has shape `(out, in)` (as in `nn.Linear`), and the layer computes

$$Z = X W^\top + \mathbf 1 b^\top \qquad X: (N, \text{in}),\; W: (\text{out}, \text{in}),\; Z: (N, \text{out}).$$

Every gradient is stored with the shape of the thing it is the gradient of (`dJdW` has the shape of
`W`), which is the layout of PyTorch's `.grad`. The homework's hint — "it is not necessarily the math
you got from part 1" — is exactly this transpose.
"""))
    c.append(md(r"""
## Linear

Backward gets $G = \partial J/\partial Z$ of shape $(N, \text{out})$ and returns three gradients:

$$\frac{\partial J}{\partial X} = G\,W \;(N, \text{in}), \qquad
\frac{\partial J}{\partial W} = G^\top X \;(\text{out}, \text{in}), \qquad
\frac{\partial J}{\partial b} = \textstyle\sum_{n} G_{n,:} \;(\text{out}).$$

The bias is added to every row, so its gradient sums over the batch. Here is the code as it stands
in `mlp.py`:
"""))
    c.append(code("""
# NBVAL_IGNORE_OUTPUT — prints mlp.py as it is now; the checks below test what it computes
print(inspect.getsource(mlp.linear))
print(inspect.getsource(mlp.linear_backward))"""))
    c.append(md(r"""
To check a layer on its own we need a scalar to differentiate. Any upstream gradient $G$ can be
produced by the scalar $J = \sum_{n,k} Z_{nk} G_{nk}$ (its gradient with respect to $Z$ is exactly
$G$), so autograd on that $J$ gives the reference for each of the three outputs.
"""))
    c.append(code("""
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
assert all(verdicts)"""))
    c.append(md(r"""
## ReLU and sigmoid (and the other activations)

An element-wise activation $a = \varphi(z)$ has a diagonal Jacobian, so its backward is an
element-wise product: $\partial J/\partial z = \partial J/\partial a \odot \varphi'(z)$.

* ReLU: $\varphi'(z) = 1$ where $z > 0$, else $0$ (PyTorch also uses $0$ at $z = 0$).
* Sigmoid: $\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = a\,(1 - a)$ — the derivative can be computed from
  the **output** $a$ that forward already produced. Note: from $a$ as $a(1-a)$, *not* as
  $\sigma(a)(1-\sigma(a))$; that second form is one of the bugs at the end of this notebook.

Each backward in `mlp.py` receives `(dJda, z, a)` and uses whichever is cheaper:
"""))
    c.append(code("""
# NBVAL_IGNORE_OUTPUT — prints mlp.py as it is now; the checks below test what it computes
for name in ["relu", "relu_backward", "sigmoid", "sigmoid_backward"]:
    print(inspect.getsource(getattr(mlp, name)))"""))
    c.append(code("""
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
assert all(ok) and len(ok) == 8"""))
    c.append(md(r"""
## MSE and BCE

Both losses are the **mean over every element** of $\hat y$ (shape $(N, K)$, $M = NK$ elements), like
`nn.MSELoss()` and `nn.BCELoss()` with their default `reduction='mean'`. Note the argument order of
the course's API: `mse_loss(y, y_hat)`, target first.

$$J_\text{MSE} = \frac1M\sum_{i}(\hat y_i - y_i)^2, \qquad \frac{\partial J_\text{MSE}}{\partial \hat y_i} = \frac{2(\hat y_i - y_i)}{M}$$

$$J_\text{BCE} = -\frac1M\sum_i \big[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\big], \qquad
\frac{\partial J_\text{BCE}}{\partial \hat y_i} = \frac{\hat y_i - y_i}{M\,\hat y_i(1-\hat y_i)}$$

(differentiate the two log terms and put them over the common denominator $\hat y_i(1-\hat y_i)$).

The $1/M$ is part of the gradient because it is part of $J$. `nn.BCELoss` clamps each log at $-100$
so that $J$ stays finite when a sigmoid saturates to exactly 0 or 1; `mlp.py` does the same.
"""))
    c.append(code("""
# NBVAL_IGNORE_OUTPUT — prints mlp.py as it is now; the checks below test what it computes
print(inspect.getsource(mlp.mse_loss))
print(inspect.getsource(mlp.bce_loss))"""))
    c.append(code("""
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
assert all(ok)"""))
    c.append(md(r"""
## The gradient-check table

Now the whole network, `mlp.MLP`, for every activation as $f$, several $g$, and both losses (BCE only
with a sigmoid output: it needs $\hat y \in [0, 1]$). `lab.gradcheck.check_mlp` runs forward,
the loss, and backward, then compares $J$ and the four parameter gradients with

* **autograd** on the same parameters, and
* **central finite differences** in float64, $(J(\theta+\varepsilon) - J(\theta-\varepsilon))/2\varepsilon$
  for every single parameter — a reference that uses nothing but the forward pass.

One net printed in full first, then the table (one row per net; each row summarises 5 autograd and
4 finite-difference comparisons).
"""))
    c.append(code("""
torch.manual_seed(0)
x = torch.randn(6, 3, dtype=torch.float64)
y = torch.rand(6, 2, dtype=torch.float64)
net = mlp.MLP(3, 4, "relu", 4, 2, "sigmoid")
net.parameters = {k: v.double() for k, v in net.parameters.items()}
assert check_mlp(net, x, y, "bce", finite_differences=True)"""))
    c.append(code("""
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
assert all(all_ok)"""))
    c.append(md(r"""
## Training with mlp.py's own gradients

A training step of the homework's question 1.2(a), written out by hand: forward, loss, zero the
gradients, backward, and the SGD update $\theta \leftarrow \theta - \eta\,\partial J/\partial\theta$:
"""))
    c.append(code('''
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
    return net'''))
    c.append(md(r"""
Before trusting the loop, compare it with PyTorch's own training: the same weights copied into an
`nn.Sequential`, trained with `torch.optim.SGD` and autograd for 50 steps. The parameters must stay
equal step after step.
"""))
    c.append(code("""
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
assert all(ok)"""))
    c.append(md(r"""
### Regression: fit a 1-D curve

$f = \tanh$, $g$ = identity, MSE, 32 hidden units, 64 noisy samples of $y = \sin(2x) + 0.3x$ on
$[-3, 3]$, learning rate 0.05 (at 0.1 this net diverges: the loss passes 1e40 within 50 steps and overflows to inf within a few
hundred steps — the learning rate is part of the algorithm).
"""))
    c.append(code("""
gen = torch.Generator().manual_seed(0)
x_reg = torch.linspace(-3, 3, 64, dtype=torch.float64)[:, None]
y_reg = torch.sin(2 * x_reg) + 0.3 * x_reg + 0.1 * torch.randn(x_reg.shape, generator=gen, dtype=torch.float64)

reg = make_net(1, 32, "tanh", 1, "identity", seed=0)
reg_losses = [sgd_step(reg, x_reg, y_reg, mlp.mse_loss, lr=0.05) for step in range(4000)]
print(f"MSE: start {reg_losses[0]:.3f}, after 100 steps {reg_losses[100]:.3f}, after 4000 steps {reg_losses[-1]:.4f}")
assert reg_losses[-1] < 0.05 < reg_losses[0]   # the noise alone costs 0.01"""))
    c.append(md(r"""
### Classification: two moons

$f$ = ReLU, $g$ = sigmoid, BCE, 16 hidden units, 300 points of `sklearn.datasets.make_moons`
(noise 0.2, seeded), inputs standardized.
"""))
    c.append(code("""
from sklearn.datasets import make_moons

X_np, Y_np = make_moons(n_samples=300, noise=0.2, random_state=0)
X_np = (X_np - X_np.mean(0)) / X_np.std(0)
x_cls = torch.tensor(X_np, dtype=torch.float64)
y_cls = torch.tensor(Y_np, dtype=torch.float64)[:, None]

clf = make_net(2, 16, "relu", 1, "sigmoid", seed=0)
clf_losses = [sgd_step(clf, x_cls, y_cls, mlp.bce_loss, lr=1.0) for step in range(3000)]
accuracy = ((clf.forward(x_cls) > 0.5).double() == y_cls).double().mean().item()
print(f"BCE: start {clf_losses[0]:.3f}, after 3000 steps {clf_losses[-1]:.3f}; training accuracy {accuracy:.1%}")
assert accuracy > 0.95"""))
    c.append(code("""
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
plt.show()"""))
    c.append(md(r"""
## The bugs learners really write — and the check that catches each

Each bug below is a one-line change to a backward function. We never edit `mlp.py`: each bug is
patched into a **fresh copy** of the module (`broken_mlp()` loads the file again under another
name), and the same checks as above must now print `MISMATCH`.

| bug | what it looks like | why it is wrong |
|---|---|---|
| missing $1/N$ | `dJdy_hat = 2 * (y_hat - y)` | $J$ is a mean, so its gradient carries the $1/M$ |
| wrong transpose | `dJdW = x.T @ dJdz` | gives $(\text{in}, \text{out})$; `W` is $(\text{out}, \text{in})$ |
| $\sigma'$ from the wrong variable | `dJda * sigmoid(a) * (1 - sigmoid(a))` | that is $\sigma'(a)$; the layer needs $\sigma'(z) = a(1-a)$ |
| BCE sign flipped | `dJdy_hat = (y - y_hat) / (...)` | the gradient now points uphill: training *raises* the loss |
"""))
    c.append(code('''
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
yb = torch.rand(6, 2, dtype=torch.float64)'''))
    c.append(md(r"""
**Bug 1 — the missing $1/N$.** The loss value is right (it still divides by the number of elements),
but the gradient is $M$ times too large. Training may even appear to work with a smaller learning
rate, which is why this bug survives; the gradient check does not let it.
"""))
    c.append(code("""
def mse_loss_missing_mean(y, y_hat):
    J = ((y_hat - y) ** 2).mean()
    return J, 2 * (y_hat - y)                      # BUG: no division by y_hat.numel()

J, dJdy_hat = mse_loss_missing_mean(yb, xb[:, :2])
(ref,) = autograd_grad(lambda p: F.mse_loss(p, yb), xb[:, :2])
v = cmp("dJdŷ", dJdy_hat, ref)
assert not v
print(f"ratio ours / autograd = {(dJdy_hat / ref).mean().item():.0f} = number of elements {yb.numel()}")"""))
    c.append(md(r"""
**Bug 2 — the wrong transpose.** With `x` of shape $(N, \text{in})$ and $G$ of shape
$(N, \text{out})$, `x.T @ G` is the numerator-layout Jacobian of part 1, shape $(\text{in},
\text{out})$. `cmp` compares shapes first; the SGD step `W -= lr * dJdW` would then crash — or, for a
square layer, silently update with the wrong numbers.
"""))
    c.append(code("""
bad = broken_mlp()
correct_linear_backward = bad.linear_backward
def linear_backward_transposed(dJdz, x, W, *args, **kwargs):
    dJdx, dJdW, dJdb = correct_linear_backward(dJdz, x, W, *args, **kwargs)
    return dJdx, x.T @ dJdz, dJdb                  # BUG: (in, out) instead of (out, in)
bad.linear_backward = linear_backward_transposed

assert not check_mlp(fresh_net(bad, "relu", "identity"), xb, yb, "mse")"""))
    c.append(md(r"""
**Bug 3 — $\sigma'$ from the wrong variable.** The backward receives both $z$ and $a = \sigma(z)$.
Writing the textbook formula $\sigma(\cdot)(1-\sigma(\cdot))$ and feeding it $a$ computes $\sigma'(a)$,
the derivative at the wrong point. Only the output layer uses sigmoid here, so $W_1$, $b_1$, $W_2$ and
$b_2$ are all wrong (everything upstream of the sigmoid).
"""))
    c.append(code("""
bad = broken_mlp()
def sigmoid_backward_wrong_variable(dJda, z, a):
    return dJda * torch.sigmoid(a) * (1 - torch.sigmoid(a))   # BUG: σ'(a) instead of σ'(z) = a(1 − a)
bad.ACTIVATIONS["sigmoid"] = (bad.sigmoid, sigmoid_backward_wrong_variable)

assert not check_mlp(fresh_net(bad, "tanh", "sigmoid"), xb, yb, "bce")"""))
    c.append(md(r"""
**Bug 4 — the BCE sign flipped.** $\frac{d}{d\hat y}\big[-\log \hat y\big] = -1/\hat y$: dropping
the leading minus of the loss gives a gradient pointing the wrong way. The check says `MISMATCH`
(every entry has the right size and the wrong sign), and a few SGD steps show the consequence — the loss
goes up.
"""))
    c.append(code("""
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
assert losses[-1] > losses[0]"""))
    c.append(md(r"""
Finally, the copies did not touch the real module: the same checks on `mlp` itself still pass.
"""))
    c.append(code("""
assert mlp.linear_backward.__module__ == "mlp" and mlp.ACTIVATIONS["sigmoid"][1] is mlp.sigmoid_backward
assert check_mlp(fresh_net(mlp, "tanh", "sigmoid"), xb, yb, "bce")"""))
    c.append(md(r"""
## Summary

* Every piece of `mlp.py` — Linear, the activations, MSE and BCE — matches autograd to float64
  precision, and the whole `MLP` matches both autograd and finite differences for every activation
  and loss combination.
* Hand-written SGD on `mlp.py`'s gradients follows `torch.optim.SGD` exactly, fits a curve and
  separates two moons.
* The four classic bugs each print `MISMATCH` in a one-line check — run `python mlp.py --check
  path/to/your/mlp.py` to run the course-style battery on your own file.
"""))
    return notebook(c)


# =============================================================================
# 07 — DeepDream studio
# =============================================================================
def nb07():
    c = []
    c.append(md(r"""
# 07 · DeepDream studio: gradient ascent on the input

Part 2.2 of the homework turns backpropagation around: the network's weights stay fixed and the
**image** is the parameter. Starting from noise — or, as Simonyan et al. (2013) do, from the average
training image — we follow the gradient of a class logit with respect to the pixels, so the image
drifts towards whatever the network considers most "7"-like (Simonyan et al., 2013; Mordvintsev,
Olah and Tyka, 2015):

$$x \leftarrow x + \eta\,\frac{\partial\, z_{\text{label}}(\text{normalize}(\text{jitter}(x)))}{\partial x}$$

Raw gradient ascent produces high-frequency noise that the network likes and people cannot read.
The homework lists the extra-credit tricks that make the pictures readable — blurring the image,
clamping pixels, weight decay, blurring the gradient, working at several scales — plus the
middle-layer visualizations. `gd.py` implements all of them; this notebook puts each on a slider.

Everything here runs offline on the project's **embedded digits CNN** (trained on scikit-learn's
8×8 digits, upsampled to 32×32 — `models/digits_cnn.pt`), where one preview takes a fraction of a
second on a CPU. With torchvision and the ImageNet weights of `vgg13_bn` available, the studio
offers that model too.

**If you are reading this on a static renderer** (GitHub, nbviewer): the interactive panel below is
not shown there, but every figure after it — the gallery, the ablation grid, dreaming on a picture,
middle layers — is an ordinary image stored in the notebook.
"""))
    c.append(code(PATH_CELL + """
import matplotlib.pyplot as plt
import numpy as np
import torch

import gd
from lab import studio
from lab.figures import save_figure

torch.manual_seed(0)
np.random.seed(0)
model, info = gd.load_model("digits")
print(f"model {info.name}: input {info.input_size}, {len(info.class_names)} classes, "
      f"middle layers {dict(info.channels)} (name: channels)")"""))
    c.append(md(r"""
## The course's function, first

The grader calls `gradient_descent(input, model, loss, iterations=256)` with
`loss = lambda t: t[0, label].mean()` — the class **logit** — and the homework's hint that a low energy means a high logit. So the function must make that value
go **up**. A quick
check on the digits model, from the course's gray-noise start: the logit must rise, and the model
must come back exactly as it was (eval mode used inside, weights untouched).
"""))
    c.append(code("""
label = 7
loss = lambda t: t[0, label].mean()
g = torch.Generator().manual_seed(0)
start = ((torch.randn(1, 32, 32, 3, generator=g) * 8 + 128) / 255).permute(0, 3, 1, 2)   # the course's start, 32 px
weights_before = {k: v.clone() for k, v in model.state_dict().items()}

with studio.single_thread():
    out = gd.gradient_descent(start, model, loss, iterations=64)
with torch.no_grad():
    before = loss(model(gd.normalize_and_jitter(start, 0))).item()
    after = loss(model(gd.normalize_and_jitter(out, 0))).item()
p_course, p_norm = gd.class_probability(model, out, label, info)
print(f"logit of class {label}: {before:.1f} -> {after:.1f}")
print(f"p(class {label}) after 64 steps: {p_norm:.2f} on the normalized image "
      f"(the course's main() scores the raw image: {p_course:.2f})")
assert after > before + 5 and p_norm > 0.9
assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights_before.items())
assert tuple(out.shape) == (1, 3, 32, 32) and 0 <= out.min() and out.max() <= 1"""))
    c.append(md(r"""
## The tricks, and the knob for each

| trick (homework) | `gd.Settings` field | what it does to the image $x$ after each step |
|---|---|---|
| step size | `lr` | $x \leftarrow x + \eta\,g$ |
| step rule | `step_rule` | `plain`: $\eta g$; `normalized`: $\eta\,g / \operatorname{mean}\lvert g\rvert$ — the step size no longer depends on how large the logit's gradient happens to be |
| jitter | `jitter` | roll the image by a random shift of up to ±`jitter` px before each forward pass (`normalize_and_jitter`) |
| 1. blur the image | `blur_every`, `blur_sigma` | Gaussian blur with σ = `blur_sigma` px every `blur_every` steps |
| 2. clamp | `clamp` | $x \leftarrow \operatorname{clip}(x, 0, 1)$ |
| 3. weight decay | `weight_decay` | $x \leftarrow x - \lambda\,(x - x_0)$ (pulls towards a plain background $x_0$) |
| 4. blur the gradient | `grad_blur_sigma` | Gaussian blur of $g$ before the step |
| 5. multiple scales | `octaves`, `octave_scale` | optimize a small image first, upscale by `octave_scale`, continue |
| middle layers | objective | a channel's mean activation, or a whole layer's mean squared activation (DeepDream) |

## The studio

Move a slider and the preview re-runs (debounced) — at the default settings a preview takes well
under a second here. **Run** starts a run, **Stop** ends it at the next preview update, **Ablation
grid** runs the current target once per trick switched off. The metric line shows the course's
probability (`p_course`, on the raw image, as the course's `main()` computes it, and
`p_normalized`, on the normalized image the network expects) and the **recognizability check**:
three scikit-learn classifiers trained on the real 8×8 digits — not the CNN — read the picture
downsampled to 8×8. A picture that only the CNN calls a 7 is an adversarial pattern, not a 7.

"start from" offers seeded gray *noise*, the *mean image* (the average of all 1797 training digits,
plus the same faint noise: the digits default), or a *picture*: dream on a real digit from
`load_digits`, or upload your own image. The optimization runs in a background thread, so the panel stays responsive while it works.
"""))
    c.append(code("""
from lab.studio import Studio

panel = Studio()       # the embedded digits model; vgg13_bn appears in the menu when it can be loaded
panel.show()"""))
    c.append(md(r"""
## Gallery: all ten digits at the default settings

The same code as the studio's **Run** (`gd.visualize` with `gd.default_settings("digits")`, seed 0),
once per class. Under each image: the network's probability and what the independent recognizers
read.
"""))
    c.append(code("""
settings = gd.default_settings("digits")
fig, gallery = studio.gallery_figure(model, info, settings)
save_figure(fig, "studio_gallery")
plt.show()

reads = gd.recognize_digits([gallery[d].image for d in range(10)])
for d in range(10):
    p_course, p_norm = gd.class_probability(model, gallery[d].image, d, info)
    print(f"class {d}: p_course {p_course:.2f}  p_normalized {p_norm:.2f}  reads as {reads[d]}")
n_read = sum(r == d for d, r in enumerate(reads))
print(f"{n_read} of 10 read as their class by the scikit-learn recognizers")
assert n_read >= 8, 'the default settings should give readable digits for (almost) every class'"""))
    c.append(md(r"""
## Ablation grid: what each trick buys

Same target, same seed, same start; each column switches **one** trick of `gd.TRICKS` off
(`mean_start` off: start from gray noise instead of the average digit; last column: all of them).
Two targets, 3 and 8.
"""))
    c.append(code("""
rows = [(f"class {d}", studio.run_ablation(model, info, gd.ClassLogit(d), settings)) for d in (3, 8)]
fig = studio.ablation_figure(model, info, rows, labels=[3, 8])
save_figure(fig, "ablation_grid")
plt.show()

print(f"{'variant':<22} " + "  ".join(f"class {d}: p_norm reads robust" for d in (3, 8)))
unreadable = []
for i, (title, _s, _r) in enumerate(rows[0][1]):
    cols = []
    for d, (_, runs) in zip((3, 8), rows):
        m = studio.describe(model, info, runs[i][2].image, d)
        cols.append(f"{m['p_normalized']:>13.2f} {m['reads_as']:>5} {m['robustness']:>6.2f}")
        if m["reads_as"] != d:
            unreadable.append((d, title))
    print(f"{title:<22} " + "  ".join(cols))
print("not read as their class:", unreadable)
assert ("all tricks on" not in [t for _, t in unreadable]) and unreadable"""))
    c.append(md(r"""
What the grid shows:

* `p_normalized` is ≈ 1.00 in **every** column: the course's metric cannot tell a readable digit from
  a faint pattern — the network's confidence is easy to obtain.
* The column that matters most at these settings is the **step rule**. With `plain` steps
  ($\eta\,g$ with $\eta = 0.05$) the gradient of a logit with respect to the pixels is tiny, and the
  image barely leaves its faint start: the network still names the class, the recognizers do not
  (the list printed above), and a person sees a ghost. Normalizing the step makes $\eta$ mean
  "pixels per step".
* Switching off any one of the other tricks leaves a readable digit, but changes the strokes: no
  clamp gives thinner strokes on a darker background (values outside [0, 1] are allowed during the
  run and cut for display), no weight decay a brighter image overall; without the image blur, or
  from a **noise start** instead of the average digit, the result barely changes here.
* Even with **all** tricks off the strokes are in the right places — faint and speckled, but a 3 and
  an 8. That is the model's doing more than the tricks': it was trained adversarially and with
  cutout (`tools/train_digits.py`), which makes its input gradients look like digits (Santurkar et
  al., 2019). The tricks overlap — several of them fight the same
  high-frequency noise — which is why removing any single one costs little.
"""))
    c.append(md(r"""
## Dreaming on a picture

Start from a real handwritten 3 from `load_digits` instead of noise, and ascend the logit of 8:
within 48 steps the picture turns into the network's idea of an 8 (little of the 3 survives at
this step size — lower `lr` or `iterations` in the studio to keep more of it). Then the same start
with a **middle-layer** objective (`LayerDream("act2")`: the mean squared activation of the second
conv block, the DeepDream objective): the 3's strokes are replaced by the horizontal bands that
layer responds to most strongly.
"""))
    c.append(code("""
pictures = studio.shipped_pictures()
three = pictures["a real 3 (load_digits #3)"]
with studio.single_thread():
    to_eight = gd.visualize(model, gd.ClassLogit(8), info=info, settings=settings.replace(iterations=48), init=three)
    dream = gd.visualize(model, gd.LayerDream("act2"), info=info, settings=settings.replace(iterations=48), init=three)

fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.9))
for ax, (title, img) in zip(axes, [("start: a real 3", three), ("ascend class 8 (48 steps)", to_eight.image),
                                   ("LayerDream('act2') (48 steps)", dream.image)]):
    ax.imshow(img[0].permute(1, 2, 0).numpy(), interpolation="nearest")
    m = studio.describe(model, info, img, 8)
    ax.set(title=f"{title}\\nreads {gd.recognize_digits(img)[0]}, p(8)={m['p_normalized']:.2f}", xticks=[], yticks=[])
    ax.title.set_fontsize(9)
fig.suptitle("Dreaming on a picture (32×32 px)", fontsize=10)
fig.tight_layout(rect=(0, 0, 1, 0.93))
plt.show()

r3, r8 = gd.recognize_digits([three, to_eight.image])
p8_before = gd.class_probability(model, three, 8, info)[1]
p8_after = gd.class_probability(model, to_eight.image, 8, info)[1]
print(f"the start reads as {r3}; after ascending class 8 it reads as {r8}; p(8): {p8_before:.2f} -> {p8_after:.2f}")
assert r3 == 3 and p8_after > 0.9 > p8_before"""))
    c.append(md(r"""
## Middle layers: what single channels respond to

`LayerChannel(layer, c)` maximizes the mean activation of one channel. In the first block (`act1`,
16 channels of 3×3 filters on a 16×16 map) the pictures are fine oriented gratings and plain
bright or dark patches — what a 3×3 filter can see; in the last block (`act3`, a 4×4 map seeing the whole image)
they are larger strokes: horizontal bars and diagonals, the parts digits are made of. The studio's
layer and channel pickers do the same.
"""))
    c.append(code("""
layer_settings = settings.replace(iterations=64)
picks = [("act1", ch) for ch in range(4)] + [("act3", ch) for ch in range(4)]
with studio.single_thread():
    channel_runs = [gd.visualize(model, gd.LayerChannel(layer, ch), info=info, settings=layer_settings) for layer, ch in picks]
fig, axes = plt.subplots(1, len(picks), figsize=(1.6 * len(picks), 2.2))
for ax, (layer, ch), r in zip(axes, picks, channel_runs):
    ax.imshow(r.image[0].permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_title(f"{layer} ch {ch}", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("Channel visualizations (64 steps each, default tricks)", fontsize=10)
fig.tight_layout(rect=(0, 0, 1, 0.92))
plt.show()
gains = [r.values[-1] - r.values[0] for r in channel_runs]
print("objective rose in", sum(g > 0 for g in gains), "of", len(gains), "channel runs")
assert all(g > 0 for g in gains)"""))
    c.append(md(r"""
## Summary

* `gd.gradient_descent` climbs the logit the course asks for and leaves the model as it found it.
* The studio binds every trick of `gd.Settings` to a widget, runs in a background thread (Stop
  works, sliders re-run the preview), and reports the course's probability next to an independent
  recognizability check — the difference between the two is the lesson of the ablation grid.
* `tests/test_browser.py` opens this notebook in a real JupyterLab in headless Chromium, moves a
  slider, presses Run, and checks that the preview and the metric change.
"""))
    return notebook(c)


BUILDERS = {"06": ("06_mlp_from_scratch.ipynb", nb06), "07": ("07_deepdream_studio.ipynb", nb07)}


def main(argv):
    wanted = argv or sorted(BUILDERS)
    for key in wanted:
        if key not in BUILDERS:
            raise SystemExit(f"unknown notebook {key!r}; allowed: {', '.join(sorted(BUILDERS))}")
        name, build = BUILDERS[key]
        path = NOTEBOOKS / name
        NOTEBOOKS.mkdir(exist_ok=True)
        nbformat.write(build(), path)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
