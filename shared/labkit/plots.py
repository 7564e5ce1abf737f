"""The course's figure style and a few plotting helpers shared by every lab."""

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 90,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def use_course_style() -> None:
    """Apply the course's matplotlib style (call once at the top of a notebook)."""
    plt.rcParams.update(STYLE)


def label(ax: Axes, title: str, xlabel: str, ylabel: str) -> Axes:
    """Give an axes its title and axis labels in one call; every course figure has all three."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def scatter_2d(ax: Axes, points, title: str, **kwargs) -> Axes:
    """Scatter an (n, 2) array or tensor of points with equal axes."""
    points = points.detach().cpu() if hasattr(points, "detach") else points
    ax.scatter(points[:, 0], points[:, 1], s=kwargs.pop("s", 8), alpha=kwargs.pop("alpha", 0.6), **kwargs)
    ax.set_aspect("equal", adjustable="datalim")
    return label(ax, title, "$x_1$", "$x_2$")


def training_curves(ax: Axes, history: dict[str, list[float]], title: str, xlabel: str = "step") -> Axes:
    """Plot each named series of a training history on one axes."""
    for name, values in history.items():
        ax.plot(values, label=name)
    ax.legend()
    return label(ax, title, xlabel, "value")
