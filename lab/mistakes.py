"""One catalogue of known mistakes, written once and used twice.

* the TA checker (``lab.selfcheck``, ``python mlp.py --check``) names the likely defect of a
  failing submission by testing known wrong variants against the submission's numbers;
* the notebooks' exercises (``lab.exercises``) name the misconception behind a learner's wrong
  answer, and notebook 05 shows the mistakes seen in written answers.

A mistake is recognised numerically, never by reading code or comparing strings: the caller
builds the value the answer *would* have if it made that mistake (a "variant") and asks
:func:`first_match` which variant the answer equals. Generic variants that only need the true
value and the sizes (a transpose, a flipped sign, a constant factor) come from
:func:`generic_variants`; variants that need the context (a wrong activation derivative, an
identity of the wrong size) are built by the caller from the same keys.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["Mistake", "CATALOGUE", "get", "matches", "first_match", "generic_variants"]


@dataclass(frozen=True)
class Mistake:
    """One known mistake. ``key`` is stable (used in reports, tests and JSON); ``name`` is the
    short phrase a verdict prints; ``hint`` is one line on how to put it right; ``seen`` says
    where it was observed ('written answers', 'student code', 'classic')."""

    key: str
    name: str
    hint: str
    seen: tuple = field(default=("classic",))

    def verdict(self, what: str = "") -> str:
        """One line: 'what: <name> — <hint>'."""
        lead = f"{what}: " if what else ""
        return f"{lead}{self.name} — {self.hint}"


def _catalogue(*mistakes):
    out = {}
    for m in mistakes:
        if m.key in out:
            raise ValueError(f"duplicate mistake key {m.key!r}")
        out[m.key] = m
    return out


CATALOGUE = _catalogue(
    # --- layout, sign and constant factors: they apply to any vector or matrix answer -----------
    Mistake("transpose", "transposed (denominator layout, or a missing ᵀ)",
            "in numerator layout ∂(scalar)/∂(column) is a row and ∂ℓ/∂W has W's transposed shape; "
            "PyTorch's .grad has W's own shape", ("written answers", "student code", "classic")),
    Mistake("sign_flipped", "sign flipped",
            "a gradient points uphill: J decreases along −∇J; check the order of (ŷ − y)",
            ("written answers", "student code", "classic")),
    Mistake("factor_N", "N × the reference: the batch sum instead of the batch mean",
            "the loss is a mean over the N samples, so its gradient carries 1/N", ("student code",)),
    Mistake("factor_K", "K × the reference: the 1/K of the mean over outputs is missing",
            "a mean over K outputs puts 1/K in the gradient", ("written answers", "student code")),
    Mistake("factor_NK", "N·K × the reference: the summed gradient instead of the mean's",
            "nn.MSELoss/nn.BCELoss average over all N·K entries; their gradient carries 1/(N·K)",
            ("student code",)),
    Mistake("factor_2", "2 × the reference", "look for a doubled term or a 2 that belongs elsewhere",
            ("student code",)),
    Mistake("factor_half", "½ × the reference: the 2 of d(u²)/du is missing",
            "d(u²)/du = 2u", ("written answers", "student code")),
    Mistake("factor_1_over_N", "1/N × the reference: divided by N twice",
            "divide by the batch size once, in the loss or in backward, not in both", ("student code",)),
    Mistake("factor_1_over_K", "1/K × the reference: a mean used where the sum is meant",
            "‖ŷ − y‖² is a sum over the K outputs; nn.MSELoss() is its mean (1/K of it)",
            ("written answers", "classic")),
    Mistake("factor_1_over_NK", "1/(N·K) × the reference: averaged twice",
            "divide by N·K once: either in the loss's gradient or in backward", ("student code",)),
    # --- activations --------------------------------------------------------------------------
    Mistake("relu5_slope_one", "5·ReLU′ taken as 1/0 instead of 5/0",
            "f is 5·ReLU, not ReLU: a constant factor of f stays in its derivative", ("written answers",)),
    Mistake("sigmoid_for_tanh", "σ used where f = tanh",
            "question 1.3 sets f = tanh: use tanh, and its own derivative, wherever f appears — not the logistic σ", ("written answers",)),
    Mistake("activation_derivative_missing", "the activation's derivative is missing",
            "backward returns dJ/dz, not dJ/da: the chain rule still has the activation's own step to take", ("student code", "classic")),
    Mistake("activation_derivative_of_output", "the derivative is evaluated at the output instead of the input",
            "f′ is taken at the pre-activation z; a form written in the output a = f(z) is fed a, not f(a)",
            ("student code", "classic")),
    Mistake("activation_not_applied", "the activation is not applied in forward",
            "forward must return f(z), not z", ("student code",)),
    Mistake("activation_name_unhandled", "an activation name is not handled",
            "the course uses 'relu', 'sigmoid' and 'identity' for both f and g", ("student code",)),
    # --- losses -------------------------------------------------------------------------------
    Mistake("bce_sign_flipped", "the BCE derivative with its sign flipped",
            "the loss grows as ŷᵢ moves away from yᵢ, so ∂ℓ/∂ŷᵢ must be positive when ŷᵢ > yᵢ: "
            "recheck the derivative of each log term", ("written answers",)),
    Mistake("loss_half_convention", "½ × the reference: the ½·(ŷ − y)² convention",
            "some books put ½ in front of the squared error to tidy the derivative; the loss asked for here "
            "has no ½", ("written answers", "student code")),
    # --- shapes and matrices ------------------------------------------------------------------
    Mistake("wrong_identity_size", "an identity matrix of the wrong size (I_K where I_h is meant)",
            "an identity has as many rows as the vector it maps: count the entries of the vector it stands for",
            ("written answers",)),
    Mistake("sizes_dont_multiply", "a product whose sizes don't multiply",
            "write the shape under each factor: inner sizes must agree", ("written answers", "classic")),
    Mistake("wrong_shape", "wrong shape", "compare the expected and the given shape",
            ("student code", "classic")),
    Mistake("inputs_modified_in_place", "inputs modified in place",
            "a layer must not overwrite its arguments: the caller and the cache still need them "
            "(use out-of-place operations, or work on a .clone())",
            ("student code",)),
    # --- theory exercises (notebooks 01–06, lab.exercises) ---------------------------------------
    Mistake("relu5_forward_missing_5", "5·ReLU applied as a plain ReLU (the 5 dropped in the forward pass)",
            "f = 5·ReLU multiplies every hidden output by 5, and everything after f sees that 5",
            ("written answers",)),
    Mistake("kept_from_1_2", "the answer of question 1.2 kept unchanged",
            "question 1.3 changes f and g: every value and every Jacobian of f or g changes with them", ("written answers",)),
    Mistake("mse_kept_for_bce", "the squared error of 1.3(a) kept where 1.3(b) asks for the BCE",
            "1.3(b) replaces ‖ŷ − y‖² by the binary cross-entropy, averaged over the K outputs", ("classic",)),
    Mistake("diagonal_as_vector", "the diagonal given as a vector instead of the diagonal matrix",
            "the Jacobian of a map from m numbers to m numbers is an m×m matrix: ask which of its entries "
            "an element-wise map can make non-zero",
            ("written answers", "classic")),
    Mistake("row_as_diagonal", "∂ℓ/∂ŷ arranged as a K×K diagonal matrix",
            "ℓ is a scalar: in numerator layout its derivative with respect to a vector is a single row, "
            "not a matrix", ("written answers",)),
    Mistake("norm_not_squared", "the norm instead of its square",
            "‖ŷ − y‖² squares the norm: a sum of squares, no square root", ("classic",)),
    Mistake("grad_not_zeroed", "the gradients are not zeroed before backward",
            "backward() adds into .grad rather than overwriting it: what does .grad still hold from the "
            "last batch?",
            ("classic",)),
    Mistake("zero_grad_after_backward", "zero_grad() between backward() and step()",
            "it wipes the gradient backward() just computed, so the step changes nothing", ("classic",)),
    Mistake("step_before_backward", "the SGD step before backward",
            "step() moves θ along .grad: that gradient must be computed first", ("classic",)),
    Mistake("label_lost_in_integration", "the antiderivative lost the label y",
            "integrate dL/dz in z with y held constant: a constant is not zero, and terms with y keep it",
            ("written answers",)),
    Mistake("gradient_given_not_loss", "the gradient given instead of the loss",
            "the question asks for L itself: L is what you differentiate, not the derivative", ("classic",)),
    Mistake("perceptron_no_hinge", "a loss that keeps pushing on correctly classified points",
            "the rule leaves w unchanged when ŷ = y, so L must be flat wherever the prediction is right",
            ("classic",)),
    Mistake("logit_scale_missing", "σ(z) used where ŷ = tanh z",
            "tanh and σ are related but not equal: write tanh through σ before you choose what σ is applied to",
            ("written answers", "classic")),
    Mistake("softmax_is_soft_max", "softmax taken for a smooth max (a number)",
            "softmax returns K probabilities; the smooth version of the max value is log-sum-exp",
            ("written answers", "classic")),
    Mistake("temperature_limits_swapped", "the T → 0 and T → ∞ limits swapped",
            "follow the gaps zᵢ − max z divided by T as T shrinks, and again as T grows",
            ("classic",)),
    Mistake("function_not_derivative", "the function itself instead of its derivative",
            "draw the slope of the curve, not the curve", ("classic",)),
    Mistake("gelu_product_rule", "GELU′ without the product rule",
            "GELU(z) = z·Φ(z) is a product: differentiate both factors", ("written answers",)),
    Mistake("not_linear", "a map that is not linear counted as a linear transformation",
            "test the definition, f(au + bv) = a·f(u) + b·f(v) for all vectors and numbers: start with "
            "what the map does to the zero vector",
            ("written answers", "classic")),
    Mistake("shared_node_duplicated", "a shared value drawn twice",
            "a value computed once is one node, however many operators use it",
            ("written answers",)),
    Mistake("double_edge_missing", "x + x drawn with a single edge",
            "an operator has one incoming edge per operand, even when two operands are the same node",
            ("written answers",)),
    Mistake("per_layer_gain_misjudged", "which deep net keeps its gradient, misjudged",
            "each layer multiplies the gradient's size by about (weight gain) × E[f′(z)²]: estimate both "
            "factors for each activation at the scale it was given",
            ("written answers",)),
    Mistake("bias_grad_not_summed", "the bias gradient not summed over the batch",
            "b is added to every row of the batch: its gradient has b's shape and collects every row's share",
            ("student code",)),
    Mistake("order_invalid", "the steps in an order that cannot run",
            "each step needs the result of an earlier one: ŷ before the loss, the loss before backward",
            ("classic",)),
    # --- issue 15: fair checks, and the slips seen most in written answers --------------------------
    Mistake("gelu_tanh_approximation", "the derivative of GELU's tanh approximation",
            "the question's GELU is z·Φ(z) with the exact normal CDF Φ; the tanh formula only approximates "
            "it (close, but not equal)", ("written answers",)),
    Mistake("bias_grad_averaged", "the bias gradient averaged over the batch",
            "the 1/N of the mean is already inside the incoming gradient: collecting the rows' shares must "
            "not divide again", ("classic",)),
    Mistake("bce_minus_missing", "the BCE loss without its minus sign",
            "the log of a probability is ≤ 0: cross-entropy puts a minus in front so that the loss is ≥ 0 "
            "and falls as ŷ approaches y", ("written answers", "classic")),
    Mistake("output_form_at_input", "a derivative written for the output, fed the pre-activation",
            "the form written holds when its variable is the activation's output a = f(z); fed the "
            "pre-activation z it is a different function: write f′ in z, or feed it a", ("written answers",)),
    Mistake("bce_fused_gradient", "the fused gradient through the output σ given as ∂J/∂ŷ",
            "the form written already includes the output's σ′ (a gradient with respect to the logit); the "
            "gradient asked for is with respect to ŷ itself, and σ′ is multiplied in by the next step back",
            ("classic",)),
    Mistake("local_derivative_only", "the local derivative ∂a/∂z returned without the incoming gradient",
            "backward returns dJ/dz: the chain rule combines the local derivative with dJda", ("classic",)),
)


def get(key: str) -> Mistake:
    """The mistake with this key; a KeyError lists the known keys."""
    try:
        return CATALOGUE[key]
    except KeyError:
        raise KeyError(f"unknown mistake {key!r}; known: {', '.join(sorted(CATALOGUE))}") from None


def matches(got, candidate, *, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """True when ``got`` equals ``candidate`` numerically: same shape, all finite, allclose
    (in float64). Anything that cannot be compared is simply not a match."""
    try:
        a = torch.as_tensor(got).detach().to(torch.float64)
        b = torch.as_tensor(candidate).detach().to(torch.float64)
    except Exception:
        return False
    if a.shape != b.shape or not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        return False
    return bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def first_match(got, variants, *, truth=None, **tol):
    """The first :class:`Mistake` whose variant ``got`` matches, or None.

    ``variants`` maps a catalogue key to the value the answer would have with that mistake (a
    tensor, or a zero-argument callable returning one; a callable that raises is skipped). When
    ``truth`` is given, a variant equal to the truth (the mistake makes no difference on these
    numbers) is skipped, so a right answer is never given a mistake's name.
    """
    for key, variant in variants.items():
        if callable(variant):
            try:
                variant = variant()
            except Exception:
                continue
        if truth is not None and matches(variant, truth, **tol):
            continue
        if matches(got, variant, **tol):
            return get(key)
    return None


def generic_variants(truth, *, N: int | None = None, K: int | None = None) -> dict:
    """Variants that need only the true value and the sizes: transpose, sign and the constant
    factors (N, K, N·K, 2, ½ and the reciprocals of N, K, N·K). Factors equal to 1 are left out."""
    t = torch.as_tensor(truth).detach()
    out = {}
    if t.dim() == 2:
        out["transpose"] = t.T
    out["sign_flipped"] = -t
    factors = {"factor_2": 2.0, "factor_half": 0.5}
    if N and N > 1:
        factors.update(factor_N=float(N), factor_1_over_N=1.0 / N)
    if K and K > 1:
        factors.update(factor_K=float(K), factor_1_over_K=1.0 / K)
    if N and K and N > 1 and K > 1:
        factors.update(factor_NK=float(N * K), factor_1_over_NK=1.0 / (N * K))
    for key, c in factors.items():
        out[key] = t * c
    return out
