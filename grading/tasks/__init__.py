"""What runs inside the sandbox, next to a student's code: one module per checker.

Each defines ``FILENAME``, ``prepare()`` (once per zygote: the heavy imports) and
``run_case(module, case) -> dict`` (raw values only, tensors through :mod:`grading.wire`). They
import stdlib, torch, :mod:`grading.wire` and, for gd, :mod:`dream` — never the checks that decide.
"""
