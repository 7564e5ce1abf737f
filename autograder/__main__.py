"""Command line: python -m autograder <command> ..."""

import argparse
import sys
import time
from pathlib import Path

import nbformat

from autograder import build, checktests, config, demo, execute, site, twins
from autograder.grading import canvas, feedback, layout, pipeline, sandbox, store, validate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("build", help="regenerate source/, release/ and solutions/ from the text twins")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--no-solutions", action="store_true", help="skip executing the solutions")

    p = commands.add_parser("twin", help="build one source notebook from its twin (for authors)")
    p.add_argument("twin", type=Path, help="e.g. labs/01-foundations/02-kl-divergence.py")

    p = commands.add_parser("run", help="execute one source notebook and save it with outputs (for authors); "
                                        "it runs in --out's folder, so the files it writes land there")
    p.add_argument("notebook", type=Path, help="e.g. source/01-foundations/02-kl-divergence.ipynb")
    p.add_argument("--mode", choices=["full", "test", "grading"], default="full")
    p.add_argument("--out", type=Path, required=True)

    p = commands.add_parser("check-build", help="fail if any generated file is out of date")
    p.add_argument("assignments", nargs="*")

    p = commands.add_parser("demo", help="autograde the sample submissions with plain nbgrader, print the scores")
    p.add_argument("assignments", nargs="*")

    p = commands.add_parser("site", help="turn the executed solutions into a static self-study site")
    p.add_argument("--out", type=Path, default=config.SITE_OUT, help="the site's folder (default build/site)")

    p = commands.add_parser("check-tests", help="run the mutant catalog against the tests")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--notebook", help="one notebook file name, e.g. 02-kl-divergence.ipynb")

    p = commands.add_parser("grade", help="grade a class in sandboxes, update the gradebook, write CSVs and feedback")
    p.add_argument("assignment", help="assignment id, e.g. 01-foundations")
    p.add_argument("--submissions", type=Path, required=True, help="folder laid out as <student>/<assignment>/*.ipynb")
    p.add_argument("--course", type=Path, default=config.REPO, help="nbgrader course folder with source/ and gradebook.db")
    p.add_argument("--out", type=Path, help=f"output folder (default: {config.GRADES_OUT.relative_to(config.REPO)}/ASSIGNMENT)")
    p.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--dask", action="store_true", help="use Dask with an embedded LocalCluster")
    _add_limits(p)

    p = commands.add_parser("import", help="unpack a Canvas submissions.zip into <submissions>/<student>/<assignment>/")
    p.add_argument("assignment")
    p.add_argument("zip", type=Path)
    p.add_argument("--submissions", type=Path, default=config.REPO / config.SUBMITTED_DIR)
    p.add_argument("--course", type=Path, default=config.REPO)

    p = commands.add_parser("feedback", help="re-render the HTML feedback of a graded run")
    p.add_argument("assignment")
    p.add_argument("--out", type=Path)
    p.add_argument("--reveal-hidden", action="store_true", help="show the hidden tests' source")
    p.add_argument("--reveal-after", metavar="DATETIME", help="show it only once this ISO date-time (UTC) has passed")

    p = commands.add_parser("validate", help="run notebooks as the grader would; exit 1 if any test fails")
    p.add_argument("notebooks", nargs="+", type=Path)
    _add_limits(p)

    args = parser.parse_args(argv)
    chosen = getattr(args, "assignments", None) or config.assignments()
    if args.command == "build":
        build.build(chosen, with_solutions=not args.no_solutions)
        return 0
    if args.command == "twin":
        twin = args.twin.resolve()
        target = config.SOURCE / twin.parent.name / config.notebook_name(twin)
        twins.write_source(twin, target)
        print(f"wrote {target.relative_to(config.REPO)}")
        return 0
    if args.command == "run":
        notebook = nbformat.read(args.notebook, as_version=4)
        started = time.perf_counter()
        args.out.resolve().parent.mkdir(parents=True, exist_ok=True)
        execute.execute(notebook, args.out.resolve().parent, mode=args.mode)
        nbformat.write(notebook, args.out)
        print(f"executed {args.notebook} in {args.mode} mode in {time.perf_counter() - started:.1f} s -> {args.out}")
        return 0
    if args.command == "check-build":
        problems = build.stale_files(chosen)
        for problem in problems:
            print(problem)
        print("generated files are up to date" if not problems else f"{len(problems)} generated file(s) out of date: run `python -m autograder build`")
        return 1 if problems else 0
    if args.command == "demo":
        return demo.run(chosen)
    if args.command == "site":
        return site.main(args.out)
    if args.command == "check-tests":
        return checktests.main(chosen, args.notebook)
    if args.command == "grade":
        return _grade(args)
    if args.command == "import":
        expected = {p.name for p in (args.course / "source" / args.assignment).glob("*.ipynb")}
        stored = canvas.import_zip(args.zip, args.assignment, expected, args.submissions)
        print(f"imported {sum(map(len, stored.values()))} file(s) of {len(stored)} student(s) into {args.submissions}")
        return 0
    if args.command == "feedback":
        out = args.out or config.GRADES_OUT / args.assignment
        paths = feedback.write_all(out, store.load_all(out), args.reveal_hidden or feedback.reveal_now(args.reveal_after))
        print(f"wrote {len(paths)} feedback page(s) into {out / 'feedback'}")
        return 0
    if args.command == "validate":
        return validate.main(args.notebooks, _limits(args))
    return 2


def _add_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cell-timeout", type=float, default=config.CELL_TIMEOUT_S, help="seconds per cell")
    p.add_argument("--notebook-timeout", type=float, default=config.NOTEBOOK_TIMEOUT_S, help="seconds per notebook")
    p.add_argument("--memory", type=int, default=config.MEMORY_MB, help="memory limit per process, MB")
    p.add_argument("--unsafe", action="store_true", help="run student code without the bubblewrap sandbox")


def _limits(args: argparse.Namespace) -> layout.Limits:
    return layout.Limits(args.cell_timeout, args.notebook_timeout, args.memory, config.MAX_PROCESSES, args.unsafe)


def _grade(args: argparse.Namespace) -> int:
    run = pipeline.Run(
        args.assignment, args.course.resolve(), args.submissions.resolve(),
        (args.out or config.GRADES_OUT / args.assignment).resolve(), _limits(args), args.workers, args.scheduler, args.dask,
    )
    try:
        results = pipeline.grade(run)
    except sandbox.SandboxUnavailable as why:
        print(f"refusing to grade: {why}", file=sys.stderr)
        return 2
    statuses: dict[str, int] = {}
    for cell in (c for r in results for n in r.notebooks for c in n.cells):
        statuses[cell.status] = statuses.get(cell.status, 0) + 1
    print(f"graded {len(results)} submission(s) of {run.assignment}: " + ", ".join(f"{v} {k}" for k, v in sorted(statuses.items())))
    print(f"results: {run.out / 'results.json'}, grades: {run.out / 'grades.csv'}, Canvas: {run.out / 'canvas.csv'}, feedback: {run.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
