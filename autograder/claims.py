"""Claims tied to the run: every number the text states about a run is checked against the executed solution.

Each twin ``labs/<assignment>/NN-name.py`` may have a claims file ``NN-name.claims.yml`` beside it:

    values:                                  # named numbers, read from the executed solution
      test_kl: 'test −ELBO [\\d.]+ nats \\(recon [\\d.]+ \\+ KL ([\\d.]+)\\)'    # a regex over the text outputs
      ae_bce: {pattern: 'autoencoder ([\\d.]+)', cell: cell-021}            # ... of one cell (grade_id or id)
      train_s: {tqdm: VAE epochs}                                          # a progress bar's elapsed seconds
      seconds: {build: seconds}                                            # from metadata.build (build.py)
      gap: {expr: 'elbo - log_px'}                                         # arithmetic on other values
    claims:
      - text: "The KL term per digit ends around {test_kl=13.7} nats"       # the number as the text writes it
      - text: "It reconstructs as well or better"
        holds: "ae_bce <= vae_bce"                                          # a direction the numbers must show
      - text: "about {seconds=90} s on the course machine (2 cores)"
        rel: 0.5                                                            # a machine-dependent range
        cores: 2

A claim's ``text`` must appear in the twin (markdown, model answers, rubrics, code comments; whitespace
and line breaks do not matter), or in the file named by ``in`` (``README.md``: the handout), so a claim
whose text was edited away fails instead of hiding. Each ``{name=number}`` in it is a number the text
states: it must equal the named value to within half a unit of its last written digit, or ``tolerance``
(absolute) or ``rel`` (relative) when given. ``holds`` is a comparison over the values. ``cores`` says
which machine a timing claim is about: the solution must record (``metadata.build``, written by
``autograder.build``) that it was executed on that many cores.

A value's regex is searched in the text outputs of the solution notebook of the same name (``notebook``
picks another of the assignment); it must match exactly once unless ``match`` picks one (0, 1, ..., −1),
and its first group is the number (commas and a Unicode minus are understood; a printed True or False
is 1 or 0). ``scale`` multiplies it (0.13 printed, 13 % written: ``scale: 100``). ``tqdm`` reads the elapsed seconds of the finished
progress bar with that description from the notebook's saved widget state; ``build`` reads what the build
recorded about the notebook's execution (``seconds``, ``cores``, ``load_average``).
"""

import ast
import html
import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import yaml

from autograder import config

SUFFIX = ".claims.yml"
STATED = re.compile(r"\{(?P<name>\w+)=(?P<number>[^{}=]+)\}")
NUMBER = re.compile(r"[−+-]?\d[\d,]*(?:\.\d+)?(?:[eE][−+-]?\d+)?")
BOOLEANS = {"True": 1.0, "False": 0.0}  # a printed Python bool, for a holds: check
SOURCES = ("pattern", "expr", "tqdm", "build")  # where a value comes from: exactly one per value
VALUE_OPTIONS = {"cell", "notebook", "match", "scale"}


class ClaimsError(ValueError):
    """A claims file that cannot be read or names a value that cannot be found."""


@dataclass
class Claim:
    """One statement of the text and what in the run must agree with it."""

    text: str
    stated: dict[str, str] = field(default_factory=dict)  # value name -> the number as written
    holds: str | None = None
    tolerance: float | None = None
    rel: float | None = None
    cores: int | None = None
    where: str | None = None  # a file of the assignment (README.md); None: the twin

    @property
    def literal(self) -> str:
        """The text as it appears in the notebook or handout: each {name=number} is just the number."""
        return STATED.sub(lambda m: m["number"], self.text)


def claims_path(twin: Path) -> Path:
    """labs/<assignment>/NN-name.claims.yml for the twin labs/<assignment>/NN-name.py."""
    return twin.with_name(twin.name[: -len(config.TWIN_SUFFIX)] + SUFFIX)


def load(path: Path) -> tuple[dict[str, dict], list[Claim]]:
    """The named value definitions and the claims of one claims file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ClaimsError(f"{path.name}: not valid YAML: {error}") from None
    values = {name: ({"pattern": spec} if isinstance(spec, str) else dict(spec)) for name, spec in raw.get("values", {}).items()}
    for name, spec in values.items():
        sources = [key for key in SOURCES if key in spec]
        if len(sources) != 1 or set(spec) - set(SOURCES) - VALUE_OPTIONS:
            raise ClaimsError(f"{path.name}, value {name!r}: needs one of {', '.join(SOURCES)}, options only {sorted(VALUE_OPTIONS)}")
    claims = []
    for index, entry in enumerate(raw.get("claims", [])):
        unknown = set(entry) - {"text", "holds", "tolerance", "rel", "cores", "in"}
        if unknown or "text" not in entry:
            raise ClaimsError(f"{path.name}, claim {index + 1}: needs a text and knows only text, holds, tolerance, rel, cores, in")
        stated = {m["name"]: m["number"].strip() for m in STATED.finditer(entry["text"])}
        if not stated and "holds" not in entry:
            raise ClaimsError(f"{path.name}, claim {index + 1}: states no {{name=number}} and has no holds: it checks nothing")
        claims.append(Claim(entry["text"], stated, entry.get("holds"), entry.get("tolerance"), entry.get("rel"),
                            entry.get("cores"), entry.get("in")))
    return values, claims


def parse_number(text: str) -> float:
    """A number as a notebook prints it or a text writes it: '−0.005', '+0.036', '4,000', '1.18e-13'."""
    match = NUMBER.search(text)
    if not match:
        raise ValueError(f"no number in {text!r}")
    return float(match[0].replace("−", "-").replace(",", ""))


def normalized(text: str) -> str:
    """Whitespace collapsed to single spaces, so a claim matches across line breaks."""
    return " ".join(text.split())


def twin_text(twin: Path) -> str:
    """Every cell's source of a twin, markdown without its comment marks, whitespace collapsed."""
    return normalized("\n".join(cell.source for cell in jupytext.read(twin, fmt="py:percent").cells))


def outputs_text(cell) -> str:
    """The text a code cell printed or displayed (streams and text/plain results)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data") and "text/plain" in output.get("data", {}):
            parts.append(output.data["text/plain"])
    return "".join(parts)


class Run:
    """The executed solutions of one assignment, read once, and the named values of a claims file."""

    def __init__(self, assignment: str, notebook: str, definitions: dict[str, dict], solutions: Path = config.SOLUTIONS):
        self.folder = solutions / assignment
        self.default = notebook
        self.definitions = definitions
        self._notebooks: dict[str, nbformat.NotebookNode] = {}
        self._values: dict[str, float] = {}

    def notebook(self, name: str) -> nbformat.NotebookNode:
        if name not in self._notebooks:
            path = self.folder / f"{name}.ipynb"
            if not path.exists():
                raise ClaimsError(f"{path.relative_to(self.folder.parent.parent)} is missing: build the solutions first")
            self._notebooks[name] = nbformat.read(path, as_version=4)
        return self._notebooks[name]

    def value(self, name: str) -> float:
        if name not in self._values:
            if name not in self.definitions:
                raise ClaimsError(f"value {name!r} is not defined under values:")
            self._values[name] = self._evaluate(name, self.definitions[name])
        return self._values[name]

    def _evaluate(self, name: str, spec: dict) -> float:
        if "expr" in spec:
            return evaluate(spec["expr"], self.value)
        notebook = self.notebook(spec.get("notebook", self.default))
        if "tqdm" in spec:
            return tqdm_seconds(notebook, spec["tqdm"], name)
        if "build" in spec:
            record = notebook.metadata.get("build", {})
            if spec["build"] not in record:
                raise ClaimsError(f"value {name!r}: the solution records no build {spec['build']!r} (rebuild it)")
            return float(record[spec["build"]])
        cells = [c for c in notebook.cells if c.cell_type == "code"]
        if "cell" in spec:
            cells = [c for c in cells if spec["cell"] in (c.id, c.metadata.get("nbgrader", {}).get("grade_id"))]
            if len(cells) != 1:
                raise ClaimsError(f"value {name!r}: no code cell {spec['cell']!r}")
        matches = [m for c in cells for m in re.finditer(spec["pattern"], outputs_text(c))]
        if "match" in spec:
            matches = matches[spec["match"]: spec["match"] + 1 or None]
        if len(matches) != 1:
            raise ClaimsError(f"value {name!r}: the pattern {spec['pattern']!r} matches {len(matches)} times in the outputs, not once")
        found = matches[0][1]
        try:
            number = BOOLEANS[found] if found in BOOLEANS else parse_number(found)
        except (TypeError, ValueError):
            raise ClaimsError(f"value {name!r}: the pattern's first group, {found!r}, is not a number") from None
        return number * spec.get("scale", 1)

    def build(self, notebook: str | None = None) -> dict:
        return self.notebook(notebook or self.default).metadata.get("build", {})


ELAPSED = re.compile(r"\[(?:(\d+):)?(\d+):(\d+)<")


def tqdm_seconds(notebook: nbformat.NotebookNode, description: str, name: str) -> float:
    """The elapsed time a finished tqdm.auto bar recorded, read from the notebook's saved widget state.

    A bar is an HBox of three widgets: its description ("VAE epochs: 100%"), the bar, and its counter
    ("15/15 [00:10<00:00, 1.48it/s]"); exactly one bar must have the description ``description``.
    """
    states = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})

    def text(model_id: str) -> str:
        value = states.get(model_id.removeprefix("IPY_MODEL_"), {}).get("state", {}).get("value", "")
        return html.unescape(value).replace("\u2007", " ").strip() if isinstance(value, str) else ""

    bars = []
    for model in states.values():
        children = model.get("state", {}).get("children", [])
        if model.get("model_name") == "HBoxModel" and len(children) == 3:
            label, counter = text(children[0]), text(children[2])
            if label.rsplit(":", 1)[0].strip() == description and ELAPSED.search(counter):
                bars.append(counter)
    if len(bars) != 1:
        raise ClaimsError(f"value {name!r}: {len(bars)} finished progress bars are called {description!r}, not one")
    hours, minutes, seconds = ELAPSED.search(bars[0]).groups()
    return 3600 * int(hours or 0) + 60 * int(minutes) + int(seconds)


_OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.USub: operator.neg, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
_FUNCTIONS = {"abs": abs, "min": min, "max": max, "log10": math.log10}
_KEYWORDS = {"and", "or", "not"}


def evaluate(expression: str, lookup) -> float | bool:
    """Evaluate arithmetic, comparisons, and/or and abs/min/max/log10 over named values, nothing else."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            return lookup(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.operand))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not walk(node.operand)
        if isinstance(node, ast.BoolOp):
            results = [walk(v) for v in node.values]
            return all(results) if isinstance(node.op, ast.And) else any(results)
        if isinstance(node, ast.Compare):
            left = walk(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = walk(right_node)
                if type(op) not in _OPERATORS or not _OPERATORS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
            return _FUNCTIONS[node.func.id](*(walk(a) for a in node.args))
        raise ClaimsError(f"{expression!r}: only numbers, value names, arithmetic, comparisons, and/or, abs/min/max/log10")

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ClaimsError(f"{expression!r} is not an expression") from None
    return walk(tree)


def allowed_error(written: str, claim: Claim, run_value: float) -> float:
    """How far the run may be from a stated number: tolerance, rel, or half a unit of its last digit."""
    if claim.tolerance is not None:
        return claim.tolerance
    if claim.rel is not None:
        return claim.rel * abs(run_value)
    mantissa, _, exponent = NUMBER.search(written)[0].replace(",", "").replace("−", "-").lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10 ** (int(exponent or 0) - decimals) * (1 + 1e-9)


def check_claim(claim: Claim, run: Run, texts: dict[str | None, str]) -> list[str]:
    """Every way one claim disagrees with its text or with the run, as readable sentences."""
    problems = []
    where = claim.where or f"{run.default}.py"
    if normalized(claim.literal) not in texts[claim.where]:
        problems.append(f"not found in {where} (edited? update the claim): {claim.literal!r}")
    try:
        for name, written in claim.stated.items():
            actual, stated = run.value(name), parse_number(written)
            if abs(actual - stated) > allowed_error(written, claim, actual):
                problems.append(f"{where}: the text says {written}, the run gives {name} = {actual:g}: {claim.literal!r}")
        if claim.holds and not evaluate(claim.holds, run.value):
            shown = ", ".join(f"{n} = {run.value(n):g}" for n in sorted(set(re.findall(r"[A-Za-z_]\w*", claim.holds)) - set(_FUNCTIONS) - _KEYWORDS))
            problems.append(f"{where}: the run does not show {claim.holds} ({shown}): {claim.literal!r}")
        if claim.cores is not None and run.build().get("cores") != claim.cores:
            problems.append(f"{where}: the claim is about a {claim.cores}-core machine, the solutions were built on "
                            f"{run.build().get('cores')} cores: {claim.literal!r}")
    except ClaimsError as error:
        problems.append(f"{where}: {error}: {claim.literal!r}")
    return problems


def check(path: Path, solutions: Path = config.SOLUTIONS) -> list[str]:
    """Every problem of one claims file labs/<assignment>/NN-name.claims.yml against solutions/<assignment>/."""
    assignment, notebook = path.parent.name, path.name[: -len(SUFFIX)]
    twin = path.with_name(notebook + config.TWIN_SUFFIX)
    if not twin.exists():
        return [f"{path.name}: no twin {twin.name} beside it"]
    try:
        definitions, claims = load(path)
    except ClaimsError as error:
        return [str(error)]
    run = Run(assignment, notebook, definitions, solutions)
    texts: dict[str | None, str] = {None: twin_text(twin)}
    for name in {c.where for c in claims if c.where}:
        texts[name] = normalized((path.parent / name).read_text(encoding="utf-8"))
    return [f"{assignment}/{problem}" for claim in claims for problem in check_claim(claim, run, texts)]
