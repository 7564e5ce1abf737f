"""Attach a function to a class after the class is defined.

A lab defines a class once, then fills in one method per notebook cell, so that each TODO has a cell
of its own (and a test right after it). This is the ``d2l.add_to_class`` idiom.
"""

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def add_to_class(cls: type) -> Callable[[F], F]:
    """Return a decorator that sets the decorated function as an attribute of ``cls``.

    Args:
        cls: the class that receives the method, under the function's own name.
    """

    def register(function: F) -> F:
        setattr(cls, function.__name__, function)
        return function

    return register
