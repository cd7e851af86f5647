"""lab.latex on its own: the clean-up, the grammar, and readings evaluated against the truth.

Every reading is evaluated on random values and compared with the value computed here in torch,
so a wrong reading (a dropped transpose, a power read as a layer) fails.
"""
import pytest
import torch

from lab.latex import Unread, equations, read
from lab.latex.evaluate import ShapeError
from lab.latex.preprocess import clean

SIZES = {"n": 3, "h": 4, "K": 5}
NET = {"x": ("n", 1), "y": ("K", 1), "W1": ("h", "n"), "b1": ("h", 1), "W2": ("K", "h"), "b2": ("K", 1),
       "z1": ("h", 1), "z2": ("h", 1), "z3": ("K", 1), "y_hat": ("K", 1),
       "dl_dyhat": (1, "K"), "dz2_dz1": ("h", "h"), "dyhat_dz3": ("K", "K")}


def values(seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in NET.items():
        dims = tuple(SIZES[d] if isinstance(d, str) else d for d in shape)
        out[name] = torch.randn(*dims, generator=gen, dtype=torch.float64)
    return out


def evaluate(text, quantity, **kw):
    r = read(text, quantity=quantity, allowed=NET, **kw)
    v = values()
    return r, r.fn(**{k: v[k] for k in r.shapes}), v


# --- clean-up ------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, want", [
    (r"$$\boxed{x}$$.", "{x}"),
    (r"\[ \left( x \right) \]", "( x )"),
    (r"\underset{1\times K}{\hat{y}} % a comment", r"{\hat{y}}"),
    (r"\mathbf{W}^T", r"W ^{T}"),
    (r"\text{diag}(z)", r"\diag (z)"),
    (r"\operatorname{ReLU}(z)", r"\relu (z)"),
])
def test_clean_removes_decorations_and_unifies_spellings(raw, want):
    assert " ".join(clean(raw).s.split()) == " ".join(want.split())


def test_align_lines_and_comma_separated_equations_are_split():
    text = r"\begin{align} z_1 &= W^{(1)}x + b^{(1)}, \quad z_2 = 5(z_1)^+ \\ z_3 &= W^{(2)} z_2 \\ &+ b^{(2)} \end{align}"
    eqs = [e.s for e in equations(text)]
    assert len(eqs) == 4 and eqs[0].startswith("z_{1}") and eqs[1].strip().startswith("z_{2}")


# --- products, transposes, layouts -----------------------------------------------------------
def test_chain_rule_product_in_numerator_layout():
    r, got, v = evaluate(r"\frac{\partial \ell}{\partial \boldsymbol{W}^{(1)}} = x\,\frac{\partial \ell}{\partial \hat{y}}"
                         r"\frac{\partial \hat{y}}{\partial z_3} W^{(2)} \frac{\partial z_2}{\partial z_1}", "dl_dW1")
    want = v["x"] @ v["dl_dyhat"] @ v["dyhat_dz3"] @ v["W2"] @ v["dz2_dz1"]
    assert torch.allclose(got, want)
    assert r.line().startswith("read as: x·∂ℓ/∂ŷ·∂ŷ/∂z₃·W⁽²⁾·∂z₂/∂z₁ with x: n×1")


@pytest.mark.parametrize("spelling", [r"(W^{(2)})^\top", r"(\mathbf{W}_2)^\intercal", r"(W^{[2]})^{\mathsf T}",
                                      r"(W_2)'"])
def test_every_transpose_and_layer_spelling(spelling):
    try:
        r, got, v = evaluate(spelling + r" \frac{\partial \ell}{\partial \hat y}^T", "x")
    except Unread:
        r, got, v = evaluate(r"\left(" + spelling + r"\right)", "x")
        assert torch.allclose(got, v["W2"].T)
        return
    assert torch.allclose(got, v["W2"].T @ v["dl_dyhat"].T)


def test_a_product_whose_sizes_do_not_fit_is_a_shape_error_not_unread():
    r = read(r"x^T \frac{\partial \ell}{\partial \hat y}", quantity="dl_dW1", allowed=NET)
    v = values()
    with pytest.raises(ShapeError, match="size mismatch"):
        r.fn(**{k: v[k] for k in r.shapes})


def test_identity_takes_its_size_and_a_wrong_size_stays_wrong():
    r, got, _ = evaluate(r"\frac{\partial \hat y}{\partial z_3} = \mathbb{I}", "dyhat_dz3")
    assert torch.equal(got, torch.eye(5, dtype=torch.float64))
    r, got, _ = evaluate(r"I_h", "dyhat_dz3")
    assert got.shape == (4, 4)


def test_bmatrix_diagonal_picture_with_dots_and_zeros():
    text = (r"\begin{bmatrix} 5\cdot\mathbf{1}_{\{z_{1,1}>0\}} & 0 & \cdots & 0 \\ 0 & 5\cdot\mathbf{1}_{\{z_{1,2}>0\}} "
            r"& \cdots & 0 \\ \vdots & & \ddots & \vdots \\ 0 & 0 & \cdots & 5\cdot\mathbf{1}_{\{z_{1,h}>0\}} \end{bmatrix}")
    r, got, v = evaluate(text, "dz2_dz1")
    assert torch.equal(got, torch.diag(5.0 * (v["z1"].flatten() > 0)))


def test_picture_whose_entries_break_the_pattern_is_unread():
    text = r"\begin{bmatrix} \hat y_1 - y_1 \\ \hat y_1 + y_2 \\ \vdots \\ \hat y_K - y_K \end{bmatrix}"
    with pytest.raises(Unread, match="do not follow one pattern"):
        read(text, quantity="dl_dyhat", allowed=NET)


def test_element_form_with_cases_and_kronecker_delta():
    text = r"\left(\frac{\partial \hat y}{\partial z_3}\right)_{ij} = \begin{cases} \hat y_i(1-\hat y_i) & i = j \\ 0 & \text{otherwise}\end{cases}"
    r, got, v = evaluate(text, "dyhat_dz3")
    s = v["y_hat"].flatten()
    assert torch.allclose(got, torch.diag(s * (1 - s)))
    r, got, v = evaluate(r"\left[\frac{\partial \hat y}{\partial z_3}\right]_{ij} = \hat y_i (1 - \hat y_j)\delta_{ij}", "dyhat_dz3")
    assert torch.allclose(got, torch.diag(s * (1 - s)))


def test_vectors_of_one_shape_multiply_entry_by_entry_and_the_reading_says_so():
    r, got, v = evaluate(r"\operatorname{diag}(\sigma(z_3)(1 - \sigma(z_3)))", "dyhat_dz3")
    s = torch.sigmoid(v["z3"]).flatten()
    assert torch.allclose(got, torch.diag(s * (1 - s)))
    assert "entry by entry" in r.line()


def test_nabla_is_the_transpose_of_the_numerator_layout_derivative():
    r, got, v = evaluate(r"\nabla_{b^{(2)}} \ell = \left(\frac{\partial \ell}{\partial \hat y}\right)^T", "dl_db2")
    assert torch.allclose(got, v["dl_dyhat"])


# --- forward values and the loss --------------------------------------------------------------
def test_forward_with_relu_spellings_and_norm():
    for text in (r"5(W^{(1)}x+b^{(1)})^+", r"5\max(0, \mathbf{W}_1\mathbf{x} + \mathbf{b}_1)",
                 r"5\,\mathrm{ReLU}(W^{[1]}x + b^{[1]})"):
        r, got, v = evaluate(text, "z2")
        assert torch.allclose(got, 5 * torch.relu(v["W1"] @ v["x"] + v["b1"])), text
    r, got, v = evaluate(r"\ell_{\text{MSE}} = \|\hat{\mathbf y} - \mathbf y\|_2^2", "ell")
    assert torch.allclose(got, ((v["y_hat"] - v["y"]) ** 2).sum())


def test_chain_of_equations_picks_the_left_hand_side_asked_for():
    text = r"\begin{aligned} z_1 &= W^{(1)}x + b^{(1)} \\ z_3 &= W^{(2)} z_2 + b^{(2)} \end{aligned}"
    r, got, v = evaluate(text, "z3")
    assert torch.allclose(got, v["W2"] @ v["z2"] + v["b2"])


# --- element-wise (1.5(c)) and sympy (1.4) ---------------------------------------------------
def test_elementwise_cases_bound_variable_and_text_at_the_kink():
    r = read(r"\text{ReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x < 0 \\ \text{undefined} & x = 0 \end{cases}",
             quantity="relu", allowed={"z": ("N",)}, kind="elementwise")
    got = r.fn(torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64))
    assert got[0] == 0 and got[2] == 1 and torch.isnan(got[1])
    assert "read as no value" in r.line()


def test_gelu_derivative_with_phi():
    r = read(r"\frac{d}{dz}\mathrm{GELU}(z) = \Phi(z) + z\,\phi(z)", quantity="gelu", allowed={"z": ("N",)},
             kind="elementwise")
    z = torch.linspace(-3, 3, 13, dtype=torch.float64).requires_grad_(True)
    (g,) = torch.autograd.grad(torch.nn.functional.gelu(z).sum(), z)
    assert torch.allclose(r.fn(z.detach()), g)


def test_sympy_loss_with_the_sum_for_z():
    import sympy as sp
    r = read(r"L = \frac{1}{2}\Big(y - b - \sum_{i=1}^{d} w_i x_i\Big)^2", quantity="L",
             allowed={"z": (), "y": ()}, kind="sympy")
    z, y = sp.symbols("z y", real=True)
    assert sp.simplify(r.expr - (y - z) ** 2 / 2) == 0
    r = read(r"\ell(w) = \max(0, -y(b + \mathbf{w}^\top \mathbf{x}))", quantity="L", allowed={"z": (), "y": ()},
             kind="sympy")
    assert sp.simplify(r.expr - sp.Max(0, -y * z)) == 0
    r = read(r"L = \log(1 + e^{-2yz})", quantity="L", allowed={"z": (), "y": ()}, kind="sympy")
    assert "log" in r.canonical and r.fn is None


# --- unread: where and why -------------------------------------------------------------------
@pytest.mark.parametrize("text, column, why", [
    (r"\sum_{(x,y) \in \mathcal{D}} \ell", 17, "instead of a set"),
    (r"W x + b", 1, "write the layer"),
    (r"\frac{\partial \ell}{\partial z_3} W^{(2)}", 1, "may use only"),
    (r"5 \cdot \mathrm{ReLU}(z_1", None, "ends too early"),
])
def test_unread_says_where_and_why(text, column, why):
    allowed = {k: NET[k] for k in ("x", "y", "W1", "b1", "W2", "b2", "dl_dyhat", "dz2_dz1", "dyhat_dz3")}
    with pytest.raises(Unread) as err:
        read(text, quantity="dl_dW1", allowed=allowed)
    assert why in str(err.value) and str(err.value).startswith("could not read")
    if column is not None:
        assert f"at column {column}:" in str(err.value)


def test_power_of_a_matrix_is_not_guessed():
    with pytest.raises(Unread, match="power of a matrix"):
        read(r"(W^{(2)})^2", quantity="z3", allowed=NET)


def test_left_hand_side_naming_another_quantity_is_unread():
    with pytest.raises(Unread, match="names ∂ℓ/∂W⁽²⁾"):
        read(r"\frac{\partial \ell}{\partial W^{(2)}} = x", quantity="dl_dW1", allowed=NET)


def test_words_in_cases_are_conditions_but_trailing_prose_is_dropped():
    r, got, v = evaluate(r"\frac{\partial z_2}{\partial z_1} = \begin{cases} 5 & \text{for } z_1 > 0 \\ 0 & "
                         r"\text{for } z_1 \leq 0 \end{cases} \quad (2)", "dz2_dz1")
    assert torch.equal(got, 5.0 * (v["z1"] > 0))          # a vector: the check names diagonal_as_vector
    r, got, v = evaluate(r"z_2 = 5(z_1)^+ \text{ where } z_1 \text{ is the pre-activation}", "z2")
    assert torch.allclose(got, 5 * torch.relu(v["z1"]))
