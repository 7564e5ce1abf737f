"""nbgrader configuration for the course. The instructor runs nbgrader from this folder."""

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "generative-models-labs"

# Per-cell limit while nbgrader executes a notebook (validate and autograde). Training cells shrink
# under NBGRADER_EXECUTION (labkit.runtime), so 120 s is a generous ceiling, not a budget.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A test cell a student deleted is restored from the gradebook rather than left for manual grading
# forever (nbgrader #1682).
c.OverwriteCells.add_missing_cells = True

# Text twins and mutant catalogs live in labs/, never in source/; this keeps them out of release/
# even if one is copied there by mistake.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*.mutants.yml",
]
