"""Command line: python -m autograder <command> ..."""

import argparse
import sys
import time
from pathlib import Path

import nbformat

from autograder import build, checktests, config, demo, execute, twins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("build", help="regenerate source/, release/ and solutions/ from the text twins")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--no-solutions", action="store_true", help="skip executing the solutions")

    p = commands.add_parser("twin", help="build one source notebook from its twin (for authors)")
    p.add_argument("twin", type=Path, help="e.g. labs/01-foundations/02-kl-divergence.py")

    p = commands.add_parser("run", help="execute one source notebook and save it with outputs (for authors)")
    p.add_argument("notebook", type=Path, help="e.g. source/01-foundations/02-kl-divergence.ipynb")
    p.add_argument("--mode", choices=["full", "test", "grading"], default="full")
    p.add_argument("--out", type=Path, required=True)

    p = commands.add_parser("check-build", help="fail if any generated file is out of date")
    p.add_argument("assignments", nargs="*")

    p = commands.add_parser("demo", help="autograde the sample submissions with plain nbgrader, print the scores")
    p.add_argument("assignments", nargs="*")

    p = commands.add_parser("check-tests", help="run the mutant catalog against the tests")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--notebook", help="one notebook file name, e.g. 02-kl-divergence.ipynb")

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
        execute.execute(notebook, args.notebook.resolve().parent, mode=args.mode)
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
    if args.command == "check-tests":
        return checktests.main(chosen, args.notebook)
    return 2


if __name__ == "__main__":
    sys.exit(main())
