"""The TA side of Backprop Lab (homework 1, part 2): grading mlp.py and gd.py submissions.

Never shipped to students. ``python -m grading mlp|gd PATH...`` (grading/cli.py) finds the
submissions, runs each in the sandbox (grading/sandbox.py, the work itself in grading/tasks/),
decides here from the raw values that come back (grading/mlp_check.py, grading/gd_check.py,
grading/diagnosis.py with lab/mistakes.py), scores with the rubric (grading/rubric.py) and writes
the reports (grading/report.py, grading/feedback.py). It imports lab.mistakes, lab.reference and
dream; never gd.py, mlp.py or lab.exercises.
"""
