"""The live LaTeX box without a browser: typing updates the preview, Check shows the verdict."""
from lab import exercises
from lab.latex.widget import latex_box


def test_typing_renders_and_check_gives_the_verdict_with_its_reading():
    box = latex_box(exercises.check_jacobians, "dyhat_dz3")
    label, text, preview, button, verdict = box.children
    text.value = r"\frac{\partial \hat y}{\partial z_3} = I_h"
    assert preview.value.startswith("$$") and r"I_h" in preview.value
    box.check_now()
    assert "wrong" in verdict.value and "identity matrix of the wrong size" in verdict.value
    assert "read as: I_h" in verdict.value


def test_unreadable_and_empty_answers():
    box = latex_box(exercises.check_loss, "L", which="adaline")
    _, text, preview, _, verdict = box.children
    box.check_now()
    assert "type a formula first" in verdict.value
    text.value = r"$L = \frac{1}{2}(y - z)^2$"
    assert preview.value == r"$$L = \frac{1}{2}(y - z)^2$$"
    box.check_now()
    assert "correct" in verdict.value and "read as: (y - z)^2/2" in verdict.value
    text.value = r"L = \mathcal{D}"
    box.check_now()
    assert "could not read" in verdict.value
