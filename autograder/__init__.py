"""The instructor's tooling around nbgrader: build, grade, feedback, export, and testing the tests."""
