"""LaTeX answers judged through the exercises' public checks: for every item one right answer and
two with real mistakes, each in a different notation, and answers that cannot be read.

A right answer to one part of a several-part check reads "not answered yet: … (correct so far: q)".
Every verdict carries the reading ("read as: …"), so a learner sees how the checker understood them.
"""
import pytest

from lab import exercises as ex

RIGHT, WRONG = "right", "wrong"

CASES = [
    # 1.2(b): the forward pass, each value alone
    ("1.2b", "check_forward", {}, "z2", r"\mathbf{z}_2 = 5\max(0, \mathbf{z}_1)", RIGHT),
    ("1.2b", "check_forward", {}, "z2", r"z_2 = \mathrm{ReLU}(z_1)", "relu5_forward_missing_5"),
    ("1.2b", "check_forward", {}, "z3", r"z_3 = W_2^\top z_2 + b_2", "sizes_dont_multiply"),
    ("1.2b", "check_forward", {}, "ell", r"\ell = \|\hat{\mathbf y} - \mathbf y\|", "norm_not_squared"),
    # 1.2(c): the gradients
    ("1.2c", "check_gradients", {}, "dl_dW1",
     r"\frac{\partial \ell}{\partial \boldsymbol{W}^{(1)}} = x\,\frac{\partial \ell}{\partial \hat{y}}"
     r"\frac{\partial \hat{y}}{\partial z_3} W^{(2)} \frac{\partial z_2}{\partial z_1}", RIGHT),
    ("1.2c", "check_gradients", {}, "dl_dW1",
     r"\nabla_{W^{(1)}}\ell = x \frac{\partial \ell}{\partial \hat{y}}\frac{\partial \hat{y}}{\partial z_3} W^{(2)}"
     r" \frac{\partial z_2}{\partial z_1}", "transpose"),
    ("1.2c", "check_gradients", {}, "dl_dW1",
     r"x^T\,\partial\ell/\partial\hat y\;\partial\hat y/\partial z_3\, W^{(2)}\, \partial z_2/\partial z_1",
     "sizes_dont_multiply"),
    ("1.2c", "check_gradients", {}, "dl_dW2",
     r"5\,\mathrm{ReLU}(W^{(1)}x + b^{(1)})\,\partial\ell/\partial\hat y\;\partial\hat y/\partial z_3", RIGHT),
    ("1.2c", "check_gradients", {}, "dl_dW2",
     r"(\mathbf{W}_1\mathbf{x} + \mathbf{b}_1)^+\frac{\partial \ell}{\partial \hat{y}}\frac{\partial \hat{y}}{\partial z_3}",
     "relu5_forward_missing_5"),
    # 1.2(d): the Jacobians
    ("1.2d", "check_jacobians", {}, "dz2_dz1",
     r"\frac{\partial z_2}{\partial z_1} = \operatorname{diag}(5\cdot\mathbb{1}[z_1 > 0])", RIGHT),
    ("1.2d", "check_jacobians", {}, "dz2_dz1", r"\text{diag}(\mathbf{1}_{\{z_1 > 0\}})", "relu5_slope_one"),
    ("1.2d", "check_jacobians", {}, "dyhat_dz3", r"\frac{\partial \hat y}{\partial z_3} = I_h", "wrong_identity_size"),
    ("1.2d", "check_jacobians", {}, "dyhat_dz3", r"\left(\frac{\partial \hat y}{\partial z_3}\right)_{ij} = \delta_{ij}",
     RIGHT),
    ("1.2d", "check_jacobians", {}, "dl_dyhat", r"\frac{\partial \ell}{\partial \hat y} = 2(\hat y - y)^\intercal", RIGHT),
    ("1.2d", "check_jacobians", {}, "dl_dyhat",
     r"\frac{\partial \ell}{\partial \hat{y}} = \begin{bmatrix} 2(\hat{y}_1 - y_1) \\ 2(\hat{y}_2 - y_2) \\ \vdots \\"
     r" 2(\hat{y}_K - y_K) \end{bmatrix}", "transpose"),
    # 1.3(a): tanh and σ
    ("1.3a", "check_jacobians", {"question": "1.3a"}, "dz2_dz1", r"\operatorname{diag}(1 - \tanh^2(z_1))", RIGHT),
    ("1.3a", "check_jacobians", {"question": "1.3a"}, "dz2_dz1", r"\mathrm{diag}(\sigma(z_1)(1 - \sigma(z_1)))",
     "sigmoid_for_tanh"),
    ("1.3a", "check_jacobians", {"question": "1.3a"}, "dz2_dz1", r"1 - \tanh^2(z_1)", "diagonal_as_vector"),
    ("1.3a", "check_jacobians", {"question": "1.3a"}, "dyhat_dz3",
     r"\begin{bmatrix} \sigma(z_{3,1})(1-\sigma(z_{3,1})) & \cdots & 0 \\ \vdots & \ddots & \vdots \\ 0 & \cdots &"
     r" \sigma(z_{3,K})(1-\sigma(z_{3,K})) \end{bmatrix}", RIGHT),
    ("1.3a", "check_forward", {"question": "1.3a"}, "z2", r"z_2 = \sigma(z_1)", "sigmoid_for_tanh"),
    # a Jacobian written in the layer's output, as on paper: σ′ = ŷ(1 − ŷ), tanh′ = 1 − z₂²
    ("1.3a", "check_jacobians", {"question": "1.3a"}, "dyhat_dz3",
     r"\left(\frac{\partial \hat y}{\partial z_3}\right)_{ij} = \begin{cases} \hat{y}_i(1-\hat{y}_i) & i = j \\ "
     r"0 & \text{otherwise}\end{cases}", RIGHT),
    ("1.3a", "check_jacobians", {"question": "1.3a"}, "dz2_dz1", r"\operatorname{diag}(1 - z_2^2)", RIGHT),

    # 1.3(b): BCE
    ("1.3b", "check_bce_gradient", {}, "dl_dyhat",
     r"\frac{\partial \ell}{\partial \hat y} = \frac{1}{K}\left(\frac{\hat y - y}{\hat y \odot (1-\hat y)}\right)^\top", RIGHT),
    ("1.3b", "check_bce_gradient", {}, "dl_dyhat",
     r"\frac{\partial \ell}{\partial \hat y} = \left(\frac{\hat y - y}{\hat y (1-\hat y)}\right)^\top", "factor_K"),
    ("1.3b", "check_bce_gradient", {}, "dl_dyhat",
     r"\tfrac{1}{K}\left(\frac{y}{\hat y} - \frac{1-y}{1-\hat y}\right)^T", "bce_sign_flipped"),
    ("1.3b", "check_bce_gradient", {}, "dl_dz3", r"\frac{1}{K}(\hat{y} - y)", "transpose"),
    # 1.4: the three losses
    ("1.4", "check_loss", {"which": "perceptron"}, "L", r"L(z, y) = \max(0, -yz)", RIGHT),
    ("1.4", "check_loss", {"which": "perceptron"}, "L", r"L = -(y - \operatorname{sign}(z))\, z", RIGHT),
    ("1.4", "check_loss", {"which": "perceptron"}, "L", r"L = -yz", "perceptron_no_hinge"),
    ("1.4", "check_loss", {"which": "adaline"}, "L",
     r"L = \frac{1}{2}\left(y - b - \sum_{i=1}^{d} w_i x_i\right)^2", RIGHT),
    ("1.4", "check_loss", {"which": "adaline"}, "L", r"L = -\tfrac12 (y - z)^2", "sign_flipped"),
    ("1.4", "check_loss", {"which": "adaline"}, "L", r"L = y - z", "gradient_given_not_loss"),
    ("1.4", "check_loss", {"which": "logistic"}, "L", r"L = \ln\left(1 + e^{-2yz}\right)", RIGHT),
    ("1.4", "check_loss", {"which": "logistic"}, "L", r"L = \log(1 + \exp(-yz))", "logit_scale_missing"),
    ("1.4", "check_loss", {"which": "logistic"}, "L", r"\mathcal{L} = -\log(1 + e^{-2yz})", "sign_flipped"),
    # 1.5(a)
    ("1.5a", "check_softmax_limit", {}, "limit",
     r"\lim_{T\to 0}\mathrm{softmax}(z/T)_i = \mathbb{1}[z_i = \max_j z_j]", RIGHT),
    ("1.5a", "check_softmax_limit", {}, "limit", r"\max_j z_j", "softmax_is_soft_max"),
    ("1.5a", "check_softmax_limit", {}, "limit", r"\frac{1}{K}", "temperature_limits_swapped"),
    # 1.5(c)
    ("1.5c", "check_derivatives", {}, "relu",
     r"\mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}", RIGHT),
    ("1.5c", "check_derivatives", {}, "relu", r"\max(0, z)", "function_not_derivative"),
    ("1.5c", "check_derivatives", {}, "gelu", r"\frac{d}{dz}\mathrm{GELU}(z) = \Phi(z) + z\,\phi(z)", RIGHT),
    ("1.5c", "check_derivatives", {}, "gelu", r"\Phi(z)", "gelu_product_rule"),
    ("1.5c", "check_derivatives", {}, "leaky_relu", r"\begin{cases} 1 & z > 0 \\ 0.01 & \text{otherwise} \end{cases}",
     RIGHT),
    ("1.5c", "check_derivatives", {}, "softplus", r"\log(1 + e^z)", "function_not_derivative"),
    # 1.5(e)
    ("1.5e", "check_objective", {}, "objective",
     r"\theta^* = \arg\min_\theta \frac{1}{N}\sum_{i=1}^{N} \|F_\theta(x_i) - y_i\|^2", RIGHT),
    ("1.5e", "check_objective", {}, "objective", r"\min_\theta \sum_{i=1}^{N} \left\|F_\theta(x_i) - y_i\right\|",
     "norm_not_squared"),
    ("1.5e", "check_objective", {}, "objective",
     r"\arg\max_\theta \frac{1}{N}\sum_{i=1}^{N} \|F_\theta(x_i) - y_i\|^2", "sign_flipped"),
    # 06: the layers' formulas (a batch holds one example per row)
    ("06", "check_linear", {}, "linear", r"x W^\top + b", RIGHT),
    ("06", "check_linear", {}, "linear", r"\mathbf{x}\mathbf{W} + \mathbf{b}", "sizes_dont_multiply"),
    ("06", "check_relu_backward", {}, "relu_backward", r"\frac{\partial J}{\partial a} \odot \mathbb{1}[z > 0]", RIGHT),
    ("06", "check_relu_backward", {}, "relu_backward", r"\frac{\partial J}{\partial a}", "activation_derivative_missing"),
    ("06", "check_relu_backward", {}, "relu_backward",
     r"\frac{\partial J}{\partial a} \odot \mathbb{1}[a > 0] \odot a", "function_not_derivative"),
    ("06", "check_relu", {}, "relu", r"(z)^+", RIGHT),
]


def _key(v):
    return getattr(v, "mistake_key", None) or getattr(v, "key", None)


@pytest.mark.parametrize("item, check, extra, quantity, text, want", CASES,
                         ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_latex_answer_through_the_check(item, check, extra, quantity, text, want):
    v = getattr(ex, check)(**{quantity: text}, **extra, verbose=False)
    assert "read as: " in v.line, v.line
    if want == RIGHT:
        assert v.status == "correct" or (v.status == "unanswered" and f"correct so far: " in v.line
                                         and quantity in v.line.split("correct so far: ")[1].split(")")[0]), v.line
    else:
        assert v.status not in ("correct", "unanswered", "unread"), v.line
        assert _key(v) == want, v.line


def test_every_item_has_a_right_answer_and_two_mistakes():
    for item in ("1.2b", "1.2c", "1.2d", "1.3a", "1.3b", "1.4", "1.5a", "1.5c", "1.5e", "06"):
        wants = [c[5] for c in CASES if c[0] == item]
        assert RIGHT in wants and sum(w != RIGHT for w in wants) >= 2, item


@pytest.mark.parametrize("check, extra, quantity, text, where", [
    ("check_gradients", {}, "dl_dW1", r"\sum_{(x,y) \in \mathcal{D}} \ell", "`\\mathcal{D}` at column 17"),
    ("check_gradients", {}, "dl_dW2", r"\frac{\partial \ell}{\partial z_3} z_2^\top", "column 1"),
    ("check_jacobians", {}, "dz2_dz1", r"\operatorname{diag}(5 \cdot \mathbb{1}[z_1 > 0]", "the end"),
    ("check_loss", {"which": "adaline"}, "L", r"L = \frac{1}{2}(y - \hat y)^2", "`\\hat{y}`"),
])
def test_unreadable_answers_get_unread_never_wrong(check, extra, quantity, text, where):
    v = getattr(ex, check)(**{quantity: text}, **extra, verbose=False) if check != "check_loss" else \
        ex.check_loss(extra["which"], **{quantity: text}, verbose=False)
    assert v.status == "unread", v.line
    assert "could not read" in v.line and where in v.line, v.line


def test_an_index_reads_as_written():
    # z_{2i} is element i of z₂: shown as z_2i, never as the product z_2·i
    v = ex.check_jacobians(dz2_dz1=r"\left(\frac{\partial z_2}{\partial z_1}\right)_{ij} = \begin{cases} "
                                   r"1 - z_{2i}^2 & i = j \\ 0 & \text{otherwise}\end{cases}",
                           question="1.3a", verbose=False)
    assert "correct so far: dz2_dz1" in v.line and "z_2i²" in v.line and "z_2·i" not in v.line
    # the sigmoid's form in z₂ where f = tanh: read, and wrong (seed 004's 1.3(a))
    v = ex.check_jacobians(dz2_dz1=r"\left(\frac{\partial z_2}{\partial z_1}\right)_{ij} = \begin{cases} "
                                   r"z_{2i}(1 - z_{2i}) & i = j \\ 0 & \text{otherwise}\end{cases}",
                           question="1.3a", verbose=False)
    assert v.status == "wrong" and "read as: [{z_2i·(1 − z_2i) if i = j" in v.line


def test_a_jacobian_in_code_may_take_the_layers_output():
    import torch
    v = ex.check_jacobians(dz2_dz1=lambda z2: torch.diag((1 - z2 ** 2).flatten()),
                           dyhat_dz3=lambda y_hat: torch.diag((y_hat * (1 - y_hat)).flatten()),
                           dl_dyhat=lambda y_hat, y: 2 * (y_hat - y).T, question="1.3a", verbose=False)
    assert v.status == "correct", v.line
