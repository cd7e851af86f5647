"""The TA's command line: ``python -m grading mlp|gd PATH... [options]``.

    python -m grading mlp mlp.py                      # one file: verdict and score first, the table
    python -m grading mlp CLASS/ --gradebook g.csv --feedback fb/ --json r.json
    python -m grading gd CLASS/ --labels 0-9
    python -m grading mlp sub/ --gradescope results/results.json   # one submission, Gradescope's format
    python mlp.py --check ...  /  python gd.py --check ...         # the same, through the entry points

Exit status: one file: 0 PASS, 1 FAIL, 2 cannot be loaded; a class: 0 when every submission
passes, else 1; bad options or a bad rubric: 2 with a one-line message.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from grading import feedback, rubric as rubric_mod, runner
from grading.report import SubmissionReport, wrap_note

__all__ = ["main", "build_parser"]

KINDS = ("mlp", "gd")


def build_parser(kind, prog):
    what = f"{kind}.py"
    desc = {"mlp": "Course-style, sandboxed check of mlp.py submissions (homework part 2.1) against autograd.",
            "gd": "Course-style, sandboxed check of gd.py submissions (homework part 2.2): each one's "
                  "gradient_descent(image, model, loss) called as the course's main() calls it."}[kind]
    p = argparse.ArgumentParser(prog=prog, description=desc)
    p.add_argument("--check", action="store_true", help=f"(accepted so that `python {what} --check` works)")
    p.add_argument("paths", nargs="*", help=f"{what} files, student folders, or class folders of them"
                   + (" (default: our mlp.py)" if kind == "mlp" else ""))
    p.add_argument("--json", metavar="FILE", help="write every result (score, flags, per case) as JSON")
    p.add_argument("--gradebook", metavar="FILE", help="write submission, score, max, verdict, flags as CSV")
    p.add_argument("--feedback", metavar="DIR", help="write one Markdown feedback file per submission")
    p.add_argument("--gradescope", metavar="FILE", help="write Gradescope's results.json (one submission only)")
    p.add_argument("--rubric", metavar="FILE", help="points per group (TOML; default grading/rubric_default.toml)")
    p.add_argument("--explain", action="store_true", help="print the full pass/fail rule")
    p.add_argument("--timeout", type=float, default=60.0 if kind == "mlp" else 300.0,
                   help="seconds per submission, all cases (a backstop; default %(default)g)")
    p.add_argument("--case-timeout", type=float, default=10.0 if kind == "mlp" else 30.0,
                   help="seconds per case (a label for gd); a case over it is TIMEOUT (default %(default)g)")
    p.add_argument("--memory-mib", type=int, default=2048, help="memory limit per submission in MiB (default 2048)")
    p.add_argument("--jobs", type=int, default=0, help="submissions at once (default: the available cores)")
    p.add_argument("--sandbox", choices=("auto", "on", "off"), default="auto",
                   help="auto: bubblewrap where it works, else process isolation with a note; on: bubblewrap "
                        "or an error; off: process isolation only")
    p.add_argument("--show-output", action="store_true", help="print the end of what each submission printed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    if kind == "mlp":
        p.add_argument("--csv", metavar="FILE", help="write one line per case and submission as CSV")
    else:
        p.add_argument("--labels", default="0-9", help="digits to check (default 0-9, the course's ten)")
        p.add_argument("--size", type=int, default=224, help="start image size in px (default 224, the course's)")
    return p


def _check_module(kind):
    if kind == "mlp":
        from grading import mlp_check as check
    else:
        from grading import gd_check as check
    return check


def _print_output(rep, out):
    for label, text in (("stdout", rep.stdout_tail), ("stderr", rep.stderr_tail)):
        if text:
            out.write(f"--- the end of its {label} ---\n{text.rstrip()}\n")


def main(argv=None, kind=None):
    """Run a check from the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if kind is None:
        if not argv or argv[0] not in KINDS:
            print(f"usage: python -m grading {{mlp,gd}} PATH... [options]   (python -m grading mlp --help)",
                  file=sys.stderr)
            return 2
        kind, argv = argv[0], argv[1:]
    prog = {"mlp": "python -m grading mlp", "gd": "python -m grading gd"}[kind]
    if "--check" in argv:
        prog = f"python {kind}.py --check"
    parser = build_parser(kind, prog)
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.case_timeout <= 0 or args.memory_mib < 256 or args.jobs < 0:
        parser.error("--timeout and --case-timeout must be > 0, --memory-mib ≥ 256 and --jobs ≥ 0")
    try:
        rubric = rubric_mod.load(kind, args.rubric)
    except rubric_mod.RubricError as exc:
        parser.error(f"--rubric: {exc}")
    check = _check_module(kind)
    paths = args.paths
    extra = dict(timeout_s=args.timeout, case_timeout_s=args.case_timeout, memory_mib=args.memory_mib,
                 rubric=rubric.source, max_score=rubric.max_score)
    if kind == "mlp":
        paths = paths or [str(check.DEFAULT_PATH)]
        plan = check.build_cases(budget_s=args.case_timeout)
    else:
        if not paths:
            parser.error("give gd.py files or folders to check")
        try:
            labels = check.parse_labels(args.labels)
        except ValueError as exc:
            parser.error(str(exc))
        if args.size < 32:
            parser.error("--size must be ≥ 32")
        check.prepare(args.size)
        plan = check.build_cases(labels, args.size, budget_s=args.case_timeout)
        extra.update(labels=labels, size=args.size)
    single = len(paths) == 1 and not (Path(paths[0]).is_dir() and not (Path(paths[0]) / check.FILENAME).is_file())
    if args.gradescope and not single:
        parser.error("--gradescope writes one submission's results: give one file or one student's folder")
    import torch
    torch.set_num_threads(1)
    try:
        report = runner.run_class(check, paths, plan, rubric, jobs=args.jobs, timeout_s=args.timeout,
                                  case_timeout_s=args.case_timeout, memory_mib=args.memory_mib,
                                  sandbox=args.sandbox, progress=not args.no_progress, extra=extra)
    except Exception as exc:      # e.g. --sandbox on where bubblewrap cannot run
        if type(exc).__name__ != "SandboxError":
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    if single:
        rep = report.submissions[0]
        check.print_single(rep, out, explain=args.explain, sandbox_note=report.sandbox_note)
        if args.show_output:
            _print_output(rep, out)
    else:
        print(wrap_note(report.sandbox_note), file=out)
        print(f"rule: {check.RULE}", file=out)
        if args.explain:
            print(check.RULE_FULL, file=out)
        width = min(48, max((len(r.path) for r in report.submissions), default=0))
        for rep in report.submissions:
            print(rep.summary(width), file=out)
            if args.show_output:
                buf = io.StringIO()
                _print_output(rep, buf)
                if buf.getvalue():
                    print("\n".join("    " + ln for ln in buf.getvalue().splitlines()), file=out)
        print(report.summary(), file=out)
    _write_outputs(args, report, check, rubric)
    return report.submissions[0].exit if single else report.exit_code()


def _write_outputs(args, report, check, rubric):
    if args.json:
        feedback.write_json(report, args.json)
    if getattr(args, "csv", None):
        feedback.write_cases_csv(report, args.csv, check.QUANTITIES, check.cell_text)
    if args.gradebook:
        feedback.write_gradebook(report, args.gradebook)
    if args.feedback:
        feedback.write_feedback(report, args.feedback, feedback.table_of(check.print_single), rubric.title)
    if args.gradescope:
        rep: SubmissionReport = report.submissions[0]
        feedback.write_gradescope(rep, args.gradescope, title=rubric.title)


if __name__ == "__main__":
    sys.exit(main())
