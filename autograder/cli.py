"""Command line: autograder <command> ... (the console command `pip install -e .` installs),
or python -m autograder <command> ...

The course commands (grade, import, export, feedback) work from any folder: --course names the
nbgrader course, the current folder by default. Every command checks its inputs first
(autograder/inputs.py) and reports a mistake as one line on stderr with exit status 2, before it
writes anything. The heavy modules (nbformat, nbgrader, the grader) are imported only once the
inputs are good, so a mistake is reported at once.
"""

import argparse
import logging
import sys
import time
from pathlib import Path

from autograder import config, inputs

VERSION = "0.3.0"
USAGE_ERROR = 2
log = logging.getLogger("autograder")


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each help text (unless it says its default itself); descriptions keep their line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        return action.help if "default" in (action.help or "") else super()._get_help_string(action)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        if "course" in args:
            args.course = _course(args.course)
        return _COMMANDS[args.command](args)
    except inputs.UsageError as problem:
        print(f"autograder {args.command}: error: {problem}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as problem:  # a disk full, a folder without write permission: the user's to fix
        log.debug("", exc_info=True)
        print(f"autograder {args.command}: error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"autograder {args.command}: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="say more on stderr (-vv: debug; default: warnings only)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, formatter_class=_Formatter)
        sub.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="say more on stderr (-vv: debug; default: warnings only)")
        return sub

    p = command("build", "regenerate source/, release/ and solutions/ from the text twins")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--no-solutions", action="store_true", help="skip executing the solutions")

    p = command("twin", "build one source notebook from its twin (for authors)")
    p.add_argument("twin", type=Path, help="a text twin, e.g. labs/01-foundations/02-kl-divergence.py")

    p = command("run", "execute one source notebook and save it with outputs (for authors); it runs in "
                       "--out's folder, so the files it writes land there")
    p.add_argument("notebook", type=Path, help="e.g. source/01-foundations/02-kl-divergence.ipynb")
    p.add_argument("--mode", choices=["full", "test", "grading"], default="full", help="how much the notebook trains")
    p.add_argument("--out", type=Path, required=True, help="the executed notebook to write (.ipynb); no default")

    p = command("check-build", "fail if any generated file is out of date")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")

    p = command("demo", "autograde the sample submissions with plain nbgrader, print the scores")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")

    p = command("site", "turn the executed solutions into a static self-study site")
    p.add_argument("--out", type=Path, default=config.SITE_OUT, help="the site's folder")
    p.add_argument("--no-solutions", action="store_true",
                   help="publish the release notebooks only, for a course that still grades these labs (default: False)")

    p = command("check-tests", "run the mutant catalog against the tests")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--notebook", help="one notebook file name, e.g. 02-kl-divergence.ipynb (default: every notebook)")
    p.add_argument("--mutants", type=_mutant_limit, metavar="N|all",
                   help="generated mutants per answer cell, a fixed-seed sample; 0: none (default: checktests.MUTANTS_PER_CELL)")
    p.add_argument("--require-killed", action="store_true", help="fail on a generated mutant that survives unjustified (default: False)")
    p.add_argument("--judge", action="store_true",
                   help="instead, grade the reference and every correct alternative through the real grader (the judge, "
                        "in the sandbox), as students are graded: slower, and it finds what one kernel cannot (default: False)")

    p = command("widgets", "execute the source notebooks (solutions in) and move every ipywidgets control: "
                           "exit 1 if a notebook has no widget or a control does not change its drawing")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--notebook", help="one notebook, e.g. 02-kl-divergence (the earlier ones still run, unprobed; default: every notebook)")
    p.add_argument("--mode", choices=["full", "test", "grading"], default="test", help="how much the notebooks train")

    p = command("grade", "grade a class in sandboxes, update the gradebook, write CSVs and feedback")
    p.add_argument("assignment", help="assignment id, e.g. 01-foundations")
    p.add_argument("--submissions", type=Path,
                   help=f"folder laid out as <student>/<assignment>/*.ipynb (default: COURSE/{config.SUBMITTED_DIR})")
    _add_course(p)
    _add_out(p)
    p.add_argument("--student", action="append", default=[], metavar="ID", help="grade only this student (repeatable; default: everyone)")
    p.add_argument("--force", action="store_true", help="grade again even when the submission has not changed")
    p.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: the local pool)")
    p.add_argument("--dask", action="store_true", help="use Dask with an embedded LocalCluster")
    _add_lateness(p)
    _add_canvas(p)
    _add_limits(p)

    p = command("import", "unpack a Canvas submissions.zip into <submissions>/<student>/<assignment>/, "
                          "recording each submission's time for the late penalty")
    p.add_argument("assignment", help="assignment id, e.g. 01-foundations")
    p.add_argument("zip", type=Path, help="the submissions.zip Canvas downloads")
    p.add_argument("--submissions", type=Path, help=f"the folder to fill (default: COURSE/{config.SUBMITTED_DIR})")
    p.add_argument("--timezone", default="UTC", help="IANA zone of the zip's entry times, for entries without a UTC timestamp")
    _add_course(p)

    p = command("export", "grades from the gradebook (manual scores and late penalties included): "
                          "grades.csv, notebooks.csv and canvas.csv")
    p.add_argument("assignment", help="assignment id, e.g. 01-foundations")
    _add_course(p)
    _add_out(p)
    _add_canvas(p)

    p = command("feedback", "re-render the feedback of a graded run, with the manual scores and comments of the gradebook")
    p.add_argument("assignment", help="assignment id, e.g. 01-foundations")
    _add_course(p)
    _add_out(p)
    p.add_argument("--submissions", type=Path, help="the submissions folder (nbgrader's exchange leaves submission_secret.txt there "
                                                    f"for release_feedback; default: COURSE/{config.SUBMITTED_DIR})")
    p.add_argument("--canvas-export", type=Path, help="Canvas gradebook export CSV: students' names for the titles (default: the gradebook's names, else the ids)")
    p.add_argument("--reveal-hidden", action="store_true", help="show the hidden tests' source")
    p.add_argument("--reveal-after", metavar="DATETIME", help="show it only once this ISO date-time (UTC if no zone) has passed (default: never)")

    p = command("validate", "run notebooks as the grader would; exit 1 if any test fails")
    p.add_argument("notebooks", nargs="+", type=Path, help="the notebooks to check")
    _add_limits(p)
    return parser


def _add_course(p: argparse.ArgumentParser) -> None:
    p.add_argument("--course", type=Path, help="nbgrader course folder with source/ and gradebook.db (default: the current folder)")


def _add_out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, help=f"output folder (default: COURSE/{config.GRADES_OUT.relative_to(config.REPO)}/ASSIGNMENT)")


def _add_lateness(p: argparse.ArgumentParser) -> None:
    p.add_argument("--due", metavar="DATETIME", help="the due date, ISO (UTC if no zone); stored in the gradebook (default: the gradebook's)")
    p.add_argument("--extensions", type=Path, help="CSV or YAML of per-student due dates: student (Canvas ID, or SIS login with --canvas-export), assignment, due (default: no extensions)")


def _add_canvas(p: argparse.ArgumentParser) -> None:
    p.add_argument("--canvas-export", type=Path, help="the Canvas gradebook export CSV: the roster and the assignment's column (default: none; canvas.csv then names the column after the assignment id)")
    p.add_argument("--canvas-assignment", metavar="NAME_OR_ID", help="the Canvas assignment to fill: its name or id (default: the one named like the assignment id)")


def _add_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cell-timeout", type=float, default=config.CELL_TIMEOUT_S, help="seconds per cell")
    p.add_argument("--notebook-timeout", type=float, default=config.NOTEBOOK_TIMEOUT_S, help="seconds per notebook")
    p.add_argument("--memory", type=int, default=config.MEMORY_MB, help="memory limit per process, MB")
    p.add_argument("--unsafe", action="store_true", help="run student code without the bubblewrap sandbox")


def _configure_logging(verbosity: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING)
    for previous in log.handlers:  # main() may run more than once in a process (the tests)
        previous.close()
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG)
    log.propagate = False


def _limits(args: argparse.Namespace):
    from autograder.grading import layout

    inputs.positive(args.cell_timeout, "--cell-timeout")
    inputs.positive(args.notebook_timeout, "--notebook-timeout")
    inputs.positive(args.memory, "--memory")
    return layout.Limits(args.cell_timeout, args.notebook_timeout, args.memory, config.MAX_PROCESSES, args.unsafe)


def _course(given: Path | None) -> Path:
    """The --course folder as given (inputs.course checks it), else the current folder if it is a course."""
    if given is not None:
        return given
    here = Path.cwd()
    if not (here / "source").is_dir():
        raise inputs.UsageError(f"the current folder {here} is not an nbgrader course (it has no source/ folder): "
                                "run autograder in the course folder or pass --course PATH")
    return here


def _out(args: argparse.Namespace) -> Path:
    default = args.course / config.GRADES_OUT.relative_to(config.REPO) / args.assignment
    return inputs.output_folder((args.out or default).resolve())


def _submissions(args: argparse.Namespace) -> Path:
    return args.submissions or args.course / config.SUBMITTED_DIR


# ---- the commands ----


def _build(args) -> int:
    chosen = inputs.assignments(args.assignments)
    from autograder import build

    build.build(chosen, with_solutions=not args.no_solutions)
    return 0


def _twin(args) -> int:
    twin = inputs.existing_file(args.twin, "twin", config.TWIN_SUFFIX).resolve()
    if twin.parent.parent != config.LABS:
        raise inputs.UsageError(f"{args.twin} is not in an assignment folder of {config.LABS}: twins live in labs/<assignment>/")
    from autograder import twins

    target = config.SOURCE / twin.parent.name / config.notebook_name(twin)
    twins.write_source(twin, target)
    print(f"wrote {target.relative_to(config.REPO)}")
    return 0


def _run(args) -> int:
    inputs.notebook_file(args.notebook)
    if args.out.is_dir():
        raise inputs.UsageError(f"--out {args.out} is a folder: give the notebook file to write, e.g. {args.out / args.notebook.name}")
    import nbformat

    from autograder import execute

    notebook = nbformat.read(args.notebook, as_version=4)
    started = time.perf_counter()
    args.out.resolve().parent.mkdir(parents=True, exist_ok=True)
    execute.execute(notebook, args.out.resolve().parent, mode=args.mode)
    nbformat.write(notebook, args.out)
    print(f"executed {args.notebook} in {args.mode} mode in {time.perf_counter() - started:.1f} s -> {args.out}")
    return 0


def _check_build(args) -> int:
    chosen = inputs.assignments(args.assignments)
    from autograder import build

    problems = build.stale_files(chosen)
    for problem in problems:
        print(problem)
    print("generated files are up to date" if not problems else f"{len(problems)} generated file(s) out of date: run `python -m autograder build`")
    return 1 if problems else 0


def _demo(args) -> int:
    chosen = inputs.assignments(args.assignments)
    from autograder import demo

    return demo.run(chosen)


def _site(args) -> int:
    inputs.output_folder(args.out)
    from autograder import site

    return site.main(args.out, solutions=not args.no_solutions)


def _check_tests(args) -> int:
    chosen = inputs.assignments(args.assignments)
    if args.notebook:
        names = {config.notebook_name(t) for a in chosen for t in config.twins(a)}
        if args.notebook not in names:
            raise inputs.UsageError(f"no notebook {args.notebook!r} in {', '.join(chosen)}; there are: {', '.join(sorted(names))}")
    if args.judge:
        from autograder import judgecheck

        return judgecheck.main(chosen, args.notebook)
    from autograder import checktests

    limit = checktests.MUTANTS_PER_CELL if args.mutants is None else None if args.mutants == "all" else args.mutants
    return checktests.main(chosen, args.notebook, limit, args.require_killed)


def _mutant_limit(text: str) -> int | str:
    """A --mutants argument: a count or "all" (checked here, so a mistake is reported before anything is imported)."""
    if text == "all" or text.isdigit():
        return text if text == "all" else int(text)
    raise argparse.ArgumentTypeError(f"--mutants takes a count or 'all', not {text!r}")


def _widgets(args) -> int:
    chosen = inputs.assignments(args.assignments)
    notebook = None
    if args.notebook:
        notebook = args.notebook if args.notebook.endswith(".ipynb") else f"{args.notebook}.ipynb"
        names = {config.notebook_name(t) for a in chosen for t in config.twins(a)}
        if notebook not in names:
            raise inputs.UsageError(f"no notebook {args.notebook!r} in {', '.join(chosen)}; there are: {', '.join(sorted(names))}")
    from autograder import widgetprobe

    return widgetprobe.main(chosen, notebook, args.mode)


def _grade(args) -> int:
    args.submissions = _submissions(args)
    from autograder.grading import commands

    return commands.grade(args, _limits(args), _out(args))


def _import(args) -> int:
    args.submissions = _submissions(args)
    from autograder.grading import commands

    return commands.import_zip(args)


def _export(args) -> int:
    from autograder.grading import commands

    return commands.export(args, _out(args))


def _feedback(args) -> int:
    args.submissions = _submissions(args)
    from autograder.grading import commands

    return commands.feedback(args, _out(args))


def _validate(args) -> int:
    limits = _limits(args)
    for path in args.notebooks:
        inputs.existing_file(path, "notebook", ".ipynb")
    from autograder.grading import validate

    return validate.main(args.notebooks, limits)


_COMMANDS = {
    "build": _build, "twin": _twin, "run": _run, "check-build": _check_build, "demo": _demo, "site": _site,
    "check-tests": _check_tests, "widgets": _widgets, "grade": _grade, "import": _import, "export": _export, "feedback": _feedback,
    "validate": _validate,
}
