"""Build the theory notebooks 01–05 (homework part 1) from the cells written below.

Each notebook is one function returning a list of cells (markdown and code as
strings), so a change to a notebook is a readable diff of this file. The script
writes the .ipynb files *unexecuted*; store the outputs with a fresh run:

    python3 tools/build_theory_notebooks.py            # all five (or: 01 03 ...)
    jupyter nbconvert --to notebook --execute --inplace notebooks/0[1-5]_*.ipynb

Export the figures (leaves the notebooks unchanged):

    BACKPROP_SAVE_FIGURES=1 jupyter nbconvert --to notebook --execute \
        --output-dir /tmp/nbout notebooks/0[1-5]_*.ipynb
"""
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

SETUP = """\
import sys, pathlib; sys.path.insert(0, str(pathlib.Path.cwd().resolve().parent))  # repo root
"""


def md(text):
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text, tags=(), setup=False, note=""):
    """A code cell; ``setup=True`` puts the repo root on sys.path first (the first code cell);
    ``note`` is a comment block put on top (e.g. why a cell is tagged nbval-ignore-output)."""
    source = textwrap.dedent(text).strip("\n")
    cell = new_code_cell((SETUP if setup else "") + note + source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


# =============================================================================
# 01 — Regression (question 1.2)
# =============================================================================
def nb01():
    return [
        md(r"""
        # 01 · Regression — homework question 1.2

        The network of the homework, for one input $\boldsymbol{x}\in\mathbb{R}^n$:

        $$\boldsymbol{x}\xrightarrow{\ \mathrm{Linear}_1\ }\boldsymbol{z}_1\xrightarrow{\ f\ }\boldsymbol{z}_2
        \xrightarrow{\ \mathrm{Linear}_2\ }\boldsymbol{z}_3\xrightarrow{\ g\ }\hat{\boldsymbol{y}}\in\mathbb{R}^K,
        \qquad \mathrm{Linear}_i(\boldsymbol{v}) = \boldsymbol{W}^{(i)}\boldsymbol{v}+\boldsymbol{b}^{(i)},$$

        with hidden size $h$: $\boldsymbol{W}^{(1)}\in\mathbb{R}^{h\times n}$, $\boldsymbol{W}^{(2)}\in\mathbb{R}^{K\times h}$.
        Question 1.2 takes $f = 5\,\mathrm{ReLU}$ (`mlp.py` calls it `'scaled_relu'`), $g$ = identity and
        $\ell(\hat{\boldsymbol{y}},\boldsymbol{y}) = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$.

        **This $\ell$ is a sum of squares** over the $K$ outputs of one data point. `nn.MSELoss()` and `mlp.mse_loss`
        return the *mean* over all elements instead, so whenever we compare with them a factor $K$ (and, for a batch,
        the batch size) appears. We write that factor out each time.

        **Notation: numerator layout**, as the homework demands. Every vector is a column vector. For a function
        $\boldsymbol{u}\in\mathbb{R}^m$ of $\boldsymbol{v}\in\mathbb{R}^p$, $\partial\boldsymbol{u}/\partial\boldsymbol{v}$ is the
        $m\times p$ Jacobian, with row $i$ = output $u_i$. Hence

        * $\partial\ell/\partial\hat{\boldsymbol{y}}$ is a $1\times K$ **row** vector;
        * $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ is $h\times h$;
        * for a scalar and a $K\times h$ matrix, $\partial\ell/\partial\boldsymbol{W}$ is $h\times K$:
          $\left(\partial\ell/\partial\boldsymbol{W}\right)_{ji} = \partial\ell/\partial W_{ij}$.

        PyTorch's `.grad` has the parameter's own shape, so
        $\;\texttt{W.grad} = \left(\partial\ell/\partial\boldsymbol{W}\right)^\top$ and
        $\texttt{b.grad} = \left(\partial\ell/\partial\boldsymbol{b}\right)^\top$ (flattened). Section 1.2(c) checks this.

        Every formula below is followed by code that fails (an `assert`) if the formula is wrong;
        `cmp` prints one verdict line per tensor.
        """),
        code(setup=True, text="""\
        import torch
        import torch.nn as nn
        from torch.autograd.functional import jacobian

        import mlp
        from lab.gradcheck import cmp
        from lab.theory import show

        torch.set_default_dtype(torch.float64)   # float64: comparisons are exact to ~1e-15
        torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
        torch.manual_seed(0)
        n, h, K = 3, 4, 2                          # h != K, so a wrong identity size or a missing transpose shows


        class FiveReLU(nn.Module):
            \"\"\"f(z) = 5·ReLU(z), the hidden activation of question 1.2.\"\"\"
            def forward(self, z):
                return 5 * torch.relu(z)


        model = nn.Sequential(nn.Linear(n, h), FiveReLU(), nn.Linear(h, K), nn.Identity())
        print(model)
        """),
        md(r"""
        ## 1.2(a) The five steps of training with SGD on one batch

        For a batch $\{(\boldsymbol{x}_b,\boldsymbol{y}_b)\}_{b=1}^{B}$ and parameters
        $\theta = (\boldsymbol{W}^{(1)},\boldsymbol{b}^{(1)},\boldsymbol{W}^{(2)},\boldsymbol{b}^{(2)})$:

        | # | step | math | PyTorch |
        |---|------|------|---------|
        | 1 | forward pass | $\hat{\boldsymbol{y}}_b = F_\theta(\boldsymbol{x}_b)$ | `y_hat = model(X)` |
        | 2 | compute the loss | $L(\theta) = \frac1B\sum_b \|\hat{\boldsymbol{y}}_b-\boldsymbol{y}_b\|^2$ | `loss = ((y_hat - Y)**2).sum(1).mean()` |
        | 3 | zero the gradients | $G \leftarrow 0$ | `optimizer.zero_grad()` |
        | 4 | backward pass | $G \leftarrow \nabla_\theta L$ | `loss.backward()` |
        | 5 | SGD step | $\theta \leftarrow \theta - \eta\, G$ | `optimizer.step()` |

        Step 3 exists because `backward()` *adds* into `.grad`; without it, step 4 would give
        $G_{\text{old}} + \nabla_\theta L$. The code runs the five steps and checks that after `optimizer.step()`
        every parameter equals $\theta - \eta\nabla_\theta L$ exactly.
        """),
        code("""\
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
        """),
        md(r"""
        Why step 3 matters: a second `backward()` without `zero_grad()` adds the new gradient to the old one.
        """),
        code("""\
        loss2 = ((model(X) - Y) ** 2).sum(dim=1).mean()
        fresh = torch.autograd.grad(loss2, list(model.parameters()), retain_graph=True)   # the gradient alone
        loss2.backward()                                  # no zero_grad(): .grad still holds step 4's gradient
        for name, p, g_old, g_new in zip(names, model.parameters(), grads, fresh):
            assert cmp(f"{name}.grad", p.grad, g_old + g_new)
        optimizer.zero_grad()
        """),
        md(r"""
        ## 1.2(b) Inputs and outputs of each layer for one data point

        Using only $\boldsymbol{x},\boldsymbol{y},\boldsymbol{W}^{(1)},\boldsymbol{b}^{(1)},\boldsymbol{W}^{(2)},\boldsymbol{b}^{(2)}$
        (with $(\cdot)^+ = \max(\cdot, 0)$ element-wise):

        | layer | input | output |
        |-------|-------|--------|
        | $\mathrm{Linear}_1$ | $\boldsymbol{x}$ | $\boldsymbol{z}_1 = \boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ |
        | $f$ | $\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ | $\boldsymbol{z}_2 = 5\,(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+$ |
        | $\mathrm{Linear}_2$ | $5\,(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+$ | $\boldsymbol{z}_3 = 5\,\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+ + \boldsymbol{b}^{(2)}$ |
        | $g$ | $5\,\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+ + \boldsymbol{b}^{(2)}$ | $\hat{\boldsymbol{y}} = 5\,\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+ + \boldsymbol{b}^{(2)}$ |
        | loss | $\hat{\boldsymbol{y}}$ above and $\boldsymbol{y}$ | $\ell = \big\|5\,\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+ + \boldsymbol{b}^{(2)} - \boldsymbol{y}\big\|^2$ |

        Shapes: $\boldsymbol{z}_1,\boldsymbol{z}_2\in\mathbb{R}^h$, $\boldsymbol{z}_3,\hat{\boldsymbol{y}}\in\mathbb{R}^K$, $\ell\in\mathbb{R}$.
        Below, each expression is evaluated literally from the parameters and compared with what the
        `nn.Module` sees (forward hooks on every layer) and with `mlp.py`'s forward cache. PyTorch stores a data
        point as a *row* $(1\times n)$, i.e. $\boldsymbol{x}^\top$, so the module's tensors are the transposes of ours.
        """),
        code("""\
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
        """),
        code("""\
        print("values for this data point (column vectors printed as rows):")
        for layer, (inp, outp) in table.items():
            show(f"  {layer:<8} in ", inp.T)
            show(f"  {layer:<8} out", outp.T)
        show("  loss ℓ", loss_formula)
        z1 = W1 @ x + b1
        assert (z1 > 0).any() and (z1 < 0).any(), "pick a point with active and inactive hidden units"
        """),
        md(r"""
        ## 1.2(c) The backward pass in numerator layout

        Write $\boldsymbol{\delta} = \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}$
        ($1\times K$), the derivative of $\ell$ with respect to $\boldsymbol{z}_3$. The chain rule in numerator layout
        multiplies Jacobians **left to right from the loss**:

        * $\mathrm{Linear}_2$: $\boldsymbol{z}_3 = \boldsymbol{W}^{(2)}\boldsymbol{z}_2+\boldsymbol{b}^{(2)}$, so
          $\partial\boldsymbol{z}_3/\partial\boldsymbol{b}^{(2)} = I_K$ and
          $\partial\ell/\partial W^{(2)}_{ij} = \delta_i\, z_{2,j}$. Collecting the entries $(j,i)$ gives an $h\times K$ matrix,
          the outer product $\boldsymbol{z}_2\boldsymbol{\delta}$. With $\boldsymbol{z}_2 = 5(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+$:

        $$\frac{\partial\ell}{\partial\boldsymbol{b}^{(2)}} = \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\quad(1\times K),
        \qquad
        \frac{\partial\ell}{\partial\boldsymbol{W}^{(2)}} = 5\,(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})^+\,
        \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\quad(h\times K).$$

        * Through $\mathrm{Linear}_2$ and $f$: $\partial\boldsymbol{z}_3/\partial\boldsymbol{z}_2 = \boldsymbol{W}^{(2)}$ ($K\times h$), so
          $\partial\ell/\partial\boldsymbol{z}_1 = \boldsymbol{\delta}\,\boldsymbol{W}^{(2)}\,\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ ($1\times h$), and the same
          two rules for $\mathrm{Linear}_1$ (input $\boldsymbol{x}$) give

        $$\frac{\partial\ell}{\partial\boldsymbol{b}^{(1)}} = \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}\quad(1\times h),
        \qquad
        \frac{\partial\ell}{\partial\boldsymbol{W}^{(1)}} = \boldsymbol{x}\,\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}\quad(n\times h).$$

        Every product is shape-consistent: $(1\times K)(K\times K)(K\times h)(h\times h) = 1\times h$, and
        $(n\times 1)(1\times h) = n\times h$. PyTorch's `.grad` is the transpose:
        `W2.grad` $= (\partial\ell/\partial\boldsymbol{W}^{(2)})^\top$ ($K\times h$), `b2.grad` $= (\partial\ell/\partial\boldsymbol{b}^{(2)})^\top$ flattened.
        """),
        code("""\
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
        """),
        md(r"""
        The transpose is not optional: compared *without* it, the shapes disagree ($h\times K$ against $K\times h$) and
        the check says so. And `mlp.py`, which stores gradients in `.grad`'s layout for a *mean* loss, agrees once the
        factor $K$ is put back: `mlp.mse_loss` returns $J = \ell/K$ and $\partial J/\partial\hat{\boldsymbol{y}} = (\partial\ell/\partial\hat{\boldsymbol{y}})^\top/K$.
        """),
        code("""\
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
        """),
        md(r"""
        ## 1.2(d) The elements of $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$, $\partial\hat{\boldsymbol{y}}/\partial\boldsymbol{z}_3$ and $\partial\ell/\partial\hat{\boldsymbol{y}}$

        $f$ acts element by element, so $z_{2,i}$ depends on $z_{1,i}$ only and the Jacobian is diagonal. The slope of
        $5\,\mathrm{ReLU}$ is **5** where the unit is active (not 1):

        $$\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1} = \mathrm{diag}\big(5\cdot\mathbb{1}[z_{1,1}>0],\ \dots,\ 5\cdot\mathbb{1}[z_{1,h}>0]\big)\in\mathbb{R}^{h\times h},
        \qquad \left(\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}\right)_{ij} = \begin{cases}5 & i=j,\ z_{1,i}>0\\ 0 & \text{otherwise}\end{cases}$$

        (at $z_{1,i}=0$ we take 0, as PyTorch does),

        $$\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3} = I_K\in\mathbb{R}^{K\times K},
        \qquad
        \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}} = 2(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top
        = \big[2(\hat y_1-y_1),\ \dots,\ 2(\hat y_K-y_K)\big]\in\mathbb{R}^{1\times K}.$$

        `torch.autograd.functional.jacobian` of a function from $\mathbb{R}^p$ to $\mathbb{R}^m$ returns the $m\times p$ matrix
        with rows = outputs — numerator layout. For a scalar output it returns the input's shape $(K,)$, which we
        read as the $1\times K$ row.
        """),
        code("""\
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
        """),
        md(r"""
        **Summary.** Forward: $\boldsymbol{z}_1\in\mathbb{R}^h$, $\boldsymbol{z}_2 = 5\boldsymbol{z}_1^+$, $\hat{\boldsymbol{y}} = \boldsymbol{z}_3\in\mathbb{R}^K$.
        Backward (numerator layout): $\partial\ell/\partial\boldsymbol{W}^{(2)}$ is $h\times K$, $\partial\ell/\partial\boldsymbol{W}^{(1)}$ is $n\times h$,
        bias derivatives are rows; `.grad` is their transpose. Notebook 02 changes $f$, $g$ and the loss;
        notebook 05 shows what the checks above print when one of these formulas is written wrong.
        """),
    ]

# =============================================================================
# 02 — Classification (question 1.3)
# =============================================================================
def nb02():
    return [
        md(r"""
        # 02 · Classification — homework question 1.3

        Same network as notebook 01 ($\boldsymbol{x}\in\mathbb{R}^n \to \boldsymbol{z}_1 \to \boldsymbol{z}_2 \to \boldsymbol{z}_3 \to \hat{\boldsymbol{y}}\in\mathbb{R}^K$,
        hidden size $h$), same **numerator layout** ($\partial\ell/\partial\hat{\boldsymbol{y}}$ is $1\times K$, a scalar's derivative
        with respect to a $K\times h$ matrix is $h\times K$, `.grad` is its transpose). Now $f=\tanh$ and $g=\sigma$,
        $\sigma(z) = 1/(1+e^{-z})$:

        * **1.3(a)** keep the loss $\ell = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$ (a sum over the $K$ outputs);
        * **1.3(b)** switch to $\ell_{\mathrm{BCE}} = \frac1K\sum_{i=1}^K -\big[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\big]$;
        * **1.3(c)** why $f=\mathrm{ReLU}$ helps deeper networks — an experiment.
        """),
        code(setup=True, text="""\
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
            \"\"\"1.3's network for one column vector x: returns z1, z2, z3, ŷ.\"\"\"
            z1 = W1 @ x + b1
            z2 = torch.tanh(z1)
            z3 = W2 @ z2 + b2
            return z1, z2, z3, torch.sigmoid(z3)


        def numerator_grads(x, W2, dl_dyhat, dyhat_dz3, dz2_dz1, z2):
            \"\"\"The four formulas of 1.2(c), unchanged in form (numerator layout).\"\"\"
            delta = dl_dyhat @ dyhat_dz3                                 # 1×K
            return {"W1": x @ (delta @ W2 @ dz2_dz1),                    # n×h
                    "b1": delta @ W2 @ dz2_dz1,                          # 1×h
                    "W2": z2 @ delta,                                    # h×K
                    "b2": delta}                                         # 1×K


        def check_against_autograd(ours, loss_fn):
            \"\"\"cmp each numerator-layout gradient, transposed, with autograd's gradient (parameter's shape).\"\"\"
            refs = autograd_grad(loss_fn, W1, b1, W2, b2)
            return all([cmp(f"dl/d{name}ᵀ", ours[name].T, ref) for name, ref in zip(["W1", "b1", "W2", "b2"], refs)])
        """),
        md(r"""
        ## 1.3(a) $f=\tanh$, $g=\sigma$, same MSE loss: what changes

        **In (b), the forward table**, only the two activation rows change:

        | layer | input | output |
        |-------|-------|--------|
        | $\mathrm{Linear}_1$ | $\boldsymbol{x}$ | $\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ |
        | $f$ | $\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ | $\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})$ |
        | $\mathrm{Linear}_2$ | $\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})$ | $\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}$ |
        | $g$ | $\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}$ | $\sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)$ |
        | loss | $\hat{\boldsymbol{y}}$, $\boldsymbol{y}$ | $\big\|\sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)-\boldsymbol{y}\big\|^2$ |

        **In (c), the gradients**, written with the allowed Jacobian symbols, keep their form. The one place where
        $f$'s *value* appears, the input of $\mathrm{Linear}_2$, changes from $5(\cdot)^+$ to $\tanh(\cdot)$:

        $$\frac{\partial\ell}{\partial\boldsymbol{W}^{(2)}} = \tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})\,\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}\ (h\times K),
        \quad
        \frac{\partial\ell}{\partial\boldsymbol{b}^{(2)}},\ \frac{\partial\ell}{\partial\boldsymbol{b}^{(1)}},\ \frac{\partial\ell}{\partial\boldsymbol{W}^{(1)}}\ \text{as in 1.2(c)}.$$

        **In (d), the elements**: the two activation Jacobians change, $\partial\ell/\partial\hat{\boldsymbol{y}}$ does not:

        $$\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1} = \mathrm{diag}\big(1-\tanh^2(\boldsymbol{z}_1)\big)\in\mathbb{R}^{h\times h},\qquad
        \frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3} = \mathrm{diag}\big(\sigma(\boldsymbol{z}_3)\odot(1-\sigma(\boldsymbol{z}_3))\big)\in\mathbb{R}^{K\times K},\qquad
        \frac{\partial\ell}{\partial\hat{\boldsymbol{y}}} = 2(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top\in\mathbb{R}^{1\times K},$$

        with $\boldsymbol{z}_1 = \boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$ and $\boldsymbol{z}_3 = \boldsymbol{W}^{(2)}\tanh(\boldsymbol{z}_1)+\boldsymbol{b}^{(2)}$.
        """),
        code("""\
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
        """),
        code("""\
        # (c) the same four formulas, now with tanh's and σ's Jacobians, against autograd
        ours_mse = numerator_grads(x, W2, dl_dyhat, dyhat_dz3, dz2_dz1, torch.tanh(W1 @ x + b1))
        for name, g in ours_mse.items():
            print(f"dl/d{name}: numerator-layout shape {tuple(g.shape)}")
        mse = lambda W1, b1, W2, b2: ((forward(x, W1, b1, W2, b2)[3] - y) ** 2).sum()
        assert check_against_autograd(ours_mse, mse)
        """),
        md(r"""
        ## 1.3(b) Binary cross-entropy: what changes, and why $\partial\ell/\partial\boldsymbol{z}_3 = (\hat{\boldsymbol{y}}-\boldsymbol{y})^\top/K$

        **(b) forward table:** unchanged except the loss row, which becomes
        $\ell = \frac1K\sum_i -\big[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\big]$ with
        $\hat{\boldsymbol{y}} = \sigma\big(\boldsymbol{W}^{(2)}\tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)}\big)$.

        **(d) elements:** $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ and $\partial\hat{\boldsymbol{y}}/\partial\boldsymbol{z}_3$ are those of 1.3(a). The loss
        derivative changes. Each term depends on its own $\hat y_i$, and
        $\frac{d}{d\hat y}\big(-y\log\hat y-(1-y)\log(1-\hat y)\big) = -\frac{y}{\hat y}+\frac{1-y}{1-\hat y} = \frac{\hat y-y}{\hat y(1-\hat y)}$, so

        $$\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}} = \frac1K\left[\frac{\hat y_1-y_1}{\hat y_1(1-\hat y_1)},\ \dots,\ \frac{\hat y_K-y_K}{\hat y_K(1-\hat y_K)}\right]\in\mathbb{R}^{1\times K}
        \qquad(\text{note the } \tfrac1K \text{ and the sign: } \hat y - y).$$

        **(c) gradients:** multiply by $\partial\hat{\boldsymbol{y}}/\partial\boldsymbol{z}_3 = \mathrm{diag}(\hat y_i(1-\hat y_i))$: entry $i$ becomes
        $\frac1K\frac{\hat y_i-y_i}{\hat y_i(1-\hat y_i)}\cdot\hat y_i(1-\hat y_i) = \frac{\hat y_i-y_i}{K}$. The factor that could vanish
        cancels:

        $$\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3} = \frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K},\qquad
        \frac{\partial\ell}{\partial\boldsymbol{W}^{(2)}} = \tanh(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})\frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K},\quad
        \frac{\partial\ell}{\partial\boldsymbol{b}^{(2)}} = \frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K},$$
        $$\frac{\partial\ell}{\partial\boldsymbol{b}^{(1)}} = \frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1},\quad
        \frac{\partial\ell}{\partial\boldsymbol{W}^{(1)}} = \boldsymbol{x}\frac{(\hat{\boldsymbol{y}}-\boldsymbol{y})^\top}{K}\boldsymbol{W}^{(2)}\frac{\partial\boldsymbol{z}_2}{\partial\boldsymbol{z}_1}.$$

        The same derivation, one step at a time, in sympy (one output, so the sum has one term; the $\frac1K$ stays):
        """),
        code("""\
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
        """),
        code("""\
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
        """),
        md(r"""
        ### Why the fused form (BCE-with-logits) is numerically safer

        Computed in two stages, the loss first rounds $\hat y = \sigma(z_3)$ and then takes $\log(1-\hat y)$. For a
        confident wrong logit the rounding destroys everything: in float32, $\sigma(40)$ *is* 1.0, so $\log(1-\hat y)=-\infty$.
        Autograd then multiplies $\partial\ell/\partial\hat y = \infty$ by $\sigma'(40)=0$ and gets NaN. `nn.BCELoss` clamps
        $\log$ at $-100$ so the loss stays finite (100, not 40) — but the gradient through the rounded $\hat y$ is still
        $0$, although the true gradient is $\sigma(40)-0\approx 1$: the most wrong output stops learning.

        The fused form never forms $\log(1-\sigma(z))$. It uses the identity
        $-[y\log\sigma(z)+(1-y)\log(1-\sigma(z))] = \max(z,0) - yz + \log(1+e^{-|z|})$ (no overflow, no $\log 0$) and its
        gradient is exactly the simplified $\sigma(z)-y$ derived above.
        """),
        code("""\
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
        """),
        md(r"""
        ## 1.3(c) Why $f = \mathrm{ReLU}$ helps deeper networks — an experiment

        Backpropagation through $L$ layers multiplies, per layer, by $\boldsymbol{W}^{(l)}$ and by the activation's
        Jacobian $\mathrm{diag}(f'(\boldsymbol{z}_l))$. So each layer scales the gradient by roughly
        (weight scale) × (typical $|f'|$), and after many layers that factor is raised to a high power.

        * $\sigma'(z) = \sigma(z)(1-\sigma(z)) \le \tfrac14$: every sigmoid layer shrinks the gradient at least four-fold
          unless the weights are large — and large weights push $z$ into the flat tails where $\sigma'\approx 0$.
        * $\tanh'(z) = 1-\tanh^2(z) \le 1$, with equality only at $z=0$; it *saturates* as $|z|$ grows.
        * $\mathrm{ReLU}'(z) = 1$ on the active side, exactly, however large $z$ is: active units pass the gradient
          unchanged, so the weights alone set the scale (the He initialisation, variance $2/\text{fan-in}$, makes it
          constant in depth). Inactive units give exact zeros — sparse activations and sparse gradients, and cheap.

        The experiment: 20 hidden layers of width 64, **the same initialisation for every net** (He / Kaiming normal,
        zero biases, same seed), a batch of 128 random inputs, a linear read-out and an MSE loss; we measure the
        norm of $\partial L/\partial\boldsymbol{W}^{(l)}$ for every layer $l$, and the mean of $f'(\boldsymbol{z}_l)$.
        """),
        code("""\
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
            \"\"\"f'(z) element-wise, by autograd: for an element-wise f, d(Σ f(z))/dz_i = f'(z_i).\"\"\"
            z = z.clone().requires_grad_(True)
            return torch.autograd.grad(f(z).sum(), z)[0]


        stats = {act: layer_stats(act) for act in activations}
        print(f"{'layer':>5}" + "".join(f"{a + ' ‖∂L/∂W‖':>18}" for a in activations))
        for l in [0, 4, 9, 14, 19]:
            print(f"{l + 1:>5}" + "".join(f"{stats[a][0][l]:>18.2e}" for a in activations))
        for act in activations:
            norms = stats[act][0]
            print(f"{act:<8} first/last layer gradient norm: {norms[0] / norms[-1]:.1e}")
        """),
        code("""\
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
        """),
        md(r"""
        What the numbers say, and the checks that hold them to it:

        * **sigmoid**: the gradient reaching the first layer is smaller than at the last layer by the factor printed
          above (about $10^{-9}$); every layer's mean slope is below $\tfrac14$. The early layers cannot learn.
        * **ReLU**: the gradient norm stays within a small factor from layer 20 to layer 1. On active units the slope is
          exactly 1 (about half the units are active), so nothing in the activation shrinks the signal.
        * **tanh** also survives at this initialisation, because its inputs are near 0 where $\tanh'\approx 1$. Its weak
          point is saturation: the table below scales the pre-activations up (as happens when weights grow during
          training) — $\tanh'$ collapses, while ReLU's slope on active units stays exactly 1.
        """),
        code("""\
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
        """),
    ]

# =============================================================================
# 03 — Deriving loss functions (question 1.4)
# =============================================================================
def nb03():
    return [
        md(r"""
        # 03 · Deriving loss functions from an update rule — homework question 1.4

        Three classic algorithms share one update rule for a single example $(\boldsymbol{x}, y)$:

        $$w_i \leftarrow w_i + \eta\,(y-\hat y)\,x_i,\qquad b \leftarrow b + \eta\,(y-\hat y),\qquad
        z = b+\sum_{i=1}^d w_i x_i,$$

        and differ only in the prediction $\hat y$. We look for a loss $L$ such that **gradient descent on $L$ is this
        rule**: $w_i \leftarrow w_i - \eta\,\partial L/\partial w_i$. Writing the bias as a weight $w_0 = b$ on a constant
        input $x_0 = 1$, the requirement for every $i$ is

        $$\frac{\partial L}{\partial w_i} = -(y-\hat y)\,x_i .$$

        $L$ depends on the weights only through $z$, and $\partial z/\partial w_i = x_i$, so by the chain rule
        $\partial L/\partial w_i = \frac{dL}{dz}\,x_i$. The requirement therefore reduces to **one scalar equation**:

        $$\frac{dL}{dz} = \hat y(z) - y \qquad\Longrightarrow\qquad L(z) = \int \big(\hat y(z) - y\big)\,dz .$$

        If instead $dL/dz = c\,(\hat y - y)$ with a constant $c>0$, gradient descent with step $\eta/c$ gives the same
        weights: such a factor is absorbed in the learning rate. Each derivation below is checked symbolically, and a
        simulation runs the update rule and gradient descent (autograd) on the derived loss side by side: the weight
        trajectories must agree to rounding error.
        """),
        code(setup=True, text="""\
        import math

        import matplotlib.pyplot as plt
        import sympy as sp
        import torch
        import torch.nn.functional as F

        from lab.figures import save_figure
        from lab.gradcheck import cmp
        from lab.theory import fmt

        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
        torch.manual_seed(0)
        N, d = 30, 2
        X = torch.cat([torch.ones(N, 1), torch.randn(N, d)], dim=1)        # column 0 is the constant input of b
        Y_class = torch.sign(X @ torch.tensor([-0.2, 1.0, 0.5]))             # labels in {-1, +1}
        Y_real = X @ torch.tensor([0.3, 1.5, -1.0]) + 0.1 * torch.randn(N)   # real targets (Adaline)
        w0 = torch.tensor([0.5, -1.0, 0.8])                                  # a nonzero start: z = 0 never happens
        EPOCHS = 3


        def run_rule(predict, Y, eta):
            \"\"\"The update rule w <- w + η (y - ŷ) x, one example at a time; returns every weight vector.\"\"\"
            w, path, zs = w0.clone(), [w0.clone()], []
            for _ in range(EPOCHS):
                for x, y in zip(X, Y):
                    z = w @ x
                    zs.append(z.item())
                    w = w + eta * (y - predict(z)) * x
                    path.append(w.clone())
            return torch.stack(path), zs


        def run_gd(loss, Y, eta):
            \"\"\"Gradient descent w <- w - η ∂L/∂w on the same examples in the same order, gradients by autograd.\"\"\"
            w, path = w0.clone(), [w0.clone()]
            for _ in range(EPOCHS):
                for x, y in zip(X, Y):
                    leaf = w.clone().requires_grad_(True)
                    loss(leaf @ x, y).backward()
                    w = w - eta * leaf.grad
                    path.append(w.clone())
            return torch.stack(path)
        """),
        md(r"""
        ## 1.4(1) Perceptron: $\hat y = \mathrm{sign}(z)$, labels $y\in\{-1,+1\}$

        **Step 1 — the condition.** $dL/dz = \mathrm{sign}(z) - y$.

        **Step 2 — integrate.** $\mathrm{sign}$ is constant on each side of 0, and $\int\mathrm{sign}(z)\,dz = |z|$ (away from
        $z=0$, $\frac{d}{dz}|z| = \mathrm{sign}(z)$). So

        $$L(z) = |z| - yz \;=\; -(y - \hat y)\,z \qquad(\text{because } \hat y\,z = \mathrm{sign}(z)\,z = |z|).$$

        **Step 3 — read it case by case.** Correct prediction, $\mathrm{sign}(z) = y$: then $|z| = yz$, so $L = 0$ and
        $y-\hat y = 0$ — no update, as in the rule. Mistake, $\mathrm{sign}(z) = -y$: then $|z| = -yz$, so $L = -2yz > 0$ and
        $dL/dz = -2y$, while the rule uses $y - \hat y = y-(-y) = 2y$ — they match. Both cases together:

        $$L(z) = 2\max(0,\,-yz).$$

        **Step 4 — the factor 2.** The textbook *perceptron criterion* is $\max(0,-yz)$, whose gradient on a mistake is
        $-y\,\boldsymbol{x}$, half of the rule's $-(y-\hat y)\boldsymbol{x} = -2y\,\boldsymbol{x}$. Gradient descent on it with step $2\eta$
        reproduces the rule exactly — the 2 is absorbed into the learning rate. (Starting from $\boldsymbol{w}=0$, the
        perceptron's decisions do not depend on $\eta$ at all: every weight vector is then $\eta$ times an integer
        combination of examples, and $\mathrm{sign}(z)$ ignores the scale.) (At $z=0$ exactly, $|z|$ has a kink; `torch.sign(0)` is 0,
        and any subgradient is a valid choice. The simulation asserts it never lands there.)
        """),
        code("""\
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
        """),
        code("""\
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
        """),
        md(r"""
        The third line is the control: gradient descent on $\max(0,-yz)$ with the *same* $\eta$ takes half-size steps and
        leaves the rule's trajectory — so the check can tell the factor apart.

        ## 1.4(2) Adaline / least mean squares: $\hat y = z$

        **Step 1.** $dL/dz = z - y$. **Step 2.** $L(z) = \int (z-y)\,dz = \tfrac12 z^2 - yz + C$.
        **Step 3.** Choosing $C = \tfrac12 y^2$ completes the square:

        $$L(z) = \tfrac12\,(y - z)^2 = \tfrac12\Big(y - b - \sum_i w_i x_i\Big)^2 .$$

        Gradient descent on it is the LMS (Widrow–Hoff) rule with the same $\eta$. Without the $\tfrac12$, the squared
        error $(y-z)^2$ has $dL/dz = 2(z-y)$: it reproduces the rule with step $\eta/2$.
        """),
        code("""\
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
        """),
        md(r"""
        ## 1.4(3) Logistic regression with $\hat y = \tanh(z)$, labels $y\in\{-1,+1\}$

        **Step 1.** $dL/dz = \tanh(z) - y$.

        **Step 2.** $\int\tanh z\,dz = \int \frac{\sinh z}{\cosh z}dz = \log\cosh z$ (substitute $u=\cosh z$, $du = \sinh z\,dz$). So

        $$L(z) = \log\cosh z - yz + C .$$

        **Step 3 — which familiar loss is this?** With $y = \pm1$, $\cosh z = \cosh(yz)$, so
        $\log\cosh z - yz = \log\frac{e^{yz}+e^{-yz}}{2} - yz = \log\big(1+e^{-2yz}\big) - \log 2$:

        $$L(z) = \log\big(1+e^{-2yz}\big) - \log 2 = \mathrm{softplus}(-2yz) - \log 2 .$$

        That is the logistic (binary cross-entropy) loss for the logit $2z$: since $\tanh z = 2\sigma(2z)-1$, the model
        says $P(y=+1) = p = \sigma(2z) = \frac{1+\hat y}{2}$, and with the 0/1 target $t = \frac{1+y}{2}$,
        $\mathrm{BCE}(p,t) = \mathrm{softplus}(-2yz)$. So $L = \mathrm{BCE}\big(\sigma(2z), \tfrac{1+y}2\big) - \log 2$: the constant
        does not change the gradient, and no learning-rate factor appears — gradient descent with the same $\eta$
        reproduces the rule. (The factor 2 sits inside the logit: a model written as $\sigma(u)$ with $u = z$ would be a
        different model, with gradient $\sigma(z) - t$, half as steep.)
        """),
        code("""\
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
        """),
        code("""\
        eta = 0.1
        rule_l, _ = run_rule(torch.tanh, Y_class, eta)
        gd_l = run_gd(lambda z, y: torch.log(torch.cosh(z)) - y * z, Y_class, eta)
        gd_l_bce = run_gd(lambda z, y: F.binary_cross_entropy_with_logits(2 * z, (1 + y) / 2), Y_class, eta)
        assert cmp("GD on logcosh-yz", gd_l, rule_l)
        assert cmp("GD on BCE(2z)", gd_l_bce, rule_l)
        print(f"final w = {fmt(rule_l[-1])}")
        """),
        md(r"""
        ## The three derived losses, and the trajectories side by side

        Left: each loss as a function of $z$ for a positive example ($y=+1$); the tanh-logistic loss is drawn with
        the constant $C=\log 2$ that makes its minimum value 0 (it equals $\mathrm{softplus}(-2z)$). Right three panels: every weight
        ($b, w_1, w_2$) after each example, for the update rule (lines) and for gradient descent on the derived loss
        (dots) — they coincide.
        """),
        code("""\
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
        """),
        md(r"""
        **Summary.** From $dL/dz = \hat y - y$:

        | algorithm | $\hat y$ | derived loss | learning-rate factor |
        |-----------|----------|--------------|----------------------|
        | perceptron | $\mathrm{sign}(z)$ | $\lvert z\rvert - yz = 2\max(0,-yz)$ | none; $\max(0,-yz)$ needs step $2\eta$ |
        | Adaline / LMS | $z$ | $\tfrac12(y-z)^2$ | none; $(y-z)^2$ needs step $\eta/2$ |
        | logistic ($\tanh$) | $\tanh z$ | $\log\cosh z - yz = \mathrm{softplus}(-2yz) - \log 2$ | none |
        """),
    ]

# =============================================================================
# 04 — Conceptual questions (question 1.5)
# =============================================================================
WIDGET_NOTE = ("# nbval-ignore-output (cell tag): Jupyter routes the slider's plot into the widget, but nbval does\n"
               "# not emulate widgets and sees it as an extra output; the static figure above is compared instead.\n")


def nb04():
    return [
        md(r"""
        # 04 · Concepts — homework question 1.5

        (a) softmax as a *soft* argmax · (b) a computational graph and backprop through it · (c) derivatives of four
        activations · (d) linear transformations and why networks need non-linear ones · (e) training as an argmin.

        The interactive cells (sliders) need a live kernel; each one comes after a static figure of the same thing,
        so a static renderer still shows the content.
        """),
        code(setup=True, text="""\
        import math

        import ipywidgets as widgets
        import matplotlib.pyplot as plt
        import sympy as sp
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon

        import mlp
        from lab.figures import save_figure
        from lab.gradcheck import autograd_grad, cmp
        from lab.theory import fmt, show

        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(1)   # tiny tensors: one thread is fastest, and sums add up in the same order everywhere
        _ = torch.manual_seed(0)
        """),
        md(r"""
        ## 1.5(a) Why softmax is really a *soft argmax*

        With a temperature $T>0$, $\;\mathrm{softmax}_T(\boldsymbol{z})_i = \dfrac{e^{z_i/T}}{\sum_j e^{z_j/T}}$.
        The hard $\arg\max$, written as a vector, is the one-hot $\boldsymbol{e}_{i^*}$ with $i^* = \arg\max_i z_i$: it is
        piecewise constant, so its gradient is zero almost everywhere and useless for learning.
        Softmax is a smooth replacement *for the argmax*, not for the max:

        * it is positive, sums to 1 and keeps the order of the $z_i$, the largest getting the most mass;
        * dividing by $e^{z_{i^*}/T}$: $\mathrm{softmax}_T(\boldsymbol{z})_i = e^{(z_i-z_{i^*})/T}\big/\sum_j e^{(z_j-z_{i^*})/T}$. As $T\to0$, every
          exponent with $z_j<z_{i^*}$ goes to $-\infty$: **the limit is the one-hot argmax**. As $T\to\infty$ all exponents
          go to 0: **the limit is uniform**, $1/K$;
        * the smooth version of the *max* is $T\log\sum_j e^{z_j/T}$ (log-sum-exp), and its gradient is exactly the softmax —
          just as the gradient of $\max_i z_i$ is the one-hot argmax. So softmax is to soft-max what argmax is to max.
        """),
        code("""\
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
        """),
        code("""\
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
        """),
        md("Interactive version (live kernel only): drag the temperature."),
        code(note=WIDGET_NOTE, text="""\
        def softmax_slider(T=1.0):
            fig, ax = plt.subplots(figsize=(5, 2.8))
            draw_softmax(ax, T)
            ax.set_ylabel("probability")
            plt.show()


        widgets.interactive(softmax_slider, T=widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.05,
                                                                     description="T"))
        """, tags=["nbval-ignore-output"]),
        md(r"""
        ## 1.5(b) The computational graph of $a = xy + z,\; b = (x+x)\,a,\; w = ab$

        Shapes used here: circles are values (inputs $x,y,z$ shaded, the named intermediates $a,b$ and the
        output $w$ white), rounded squares are operators. Two things make this graph instructive: **$x$ is used three
        times** (twice by the same $+$, once by the first $*$), and **$a$ is used twice** (by $b$'s $*$ and by $w$'s $*$).
        """),
        code("""\
        fig, ax = plt.subplots(figsize=(10, 4.6))
        values = {"x": (0, 3.6), "y": (0, 2.0), "z": (0, 0.4), "a": (5.6, 1.2), "b": (8.6, 3.6), "w": (11.6, 2.4)}
        ops = {"+₁": ("+", (2.6, 4.8)), "*₁": ("*", (2.6, 2.6)), "+₂": ("+", (4.2, 1.2)), "*₂": ("*", (7.2, 3.6)),
               "*₃": ("*", (10.2, 2.4))}
        edges = [("x", "+₁", 0.25), ("x", "+₁", -0.25), ("x", "*₁", 0), ("y", "*₁", 0), ("*₁", "+₂", 0), ("z", "+₂", 0),
                 ("+₂", "a", 0), ("+₁", "*₂", 0), ("a", "*₂", 0), ("*₂", "b", 0), ("a", "*₃", 0), ("b", "*₃", 0),
                 ("*₃", "w", 0)]
        position = {**values, **{k: pos for k, (_, pos) in ops.items()}}
        for name, (cx, cy) in values.items():
            ax.add_patch(Circle((cx, cy), 0.42, facecolor="#d9d9d9" if name in "xyz" else "white", edgecolor="black", lw=1.5))
            ax.text(cx, cy, name, ha="center", va="center", fontsize=15, style="italic")
        for name, (symbol, (cx, cy)) in ops.items():
            ax.add_patch(FancyBboxPatch((cx - 0.33, cy - 0.33), 0.66, 0.66, boxstyle="round,pad=0.05",
                                        facecolor="#fff2cc", edgecolor="black", lw=1.5))
            ax.text(cx, cy, symbol, ha="center", va="center", fontsize=18)
        for src, dst, rad in edges:
            ax.add_patch(FancyArrowPatch(position[src], position[dst], connectionstyle=f"arc3,rad={rad}",
                                         arrowstyle="-|>", mutation_scale=14, lw=1.3, shrinkA=17, shrinkB=17))
        ax.text(2.6, 5.45, "x + x", ha="center", fontsize=10, color="dimgray")
        ax.text(2.6, 1.95, "x · y", ha="center", fontsize=10, color="dimgray")
        ax.set(xlim=(-0.8, 12.4), ylim=(-0.3, 5.9), aspect="equal",
               title="Computational graph of a = x·y + z,  b = (x + x)·a,  w = a·b")
        ax.axis("off")
        save_figure(fig, "computational_graph")
        plt.show()
        """),
        md(r"""
        **Backprop by hand.** Write $\bar v = \partial w/\partial v$ (the *adjoint* of $v$). Start at $\bar w = 1$ and walk the
        graph backwards; at every node multiply by the local derivative, and where a value feeds several uses, **add** the
        contributions. With $s = x+x$ and $p = xy$:

        | node | local rule | adjoint |
        |------|------------|---------|
        | $w = ab$ | $\partial w/\partial a = b,\ \partial w/\partial b = a$ | $\bar b = a$, $\;\bar a \mathrel{+}= b$ |
        | $b = s\,a$ | $\partial b/\partial s = a,\ \partial b/\partial a = s$ | $\bar s = \bar b\,a$, $\;\bar a \mathrel{+}= \bar b\,s$ |
        | $a = p + z$ | both 1 | $\bar p = \bar a$, $\;\bar z = \bar a$ |
        | $s = x + x$ | 1 for each of the two edges | $\bar x \mathrel{+}= 2\bar s$ |
        | $p = xy$ | $\partial p/\partial x = y,\ \partial p/\partial y = x$ | $\bar x \mathrel{+}= \bar p\,y$, $\;\bar y = \bar p\,x$ |

        **Closed form** for comparison: $b = 2xa$, so $w = 2x\,a^2 = 2x(xy+z)^2$ and
        $\;\partial w/\partial x = 2a^2 + 4axy,\quad \partial w/\partial y = 4ax^2,\quad \partial w/\partial z = 4ax$.
        """),
        code("""\
        x, y, z_in = torch.tensor(1.5), torch.tensor(-2.0), torch.tensor(0.5)
        p = x * y; a = p + z_in; s = x + x; b = s * a; w = a * b          # forward
        print(f"forward: p = {p.item():g}, a = {a.item():g}, s = {s.item():g}, b = {b.item():g}, w = {w.item():g}")

        g = {"w": 1.0}                                                      # backward, node by node
        g["b"] = g["w"] * a
        g["a"] = g["w"] * b                 # first use of a (in w)
        g["s"] = g["b"] * a
        g["a"] = g["a"] + g["b"] * s        # second use of a (in b): add
        g["p"] = g["a"] * 1
        g["z"] = g["a"] * 1
        g["x"] = g["s"] * 1 + g["s"] * 1    # the two edges x → +
        g["x"] = g["x"] + g["p"] * y        # the edge x → *
        g["y"] = g["p"] * x
        print("adjoints: " + ", ".join(f"∂w/∂{k} = {float(v):g}" for k, v in g.items()))

        closed = {"x": 2 * a**2 + 4 * a * x * y, "y": 4 * a * x**2, "z": 4 * a * x}
        auto = dict(zip("xyz", autograd_grad(lambda x, y, z: (x * y + z) * ((x + x) * (x * y + z)), x, y, z_in)))
        for k in "xyz":
            assert cmp(f"∂w/∂{k} closed", g[k], closed[k])
            assert cmp(f"∂w/∂{k} autograd", g[k], auto[k])

        X_, Y_, Z_ = sp.symbols("x y z")
        A_ = X_ * Y_ + Z_
        W_ = A_ * ((X_ + X_) * A_)
        for var, formula in [(X_, 2 * A_**2 + 4 * A_ * X_ * Y_), (Y_, 4 * A_ * X_**2), (Z_, 4 * A_ * X_)]:
            assert sp.expand(sp.diff(W_, var) - formula) == 0
        print("sympy: the closed-form derivatives are exact")
        """),
        md(r"""
        ## 1.5(c) The derivatives of ReLU, LeakyReLU(0.01), Softplus(β=1) and GELU

        $$\mathrm{ReLU}'(z) = \begin{cases}1 & z>0\\0 & z<0\end{cases},\qquad
        \mathrm{LeakyReLU}'(z) = \begin{cases}1 & z>0\\0.01 & z<0\end{cases},\qquad
        \mathrm{Softplus}'(z) = \frac{d}{dz}\log(1+e^z) = \frac{e^z}{1+e^z} = \sigma(z),$$
        $$\mathrm{GELU}(z) = z\,\Phi(z)\ \Rightarrow\ \mathrm{GELU}'(z) = \Phi(z) + z\,\varphi(z),\qquad
        \varphi(z) = \tfrac{1}{\sqrt{2\pi}}e^{-z^2/2},\ \Phi = \text{its CDF}.$$

        At $z=0$, ReLU and LeakyReLU have a kink; PyTorch uses the value from the left (0 and 0.01). GELU' dips below 0
        (minimum $\approx -0.129$ at $z=-\sqrt2$, where $\mathrm{GELU}'' = \varphi(z)(2-z^2)$ vanishes) and overshoots 1 (maximum
        $\approx 1.129$ at $z=+\sqrt2$). The analytic curves are `mlp.py`'s
        backward functions; the dots are autograd's derivatives of `torch.nn.functional`'s activations.
        """),
        code("""\
        zs = torch.linspace(-4, 4, 801)                      # includes z = 0 exactly
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
        """),
        code("""\
        fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
        for ax, (name, (f_vals, analytic, auto)) in zip(axes.flat, derivs.items()):
            ax.plot(zs, f_vals, color="gray", ls="--", lw=1, label=f"{name}(z)")
            ax.plot(zs, analytic, color="tab:blue", lw=2, label="derivative: analytic (mlp.py)")
            ax.plot(zs[::40], auto[::40], "o", color="tab:orange", ms=4, label="derivative: autograd")
            ax.set(title=f"d/dz {name}", xlabel="z", ylabel="value", ylim=(-0.3, 1.3))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="upper left")
        fig.suptitle("Derivatives of four activation functions (function dashed)")
        fig.tight_layout()
        save_figure(fig, "activation_derivatives")
        plt.show()
        """),
        md(r"""
        ## 1.5(d) Four kinds of linear transformation, and the role of linear vs non-linear layers

        In the plane, a linear map is a $2\times2$ matrix $A$; it sends the origin to itself and straight lines to straight
        lines, and it multiplies every area by $|\det A|$.

        | kind | matrix | what it preserves |
        |------|--------|-------------------|
        | scaling | $\begin{pmatrix}s_x&0\\0&s_y\end{pmatrix}$ | axis directions; area × $s_xs_y$ |
        | rotation by $\theta$ | $\begin{pmatrix}\cos\theta&-\sin\theta\\ \sin\theta&\cos\theta\end{pmatrix}$ | lengths, angles, orientation ($R^\top R = I$, $\det = 1$) |
        | reflection across the line at angle $\varphi$ | $\begin{pmatrix}\cos2\varphi&\sin2\varphi\\ \sin2\varphi&-\cos2\varphi\end{pmatrix}$ | lengths, angles; flips orientation ($\det=-1$, $H^2=I$) |
        | shear by $k$ | $\begin{pmatrix}1&k\\0&1\end{pmatrix}$ | area ($\det=1$) and the $x$-axis; not angles |

        (Every matrix is a combination of these: the SVD writes it as rotation/reflection · scaling · rotation/reflection.)
        The checks: the shoelace area of the transformed letter equals $|\det A|$ times the original, and each matrix
        has its defining property.
        """),
        code("""\
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
        """),
        code("""\
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
        """),
        md("Interactive version (live kernel only): move the sliders."),
        code(note=WIDGET_NOTE, text="""\
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
        """, tags=["nbval-ignore-output"]),
        md(r"""
        **Role of the linear layers:** they mix, rotate, stretch and project the features — all the *learnable*
        structure is in $\boldsymbol{W}$ and $\boldsymbol{b}$. **But linear layers alone collapse:**
        $\boldsymbol{W}^{(3)}(\boldsymbol{W}^{(2)}(\boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)})+\boldsymbol{b}^{(2)})+\boldsymbol{b}^{(3)} = \boldsymbol{W}\boldsymbol{x}+\boldsymbol{b}$ with
        $\boldsymbol{W} = \boldsymbol{W}^{(3)}\boldsymbol{W}^{(2)}\boldsymbol{W}^{(1)}$ and $\boldsymbol{b} = \boldsymbol{W}^{(3)}(\boldsymbol{W}^{(2)}\boldsymbol{b}^{(1)}+\boldsymbol{b}^{(2)})+\boldsymbol{b}^{(3)}$: depth adds
        nothing. **The non-linearity** between them is what lets the composition bend: e.g. XOR on $\{0,1\}^2$ cannot be
        fitted by any affine map (the best one predicts 0.5 everywhere), yet
        $\mathrm{XOR}(x_1,x_2) = \mathrm{ReLU}(x_1+x_2) - 2\,\mathrm{ReLU}(x_1+x_2-1)$ — two hidden ReLU units — fits it exactly.
        """),
        code("""\
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
        """),
        md(r"""
        ## 1.5(e) Training as an argmin of the empirical MSE

        Given data $\{\boldsymbol{x}_i\}_{i=1}^N$ with labels $\{\boldsymbol{y}_i\}_{i=1}^N$ and the per-example loss
        $\ell(\hat{\boldsymbol{y}},\boldsymbol{y}) = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$, training the network $F_\theta$ means finding

        $$\theta^* = \arg\min_{\theta}\ \mathcal{L}(\theta),\qquad \mathcal{L}(\theta) = \frac1N\sum_{i=1}^N \big\|F_\theta(\boldsymbol{x}_i)-\boldsymbol{y}_i\big\|^2 ,$$

        in practice approximately, by (stochastic) gradient descent $\theta\leftarrow\theta-\eta\nabla_\theta\mathcal{L}$.
        A worked example where the argmin is known in closed form: the linear model $F_\theta(\boldsymbol{x}) = \boldsymbol{W}\boldsymbol{x}+\boldsymbol{b}$
        ($\boldsymbol{x}\in\mathbb{R}^2$, $\boldsymbol{y}\in\mathbb{R}^2$). With $\tilde{X} = [X\ \mathbf{1}]$, setting $\nabla_\theta\mathcal{L} = 0$ gives the normal
        equations $\tilde X^\top\tilde X\,\Theta = \tilde X^\top Y$. Gradient descent must land on the same $\theta^*$.
        """),
        code("""\
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
        """),
    ]

# =============================================================================
# 05 — Common mistakes
# =============================================================================
def nb05():
    return [
        md(r"""
        # 05 · Common mistakes — and the checks that catch them

        Written answers to questions 1.2–1.4 go wrong silently; code does not. Each section below takes one mistake
        that really appears in student write-ups we reviewed (four answer sheets, two course years — the source is
        named by file and question, the mistake described in our own words), writes the **wrong** formula as code, and
        runs the same check the earlier notebooks use. The verdict line must say `MISMATCH` (or the matrix product
        must fail on its shapes) — and an `assert` makes sure it does, so this notebook fails if a check ever stops
        catching the mistake. Each wrong formula is shown next to the right one, which passes.

        Setting: the network of question 1.2 ($f = 5\,\mathrm{ReLU}$, $g$ = identity, $\ell = \|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$) and of
        question 1.3 ($f=\tanh$, $g=\sigma$, BCE), with $n=3$, $h=4$, $K=2$ — $h\ne K$ on purpose, so that a
        transposed or wrongly-sized matrix cannot hide. Reference values come from autograd, in numerator layout
        (autograd's `.grad` transposed; see notebook 01).
        """),
        code(setup=True, text="""\
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
            \"\"\"Run a matrix product that should not type-check; report torch's error. True if it failed.\"\"\"
            try:
                product()
            except RuntimeError as err:
                print("   shape error:", str(err).splitlines()[0])
                return True
            return False
        """),
        md(r"""
        ## Mistake 1 — the slope of $5\,\mathrm{ReLU}$ taken as 1 instead of 5

        *Seen in:* `004` question 1.2(d), which gives the diagonal of $\partial\boldsymbol{z}_2/\partial\boldsymbol{z}_1$ as 1 or 0; the same sheet's
        1.2(b) table also drops the factor 5 from $f$'s output. The derivative of $5\max(0,z)$ is $5$ for $z>0$.
        """),
        code("""\
        J_f = jacobian(lambda v: 5 * torch.relu(v), z1.flatten())
        assert cmp("right dz2/dz1", dz2_dz1, J_f)
        wrong = torch.diag(1.0 * (z1.flatten() > 0))
        assert not cmp("slope 1", wrong, J_f)
        # the error propagates into every gradient below f
        assert not cmp("→ dl/dW1", x @ (delta @ W2 @ wrong), ref["W1"])
        # and the forward pass without the 5 predicts something else
        assert not cmp("→ ŷ without 5", W2 @ torch.relu(W1 @ x + b1) + b2, y_hat)
        """),
        md(r"""
        ## Mistake 2 — sigmoid used where the question says $f = \tanh$

        *Seen in:* `004` question 1.3(a): the forward table applies $\sigma$ to the hidden layer and the
        Jacobian is written as $\mathrm{diag}(z_2(1-z_2))$, the sigmoid's. Question 1.3 sets $f=\tanh$, whose Jacobian is
        $\mathrm{diag}(1-\tanh^2(\boldsymbol{z}_1))$.
        """),
        code("""\
        J_tanh = jacobian(torch.tanh, z1.flatten())
        assert cmp("right tanh'", torch.diag(1 - torch.tanh(z1.flatten()) ** 2), J_tanh)
        s = torch.sigmoid(z1.flatten())
        assert not cmp("σ(1-σ) for f", torch.diag(s * (1 - s)), J_tanh)
        assert not cmp("z2 = σ(z1)", torch.sigmoid(z1), torch.tanh(z1))
        """),
        md(r"""
        ## Mistake 3 — the BCE derivative with its sign flipped and the $\frac1K$ dropped

        *Seen in:* `004` question 1.3(b), whose $\partial\ell/\partial\hat{\boldsymbol{y}}$ has $\frac{y}{\hat y}-\frac{1-y}{1-\hat y}$ — the negative of the
        right expression — with no $\frac1K$, and arranged as a $K\times K$ diagonal matrix instead of a $1\times K$ row;
        and `001` question 1.3(b), with the right sign but no $\frac1K$. The right one (notebook 02):
        $\partial\ell/\partial\hat{\boldsymbol{y}} = \frac1K\big[\frac{\hat y_i-y_i}{\hat y_i(1-\hat y_i)}\big]_i$, a $1\times K$ row.
        A flipped sign is the worst of the three: a gradient step then *climbs* the loss.
        """),
        code("""\
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
        """),
        md(r"""
        ## Mistake 4 — gradients in denominator layout

        *Seen in:* `000` questions 1.2(c)–(d) and `002` questions 1.2(c)–(d): $\partial\ell/\partial\hat{\boldsymbol{y}}$ written as a $K\times1$
        column and $\partial\ell/\partial\boldsymbol{W}^{(2)}$ as a $K\times h$ matrix (input-shaped, like PyTorch's `.grad`). The homework
        demands numerator layout — $1\times K$ and $h\times K$ — and counts a missing transpose as wrong. The numbers are
        right, the layout is not; and mixing the two layouts in one chain rule produces products that do not exist
        (`002`'s $\partial\ell/\partial\boldsymbol{z}_1$ multiplies an $h\times1$ column by the $h\times h$ Jacobian from the right).
        """),
        code("""\
        J_l = jacobian(lambda v: ((v - y.flatten()) ** 2).sum(), y_hat.flatten()).reshape(1, K)   # numerator: 1×K
        assert cmp("right dl/dŷ", dl_dyhat, J_l)
        assert not cmp("dl/dŷ column", 2 * (y_hat - y), J_l)
        assert cmp("right dl/dW2", z2 @ delta, ref["W2"])
        dW2_denominator = delta.T @ z2.T                                 # K×h
        assert not cmp("dl/dW2 K×h", dW2_denominator, ref["W2"])
        assert cmp("... its ᵀ", dW2_denominator.T, ref["W2"])            # right numbers, wrong layout
        # mixing layouts: (h×1 column) times (h×h Jacobian) on the right
        assert shape_error(lambda: (W2.T @ delta.T) @ dz2_dz1)
        """),
        md(r"""
        ## Mistake 5 — an identity matrix of the wrong size

        *Seen in:* `002` question 1.2(c), which writes $\partial\boldsymbol{z}_1/\partial\boldsymbol{b}^{(1)} = I_K$. Since $\boldsymbol{z}_1 = \boldsymbol{W}^{(1)}\boldsymbol{x}+\boldsymbol{b}^{(1)}$
        has $h$ entries, the Jacobian is $I_h$. With $h = K$ this slips through unnoticed; here $h \ne K$.
        """),
        code("""\
        J_b1 = jacobian(lambda v: W1 @ x.flatten() + v, b1.flatten())
        assert cmp("right I_h", torch.eye(h), J_b1)
        assert not cmp("I_K", torch.eye(K), J_b1)
        dl_dz1 = delta @ W2 @ dz2_dz1                                     # 1×h
        assert shape_error(lambda: dl_dz1 @ torch.eye(K))
        assert cmp("right dl/db1", dl_dz1 @ torch.eye(h), ref["b1"])
        """),
        md(r"""
        ## Mistake 6 — the right factors in an order that does not multiply

        *Seen in:* `001` question 1.2(c): $\partial\ell/\partial\boldsymbol{W}^{(2)}$ is written as $\frac{\partial\ell}{\partial\hat{\boldsymbol{y}}}\frac{\partial\hat{\boldsymbol{y}}}{\partial\boldsymbol{z}_3}$ times $\boldsymbol{z}_2$
        *on the right* (a $1\times K$ row times an $h\times1$ column), and $\partial\ell/\partial\boldsymbol{W}^{(1)}$ ends with $\boldsymbol{x}$ on the
        right (a $1\times h$ row times an $n\times1$ column). In numerator layout the input vector goes on the **left**:
        $\boldsymbol{z}_2\,\boldsymbol{\delta}$ and $\boldsymbol{x}\,(\cdots)$ — outer products.
        """),
        code("""\
        assert shape_error(lambda: delta @ z2)
        assert shape_error(lambda: (delta @ W2 @ dz2_dz1) @ x)
        assert cmp("right dl/dW2", z2 @ delta, ref["W2"])
        assert cmp("right dl/dW1", x @ (delta @ W2 @ dz2_dz1), ref["W1"])
        """),
        md(r"""
        ## Mistake 7 — `nn.MSELoss()` for the homework's $\|\hat{\boldsymbol{y}}-\boldsymbol{y}\|^2$

        *Seen in:* `001` question 1.2(a), which trains the sum-of-squares loss with `nn.MSELoss()`. That loss is the
        *mean* over the $K$ outputs: its gradients are $\frac1K$ of the homework's, which silently changes the learning
        rate by a factor $K$ (notebook 01 puts the factor back explicitly).
        """),
        code("""\
        mse_mean = lambda *p: nn.MSELoss()(regression(*p)[3], y)
        grads_mean = autograd_grad(mse_mean, W1, b1, W2, b2)
        assert not cmp("MSELoss dW1", grads_mean[0].T, ref["W1"])
        assert cmp("MSELoss dW1 · K", K * grads_mean[0].T, ref["W1"])
        """),
        md(r"""
        ## Mistake 8 — an integration slip in the tanh-logistic loss (question 1.4(3))

        *Seen in:* `000` question 1.4(3). To reproduce the update rule, the loss must satisfy
        $\frac{dL}{d\hat y} = \frac{\hat y - y}{1-\hat y^2}$ (with $\hat y=\tanh z$). The intermediate antiderivative on that sheet,
        $-\tfrac12\big[(1+\hat y)\log(1+\hat y) + (1-\hat y)\log(1-\hat y)\big]$, has $\hat y$ where the label $y$ belongs in the
        two coefficients, so it does not depend on $y$ at all — its derivative is $-\operatorname{artanh}\hat y$. (The sheet's final
        answer, with $y$ in those places, is right: it equals $\log\cosh z - yz$ from notebook 03.)
        """),
        code("""\
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
        """),
        md(r"""
        ## Summary

        | # | mistake | where we saw it | what catches it |
        |---|---------|-----------------|-----------------|
        | 1 | $5\,\mathrm{ReLU}$' as 1/0, and the 5 missing in the forward pass | `004` 1.2(b), 1.2(d) | `cmp` vs `jacobian`; downstream gradient |
        | 2 | sigmoid where $f=\tanh$ | `004` 1.3(a) | `cmp` of forward value and Jacobian |
        | 3 | BCE derivative: sign flipped, $\frac1K$ dropped, $K\times K$ | `004` 1.3(b); $\frac1K$ only: `001` 1.3(b) | `cmp` (shape and values); the loss goes up |
        | 4 | denominator layout | `000`, `002` 1.2(c)–(d) | `cmp` shape check; mixed-layout product fails |
        | 5 | $I_K$ where $I_h$ is meant | `002` 1.2(c) | `cmp` shape check; product fails |
        | 6 | factors in a non-multiplying order | `001` 1.2(c) | the matrix product fails |
        | 7 | `nn.MSELoss()` (mean) for a sum of squares | `001` 1.2(a) | `cmp`: off by exactly $K$ |
        | 8 | antiderivative without the label | `000` 1.4(3) | sympy and `cmp` on the derivative |
        """),
    ]


BUILDERS = {"01": ("01_regression", nb01), "02": ("02_classification", nb02),
            "03": ("03_deriving_losses", nb03),
            "04": ("04_concepts", nb04),
            "05": ("05_common_mistakes", nb05)}


def build(key):
    stem, fn = BUILDERS[key]
    nb = new_notebook(cells=fn())
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path = NOTEBOOKS / f"{stem}.ipynb"
    NOTEBOOKS.mkdir(exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


def main(argv):
    keys = argv or sorted(BUILDERS)
    unknown = [k for k in keys if k not in BUILDERS]
    if unknown:
        raise SystemExit(f"unknown notebook(s) {unknown}; allowed: {', '.join(sorted(BUILDERS))}")
    for key in keys:
        print(f"wrote {build(key).relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
