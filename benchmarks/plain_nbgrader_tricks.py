"""Plain ``nbgrader autograde`` on the grading corpus's tricks, beside what our judge gives them.

    python benchmarks/plain_nbgrader_tricks.py [--only NAME ...]

Each trick is the wrong answer ``3 * x`` (1 of 4 autograded points alone) plus a trick run in the
student's kernel (tests/autograder/grading/grading_corpus.py). nbgrader runs the tests in that kernel;
the judge does not (test_grading_corpus.py checks that each scores exactly 1). Slow: a trick that
breaks the kernel costs nbgrader its per-cell timeout, and one that kills the kernel's parent kills
nbgrader, so each student is graded by a separate nbgrader run.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "autograder" / "grading"))

import grading_corpus  # noqa: E402
import tiny_course  # noqa: E402
from conftest import write_submissions  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="trick names (default: every trick)")
    args = parser.parse_args()
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory() as scratch:
        course = tiny_course.make_course(Path(scratch) / "course")
        tricks = [c for c in grading_corpus.cases(course, course / "submitted") if c.expected is grading_corpus.WRONG]
        tricks = [c for c in tricks if not args.only or c.student in args.only]
        write_submissions(course / "submitted", tricks)
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", tiny_course.ASSIGNMENT, "--force"],
                       cwd=course, capture_output=True, check=True)
        print(f"{'trick':32s} {'plain nbgrader':>15s} {'our judge':>10s}")
        for case in tricks:
            subprocess.run([sys.executable, "-m", "nbgrader", "autograde", tiny_course.ASSIGNMENT, "--force",
                            f"--student={case.student}"], cwd=course, capture_output=True)
            with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
                try:
                    submission = gradebook.find_submission(tiny_course.ASSIGNMENT, case.student)
                    points = f"{sum(g.score for n in submission.notebooks for g in n.grades if g.auto_score is not None):g}/4"
                except Exception:
                    points = "not graded"
            print(f"{case.student:32s} {points:>15s} {'1/4':>10s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
