"""Grading a class: import → normalize → sandbox → execute → score → merge → export and feedback.

One module per step; ``pipeline`` strings them together for ``python -m autograder grade``.
"""
