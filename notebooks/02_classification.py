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
import sys, pathlib; sys.path.insert(0, str(pathlib.Path.cwd().resolve().parent))  # repo root
import math

import matplotlib.pyplot as plt
import sympy as sp
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.functional import jacobian

import mlp
from lab.figures import save_figure
from lab.gradcheck import autograd_grad, cmp
from lab.theory import show

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


# %% [markdown]
# ## 1.3(a) $f=\tanh$, $g=\sigma$, same MSE loss: what changes
#
# **In (b), the forward table**, only the two activation rows change:
#
# | layer | input | output |
# |-------|-------|--------|
# | $\mathrm{Linear}_1$ | $\boldsymbol{x}$ | $\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ |
# | $f$ | $\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ | $\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})$ |
# | $\mathrm{Linear}_2$ | $\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})$ | $\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}$ |
# | $g$ | $\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}$ | $\sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)$ |
# | loss | $\hat{\boldsymbol{y}}$, $\boldsymbol{y}$ | $\big\|\sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)-\boldsymbol{y}\big\|^2$ |
#
# **In (c), the gradients**, written with the allowed Jacobian symbols, keep their form. The one place where
# $f$'s *value* appears, the input of $\mathrm{Linear}_2$, changes from $5(\cdot)^+$ to $\tanh(\cdot)$:
#
# $$\frac{\partial\ell}{\partial\boldsymbol{W}^{(2)}} = \tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})\,\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\ (h\times K),
# \quad
# \frac{\partial\ell}{\partial\boldsymbol{b}^{(2)}},\ \frac{\partial\ell}{\partial\boldsymbol{b}^{(1)}},\ \frac{\partial\ell}{\partial\boldsymbol{W}^{(1)}}\ \text{as in 1.2(c)}.$$
#
# **In (d), the elements**: the two activation Jacobians change, $\partial\ell/\partial\hat{\boldsymbol{y}}$ does not:
#
# $$\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1} = \mathrm{diag}\big(1-\tanh^2(\boldsymbol{z}_1)\big)\in\mathbb{R}^{h\times h},\qquad
# \frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3} = \mathrm{diag}\big(\sigma(\boldsymbol{z}_3)\odot(1-\sigma(\boldsymbol{z}_3))\big)\in\mathbb{R}^{K\times K},\qquad
# \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}} = 2(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top\in\mathbb{R}^{1\times K},$$
#
# with $\boldsymbol{z}_1 = \boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ and $\boldsymbol{z}_3 = \boldsymbol{W}^{(2)}\tanh(\boldsymbol{z}_1)+\boldsymbol{b}^{(2)}$.

# %%
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

# %%
# (c) the same four formulas, now with tanh's and σ's Jacobians, against autograd
ours_mse = numerator_grads(x, W2, dl_dyhat, dyhat_dz3, dz2_dz1, torch.tanh(W1 @ x + b1))
for name, g in ours_mse.items():
    print(f"dl/d{name}: numerator-layout shape {tuple(g.shape)}")
mse = lambda W1, b1, W2, b2: ((forward(x, W1, b1, W2, b2)[3] - y) ** 2).sum()
assert check_against_autograd(ours_mse, mse)

# %% [markdown]
# ## 1.3(b) Binary cross-entropy: what changes, and why $\partial\ell/\partial\boldsymbol{z}_3 = (\hat{\boldsymbol{y}}-\boldsymbol{y})^\top/K$
#
# **(b) forward table:** unchanged except the loss row, which becomes
# $\ell = \frac1K\sum_i -\big[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\big]$ with
# $\hat{\boldsymbol{y}} = \sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)$.
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

# %%
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

# %%
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

# %% [markdown]
# ### Why the fused form (BCE-with-logits) is numerically safer
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

# %%
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
# Backpropagation through $L$ layers multiplies, per layer, by $\boldsymbol{W}^{(l)}$ and by the activation's
# Jacobian $\mathrm{diag}(f'(\boldsymbol{z}_l))$. So each layer scales the gradient by roughly
# (weight scale) × (typical $|f'|$), and after many layers that factor is raised to a high power.
#
# * $\sigma'(z) = \sigma(z)(1-\sigma(z)) \le \tfrac14$: every sigmoid layer shrinks the gradient at least four-fold
#   unless the weights are large — and large weights push $z$ into the flat tails where $\sigma'\approx 0$.
# * $\tanh'(z) = 1-\tanh^2(z) \le 1$, with equality only at $z=0$; it *saturates* as $|z|$ grows.
# * $\mathrm{ReLU}'(z) = 1$ on the active side, exactly, however large $z$ is: active units pass the gradient
#   unchanged, so the weights alone set the scale (the He initialisation, variance $2/\text{fan-in}$, makes it
#   constant in depth). Inactive units give exact zeros — sparse activations and sparse gradients, and cheap.
#
# The experiment: 20 hidden layers of width 64, **the same initialisation for every net** (He / Kaiming normal,
# zero biases, same seed), a batch of 128 random inputs, a linear read-out and an MSE loss; we measure the
# norm of $\partial L/\partial\boldsymbol{W}^{(l)}$ for every layer $l$, and the mean of $f'(\boldsymbol{z}_l)$.

# %%
depth, width, batch = 20, 64, 128
activations = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def layer_stats(act):
    torch.manual_seed(0)                                         # same weights, same data for every net
    layers = [nn.Linear(width, width) for _ in range(depth)]
    for layer in layers:
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
    readout = nn.Linear(width, 1)
    X, T = torch.randn(batch, width), torch.randn(batch, 1)
    hidden, pre = X, []
    for layer in layers:
        zl = layer(hidden)
        zl.retain_grad()
        pre.append(zl)
        hidden = activations[act](zl)
    F.mse_loss(readout(hidden), T).backward()
    norms = [layer.weight.grad.norm().item() for layer in layers]
    slopes = [slope(activations[act], zl.detach().flatten()) for zl in pre]
    return norms, [s.mean().item() for s in slopes], pre, slopes


def slope(f, z):
    """f'(z) element-wise, by autograd: for an element-wise f, d(Σ f(z))/dz_i = f'(z_i)."""
    z = z.clone().requires_grad_(True)
    return torch.autograd.grad(f(z).sum(), z)[0]


stats = {act: layer_stats(act) for act in activations}
print(f"{'layer':>5}" + "".join(f"{a + ' ‖∂L/∂W‖':>18}" for a in activations))
for l in [0, 4, 9, 14, 19]:
    print(f"{l + 1:>5}" + "".join(f"{stats[a][0][l]:>18.2e}" for a in activations))
for act in activations:
    norms = stats[act][0]
    print(f"{act:<8} first/last layer gradient norm: {norms[0] / norms[-1]:.1e}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
layers_axis = range(1, depth + 1)
for act, style in zip(activations, ["o-", "s-", "^-"]):
    ax1.semilogy(layers_axis, stats[act][0], style, label=act, markersize=4)
    ax2.plot(layers_axis, stats[act][1], style, label=act, markersize=4)
ax1.set(title="Gradient norm per layer (20-layer net, He init)", xlabel="layer l (1 = nearest the input)",
        ylabel="‖∂L/∂W⁽ˡ⁾‖ (log scale)")
ax2.axhline(0.25, color="gray", ls=":", label="σ' ≤ 1/4")
ax2.set(title="Mean activation slope f'(z) per layer", xlabel="layer l", ylabel="mean f'(z) over units", ylim=(0, 1.05))
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()
save_figure(fig, "deep_net_gradient_norms")
plt.show()

# %% [markdown]
# What the numbers say, and the checks that hold them to it:
#
# * **sigmoid**: the gradient reaching the first layer is smaller than at the last layer by the factor printed
#   above (about $10^{-9}$); every layer's mean slope is below $\tfrac14$. The early layers cannot learn.
# * **ReLU**: the gradient norm stays within a small factor from layer 20 to layer 1. On active units the slope is
#   exactly 1 (about half the units are active), so nothing in the activation shrinks the signal.
# * **tanh** also survives at this initialisation, because its inputs are near 0 where $\tanh'\approx 1$. Its weak
#   point is saturation: the table below scales the pre-activations up (as happens when weights grow during
#   training) — $\tanh'$ collapses, while ReLU's slope on active units stays exactly 1.

# %%
sig_norms, tanh_norms, relu_norms = (stats[a][0] for a in activations)
assert sig_norms[0] / sig_norms[-1] < 1e-6, "sigmoid gradients should vanish towards the input"
assert 0.1 < relu_norms[0] / relu_norms[-1] < 10, "ReLU gradients should keep their scale"
assert max(stats["sigmoid"][1]) <= 0.25
assert max(stats["tanh"][1]) < 1
relu_slopes = torch.cat(stats["relu"][3])                   # autograd's ReLU'(z) for every unit
active = torch.cat([zl.detach().flatten() for zl in stats["relu"][2]]) > 0
assert torch.all(relu_slopes[active] == 1) and torch.all(relu_slopes[~active] == 0)
print(f"fraction of active ReLU units: {active.double().mean().item():.2f}")

zs = torch.randn(100_000, generator=torch.Generator().manual_seed(0))
print(f"{'scale c':>8}{'mean tanh′(cz)':>16}{'mean σ′(cz)':>14}{'ReLU′ on active':>17}")
for c in [1, 3, 10, 30]:
    s = torch.sigmoid(c * zs)
    relu_active = slope(torch.relu, c * zs)[c * zs > 0]
    print(f"{c:>8}{(1 - torch.tanh(c * zs) ** 2).mean().item():>16.3f}{(s * (1 - s)).mean().item():>14.3f}"
          f"{relu_active.mean().item():>17.3f}")
assert (1 - torch.tanh(30 * zs) ** 2).mean() < 0.05
