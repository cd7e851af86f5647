"""The sandbox's self-test task (tests/grading/test_sandbox.py): trusted code, stdlib only.

A submission is an ``echo.py`` defining ``answer(x)``. Each case ``{"id": ..., "x": ...}`` returns
``{"y": answer(x)}``; the tests' submissions hang, die, print, or reach outside on purpose.
"""
FILENAME = "echo.py"


def prepare() -> None:
    """Nothing heavy to import: the tests want a worker that starts in a few milliseconds."""


def run_case(module, case: dict) -> dict:
    return {"y": module.answer(case.get("x"))}
