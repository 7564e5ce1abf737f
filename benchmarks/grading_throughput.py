"""Grade a synthetic class three ways in one run, and print the throughput and overhead figures.

    python benchmarks/grading_throughput.py [--students 40] [--assignment 01-foundations] [--workers 2]

The class: copies of the reference submission and of the "mistakes" sample (one recorded wrong
answer per TODO), alternating. The three ways: this tool on the local pool, this tool on Dask (an
embedded LocalCluster with the same number of workers), and plain sequential `nbgrader autograde`.
Targets (issue 6): at least 1.7x nbgrader's throughput on 2 cores; at most 2 s per notebook beyond
the notebook's own execution time; Dask within 10% of the local pool.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import checktests, config, notebooks, release, samples  # noqa: E402
from autograder.grading import layout, pipeline  # noqa: E402


def make_class(assignment: str, course: Path, students: int) -> Path:
    """Write ``students`` submissions into course/submitted, alternating reference and mistakes."""
    submitted = course / config.SUBMITTED_DIR
    for path in sorted((config.SOURCE / assignment).glob("*.ipynb")):
        reference = checktests.reference(nbformat.read(path, as_version=4))
        mistaken = reference
        for variant in samples.first_mistakes(assignment, path.name):
            mistaken = notebooks.replace_cell(mistaken, variant.cell, variant.code)
        for i in range(students):
            target = submitted / f"student-{i:03d}" / assignment / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(reference if i % 2 == 0 else mistaken, target)
    return submitted


def grade_with_tool(assignment: str, root: Path, students: int, workers: int, dask: bool) -> tuple[float, list]:
    course = release.make_course(root / ("dask" if dask else "local"), [assignment])
    submitted = make_class(assignment, course, students)
    run = pipeline.Run(assignment, course, submitted, course / "out", layout.Limits(), workers=workers, dask=dask)
    started = time.perf_counter()
    results = pipeline.grade(run, progress=False)
    return time.perf_counter() - started, results


def grade_with_nbgrader(assignment: str, root: Path, students: int) -> float:
    course = release.make_course(root / "nbgrader", [assignment])
    release.generate_release(course, assignment)
    make_class(assignment, course, students)
    started = time.perf_counter()
    release.nbgrader(course, "autograde", assignment, "--force")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--assignment", default="01-foundations")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    n_notebooks = len(list((config.SOURCE / args.assignment).glob("*.ipynb")))
    total = args.students * n_notebooks
    root = Path(tempfile.mkdtemp(prefix="grading-benchmark-"))
    try:
        local_s, results = grade_with_tool(args.assignment, root, args.students, args.workers, dask=False)
        dask_s, _ = grade_with_tool(args.assignment, root, args.students, args.workers, dask=True)
        nbgrader_s = grade_with_nbgrader(args.assignment, root, args.students)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # The overhead of each notebook, measured in the same run: its grading wall time (normalize,
    # sandbox and kernel start-up, scoring) minus the time its kernel spent executing cells.
    overheads = [n.seconds - n.cell_seconds for r in results for n in r.notebooks]
    own = {}
    for r in results:
        for n in r.notebooks:
            own.setdefault(n.name, []).append(n.cell_seconds)
    ratio = nbgrader_s / local_s
    dask_gap = dask_s / local_s - 1
    overhead = statistics.mean(overheads)
    print(f"class: {args.students} submissions x {n_notebooks} notebooks of {args.assignment} = {total} notebook runs, {args.workers} workers")
    print("cell execution time per notebook, median over the class (local pool): "
          + ", ".join(f"{k} {statistics.median(v):.1f} s" for k, v in sorted(own.items())))
    print(f"plain nbgrader autograde (sequential): {nbgrader_s:7.1f} s  {total / nbgrader_s * 60:6.1f} notebooks/min")
    print(f"this tool, local pool:                 {local_s:7.1f} s  {total / local_s * 60:6.1f} notebooks/min")
    print(f"this tool, Dask LocalCluster:          {dask_s:7.1f} s  {total / dask_s * 60:6.1f} notebooks/min")
    checks = [
        (f"throughput vs nbgrader: {ratio:.2f}x", ratio >= 1.7, "target >= 1.7x"),
        (f"overhead per notebook beyond its own execution: {overhead:.2f} s (median {statistics.median(overheads):.2f} s)", overhead <= 2, "target <= 2 s"),
        (f"Dask vs local pool: {dask_gap:+.1%}", abs(dask_gap) <= 0.10, "target within 10%"),
    ]
    for text, ok, target in checks:
        print(f"{'ok  ' if ok else 'MISS'} {text}  ({target})")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
