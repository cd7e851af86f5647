"""python -m lab.theory_check on small write-ups written for this test (Markdown and LaTeX)."""
import json

from lab import theory_check

MARKDOWN = r"""
# Homework 1

## 1.2 Regression Task

### (b)

$$z_1 = W^{(1)} x + b^{(1)}, \quad z_2 = \mathrm{ReLU}(z_1)$$

### (c)

$$\frac{\partial \ell}{\partial W^{(2)}} = 5(W^{(1)}x + b^{(1)})^+ \frac{\partial \ell}{\partial \hat y}\frac{\partial \hat y}{\partial z_3}$$

Here the hidden layer has $h$ units and $z_3 = W^{(2)} z_2 + b^{(2)}$ as before.

$$\frac{\partial \ell}{\partial z_3} = 2(\hat y - y)^\top$$

### (d)

$$\frac{\partial \hat y}{\partial z_3} = I_h$$

| Quantity | Formula |
| --- | --- |
| $W^{(1)}$ | $x^\top \frac{\partial \ell}{\partial \hat y}$ |

## 1.4 Deriving Loss Functions

**Perceptron**

$$L(z, y) = \max(0, -yz)$$

**Logistic Regression**

$$L = \log(1 + e^{-yz})$$

## 1.5 Conceptual Questions

(a) Softargmax.

$$\lim_{T \to 0} \mathrm{softmax}(z/T)_i = \mathbb{1}[z_i = \max_j z_j]$$
"""

TEX = r"""
\section*{Problem 3: Conceptual Questions}
\subsection*{(e)}
\begin{equation}
  \theta^\star = \arg\min_\theta \frac{1}{N} \sum_{i=1}^{N} \left\| F_\theta(x_i) - y_i \right\|^2 .
\end{equation}
"""


def test_markdown_write_up_items_quantities_and_verdicts(tmp_path, capsys):
    path = tmp_path / "answers.md"
    path.write_text(MARKDOWN)
    out = tmp_path / "out.json"
    assert theory_check.main([str(path), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    got = [(e["item"], e["quantity"], e["status"], e["mistake_key"]) for e in data["equations"]]
    assert ("1.2b", "z1", "correct", None) in got
    assert ("1.2b", "z2", "mistake", "relu5_forward_missing_5") in got or \
        ("1.2b", "z2", "wrong", "relu5_forward_missing_5") in [(a, b, c, d) for a, b, c, d in got]
    assert any(e[:2] == ("1.2c", "dl_dW2") and e[2] == "correct" for e in got)
    assert any(e[:2] == ("1.2d", "dyhat_dz3") and e[3] == "wrong_identity_size" for e in got)
    assert any(e[:2] == ("1.2d", "dl_dW1") for e in got) is False          # the table row is in (d): no such quantity
    assert ("1.4.perceptron", "L", "correct", None) in got
    assert any(e[:2] == ("1.4.logistic", "L") and e[3] == "logit_scale_missing" for e in got)
    assert any(e[:2] == ("1.5a", "limit") and e[2] == "correct" for e in got)
    skipped = [s["why"] for s in data["skipped"]]
    assert any("∂ℓ/∂z₃ is not a quantity 1.2c asks for" in w for w in skipped)
    for e in data["equations"]:
        assert set(e) == {"item", "quantity", "latex", "status", "mistake_key", "line"}
        assert "read as:" in e["line"] or e["status"] == "unread"
    table = capsys.readouterr().out
    assert all(len(line) <= 100 for line in table.splitlines())
    assert "equations judged" in table


def test_tex_write_up_with_an_older_template_heading(tmp_path):
    path = tmp_path / "theory.tex"
    path.write_text(TEX)
    res = theory_check.check_text(TEX)
    assert [(e["item"], e["quantity"], e["status"]) for e in res.equations] == [("1.5e", "objective", "correct")]
    assert theory_check.main([str(path)]) == 0


def test_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert theory_check.main([str(tmp_path / "nope.md")]) == 2
    assert "is not a file" in capsys.readouterr().err


def test_headings_quoting_another_item_do_not_move_the_position():
    pos = theory_check.Position()
    for heading, item in [("## 1.3 Classification Task", "1.3"), ("## (a) Changes for MSE Loss", "1.3a"),
                          ("#### Changes in Elements (Part 1.2 (d))", "1.3a"), ("## 1.3 (b): BCE", "1.3b"),
                          ("1.4 Conceptual Questions", "1.5"), ("(c) Draw the derivatives", "1.5c")]:
        pos.heading(heading)
        assert pos.item() == item, heading
