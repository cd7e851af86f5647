"""The homework's rule on autograd (grading/mlp_check.py): the static look finds the line, the
student's own test code under `if __name__ == "__main__":` and harmless spellings are left alone."""
from grading.mlp_check import autograd_flag, scan_autograd

SOURCE = '''import torch
from torch.autograd import grad

class MLP:
    def backward(self, dJdy_hat):
        with torch.enable_grad():
            out = self.forward(self.x.requires_grad_())
        out.backward(dJdy_hat)
        self.backward_helper()
        torch.zeros(3, requires_grad=False)

if __name__ == "__main__":
    net = MLP()
    J.backward()
'''


def test_the_static_look_names_each_line():
    hits = scan_autograd(SOURCE)
    assert [(ln, what) for ln, _, what in hits] == [(2, "imports autograd"), (6, "enable_grad"),
                                                    (7, "requires_grad_()"), (8, ".backward(")]
    assert hits[3][1] == "out.backward(dJdy_hat)"


def test_the_flag_prefers_the_backward_line_and_adds_runtime_facts():
    rows = [dict(autograd=dict(calls=2, graph=["dJdW1"], grad_enabled_after=False))]
    flag = autograd_flag(scan_autograd(SOURCE), rows)
    assert flag.startswith("uses autograd: line 8 `out.backward(dJdy_hat)` (+3 more line(s)); autograd's backward "
                           "ran 2 time(s) during the checks")
    assert flag.endswith("— the homework forbids it")


def test_runtime_facts_alone_raise_the_flag_and_clean_code_none():
    rows = [dict(autograd=dict(calls=0, graph=["y_hat"], grad_enabled_after=True))]
    assert autograd_flag([], rows) == ("uses autograd: y_hat carried an autograd graph; it switched gradients back "
                                       "on (torch.is_grad_enabled()) — the homework forbids it")
    clean = "import torch\nx = torch.zeros(2, requires_grad=False)\nwith torch.no_grad():\n    pass\n"
    assert scan_autograd(clean) == [] and autograd_flag([], [dict(autograd=None)]) is None
    assert scan_autograd("def f(:\n") == []


def test_torch_func_is_autograd_too():
    # vjp / grad / jacrev compute the backward pass for the student: the rule names those lines
    src = ("import torch\nimport functorch\nfrom torch.func import vjp\n\n"
           "def backward(f, x, g):\n    _, pull = vjp(f, x)\n    return torch.func.grad(f)(x), pull(g)\n")
    assert [(ln, what) for ln, _, what in scan_autograd(src)] == [(2, "imports torch.func"),
                                                                  (3, "imports torch.func"), (7, "torch.func")]
    assert scan_autograd("import torch\nimport torch.nn.functional as F\ny = F.relu(torch.ones(2))\n") == []
