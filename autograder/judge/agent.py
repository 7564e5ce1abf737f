"""The student's side of a graded run: run the student's cells, answer the judge's calls. Runs in the sandbox.

    python -I agent.py INBOX FONTS < requests > replies

INBOX holds the files the work folder starts with; FONTS, matplotlib's font list to start from.

Nothing here decides a grade, and nothing here is trusted: the judge treats every reply as data
from an adversary. The agent only ever receives the student's own cells (never a test cell) and,
for each call, its arguments. It runs the student's code in an IPython shell (so magics work), in
a module that stands for ``__main__``, so the judge's pickles of the notebook's own classes resolve.

Requests (see judge.py) and replies are wire messages:
- ``run``: run the cells up to an index, return each cell's output and the names the answer binds;
- ``call``: call a handle with pickled arguments; return the value as data, what the call changed
  in its arguments, and a graph id when the judge will ask for gradients;
- ``getattr``: an attribute of a handle, as data;
- ``vjp``: a vector-Jacobian product through a call's recorded graph (torch);
- ``mlx_vjp``: a vector-Jacobian product of a call with MLX arrays, recomputed under ``mx.vjp`` from
  the call's own arguments and random state (MLX records no graph to come back to).
"""

import io
import os
import pickle
import signal
import sys
import traceback
import types
from collections import OrderedDict
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the repository is hidden: import by path

import numpy as np  # noqa: E402
import wire  # noqa: E402
from sandboxed import adopt_orphans, prepare, reap_strays  # noqa: E402

MAX_GRAPHS = 64  # recorded graphs kept for vjp requests; the oldest go first


class CellTimeout(BaseException):
    """Raised in the student's code when a cell or call runs out of time (BaseException: ``except Exception`` misses it)."""


def new_shell():
    """The IPython shell the student's cells run in (one per process), and the module that stands for ``__main__``.

    Built before the judge's first request arrives, so that its start-up overlaps the judge's own.
    """
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if InteractiveShell.initialized():
        shell = InteractiveShell.instance()
        return shell.user_module, shell
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    module = types.ModuleType("__main__")
    sys.modules["__main__"] = module
    return module, InteractiveShell.instance(user_module=module, config=config)


class Agent:
    """Runs the student's cells in order and keeps the objects the judge holds handles to.

    Args:
        cells: (index, source) of every cell of the student's notebook that runs here, in order.
        output_limit: characters of output kept per cell or call.
    """

    def __init__(self, cells: list[tuple[int, str]], output_limit: int):
        self.module, self.shell = new_shell()
        self.cells = cells
        self.position = 0
        self.output_limit = output_limit
        self.handles: dict[int, object] = {}
        self.graphs: OrderedDict[int, tuple[list, list]] = OrderedDict()
        self.mlx_calls: OrderedDict[int, tuple[dict, list[bytes]]] = OrderedDict()

    # ---- handles ----

    def handle(self, obj) -> int:
        key = id(obj)
        self.handles[key] = obj
        return key

    def lookup(self, key) -> object:
        try:
            return self.handles[key]
        except (KeyError, TypeError):
            raise LookupError(f"no object with handle {key!r}") from None

    # ---- requests ----

    def run(self, header: dict) -> tuple[dict, list[bytes]]:
        """Run cells up to ``upto``; return their outputs and the requested names' values."""
        reports = []
        while self.position < len(self.cells) and self.cells[self.position][0] <= header["upto"]:
            index, source = self.cells[self.position]
            self.position += 1
            with capture(self.output_limit) as output, alarm(header["budget"]):
                result = self.shell.run_cell(source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
            reports.append({"index": index, **output.report(), "error": describe(error) if error else None})
            if isinstance(error, CellTimeout):
                break
        namespace = self.module.__dict__
        values = {name: namespace[name] for name in header.get("names", []) if name in namespace}
        attrs = {}
        for owner, attr in header.get("attrs", []):
            cls = namespace.get(owner)
            if isinstance(cls, type) and attr in vars(cls):
                attrs[f"{owner}.{attr}"] = vars(cls)[attr]
        encoder = self.encoder()
        return {"cells": reports, "values": encoder.encode(values), "attrs": encoder.encode(attrs)}, encoder.buffers

    def call(self, header: dict, buffers: list[bytes]) -> tuple[dict, list[bytes]]:
        """Call a handle with the judge's arguments; return the value and what the call changed."""
        unpickler = ArgumentUnpickler(io.BytesIO(buffers[0]), header["tensors"], buffers, self)
        target, args, kwargs = unpickler.load()
        stateful = wire.stateful_objects((args, kwargs))
        set_random_state(header["rng"], buffers)
        torch = sys.modules.get("torch")
        grad_mode = torch.set_grad_enabled(bool(header["grad_mode"])) if torch is not None else _nothing()
        with capture(self.output_limit) as output, alarm(header["budget"]), grad_mode:
            value = target(*args, **kwargs)
        encoder = self.encoder(track_grad=bool(header["grad"]))
        reply = {"value": encoder.encode(value), "changed": self.changed(unpickler, encoder), **output.report()}
        reply["stateful"] = encoder.encode([_state(obj) for obj in stateful])
        reply["rng"] = encoder.encode(wire.random_state())
        if encoder.grad_outputs:
            reply["graph"] = self.record_graph(encoder.grad_outputs, unpickler.leaves)
        if unpickler.mlx_leaves and wire.mlx_float_arrays(value):
            reply["mlx_call"] = self.record(self.mlx_calls, (header, buffers))
        return reply, encoder.buffers

    def getattr(self, header: dict) -> tuple[dict, list[bytes]]:
        with capture(self.output_limit), alarm(header["budget"]):
            value = getattr(self.lookup(header["target"]), str(header["name"]))
        encoder = self.encoder()
        return {"value": encoder.encode(value)}, encoder.buffers

    def vjp(self, header: dict, buffers: list[bytes]) -> tuple[dict, list[bytes]]:
        import torch

        outputs, leaves = self.graphs[header["graph"]]
        grads = wire.Decoder(buffers, _no_references).decode(header["grads"])
        pairs = [(o, g) for o, g in zip(outputs, grads) if g is not None]
        inputs = [leaf for leaf in leaves if leaf is not None]
        with alarm(header["budget"]):
            found = torch.autograd.grad([o for o, _ in pairs], inputs, [g.to(o.dtype) for o, g in pairs], retain_graph=True,
                                        allow_unused=True) if pairs and inputs else [None] * len(inputs)
        by_leaf = iter(found)
        result = [next(by_leaf) if leaf is not None else None for leaf in leaves]
        encoder = self.encoder()
        return {"grads": encoder.encode(result)}, encoder.buffers

    def mlx_vjp(self, header: dict, buffers: list[bytes]) -> tuple[dict, list[bytes]]:
        import mlx.core as mx

        call_header, call_buffers = self.mlx_calls[header["call"]]
        cotangents = wire.Decoder(buffers, _no_references).decode(header["cotangents"])
        primals = ArgumentUnpickler(io.BytesIO(call_buffers[0]), call_header["tensors"], call_buffers, self).rebuild_mlx_leaves()

        def recompute(*arrays):
            unpickler = ArgumentUnpickler(io.BytesIO(call_buffers[0]), call_header["tensors"], call_buffers, self, list(arrays))
            target, args, kwargs = unpickler.load()
            set_random_state(call_header["rng"], call_buffers)
            return wire.mlx_float_arrays(target(*args, **kwargs))

        with capture(self.output_limit), alarm(header["budget"]):
            _, grads = mx.vjp(recompute, primals, [mx.array(c) for c in cotangents])
            mx.eval(grads)
        encoder = self.encoder()
        return {"grads": encoder.encode(list(grads))}, encoder.buffers

    # ---- helpers ----

    def encoder(self, track_grad: bool = False) -> "GradEncoder":
        return GradEncoder(self.handle, _state_to_send, track_grad)

    def changed(self, unpickler: "ArgumentUnpickler", encoder: wire.Encoder) -> list:
        """[[tensor or array index, new value], ...] for every argument the call modified in place."""
        changes = []
        for index, (value, original) in unpickler.rebuilt.items():
            current = _as_numpy(value)
            if current.shape != original.shape or current.dtype != original.dtype or not np.array_equal(current, original, equal_nan=True):
                changes.append([index, encoder.encode(value.detach() if hasattr(value, "detach") else value)])
        return changes

    def record_graph(self, outputs: list, leaves: list) -> int:
        return self.record(self.graphs, (outputs, leaves))

    @staticmethod
    def record(store: OrderedDict, entry: tuple) -> int:
        key = id(entry)
        store[key] = entry
        while len(store) > MAX_GRAPHS:
            store.popitem(last=False)
        return key


class GradEncoder(wire.Encoder):
    """An Encoder that, when asked, numbers the returned tensors that carry a gradient graph."""

    def __init__(self, handle, state_of, track_grad: bool):
        super().__init__(handle, state_of)
        self.track_grad = track_grad
        self.grad_outputs: list = []

    def _tensor(self, value) -> dict:
        node = super()._tensor(value)
        if self.track_grad and value.requires_grad:
            node["gi"] = len(self.grad_outputs)
            self.grad_outputs.append(value)
        return node


class ArgumentUnpickler(pickle.Unpickler):
    """Unpickles the judge's arguments; tensors and arrays come from the message's buffers, by index."""

    def __init__(self, file, tensors: list[dict], buffers: list[bytes], agent: Agent, mlx_override: list | None = None):
        super().__init__(file)
        self.meta = tensors
        self.buffers = buffers
        self.agent = agent
        self.made: dict[int, object] = {}
        self.rebuilt: dict[int, tuple[object, np.ndarray]] = {}
        self.leaves: list = [None] * len(tensors)
        self.mlx_override = mlx_override
        self.mlx_leaves: list = []  # the floating-point MLX arguments, in the order of their indices

    def rebuild_mlx_leaves(self) -> list:
        """The call's floating-point MLX arguments, without unpickling the rest."""
        return [self._rebuild("m", i) for i, meta in enumerate(self.meta) if meta.get("mlx_float")]

    def persistent_load(self, pid):
        kind, key = pid
        if kind == "ref":
            return self.agent.lookup(key)
        if kind == "main":
            return getattr(self.agent.module, key)
        if key not in self.made:
            self.made[key] = self._rebuild(kind, key)
        return self.made[key]

    def _rebuild(self, kind: str, index: int):
        meta = self.meta[index]
        array = np.frombuffer(self.buffers[meta["buf"]], dtype=np.dtype(meta["dtype"])).reshape(meta["shape"]).copy()
        if kind == "a":
            self.rebuilt[index] = (array, array.copy())
            return array
        if kind == "m":
            return self._mlx(index, array)
        import torch

        tensor = torch.from_numpy(array.copy()).to(getattr(torch, meta["torch_dtype"]))
        if meta["param"]:
            tensor = torch.nn.Parameter(tensor, requires_grad=meta["grad"])
        elif meta["grad"]:
            tensor.requires_grad_(True)
        if meta["grad"]:
            self.leaves[index] = tensor
        self.rebuilt[index] = (tensor, array)
        return tensor


    def _mlx(self, index: int, array: np.ndarray):
        import mlx.core as mx

        if not self.meta[index].get("mlx_float"):
            return mx.array(array)
        position = sum(1 for meta in self.meta[:index] if meta.get("mlx_float"))
        leaf = self.mlx_override[position] if self.mlx_override is not None else mx.array(array)
        self.mlx_leaves.append(leaf)
        return leaf


def _as_numpy(value) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    plain = value.detach().cpu()
    return plain.float().numpy() if str(plain.dtype) == "torch.bfloat16" else plain.numpy()


def _state_to_send(obj):
    """The ``__dict__`` the judge may rebuild ``obj`` from, for modules, optimizers, distributions and notebook classes."""
    if isinstance(obj, (types.FunctionType, types.MethodType, types.ModuleType, type)) or not hasattr(obj, "__dict__"):
        return None
    torch = sys.modules.get("torch")
    trusted = (torch.nn.Module, torch.distributions.Distribution) if torch is not None else ()
    if isinstance(obj, trusted) or type(obj).__module__ == "__main__":
        return dict(vars(obj))
    return None


def _state(obj):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.optim.Optimizer):
        return {"kind": "optimizer", "state": obj.state_dict()}
    if "mlx.nn" in sys.modules and isinstance(obj, sys.modules["mlx.nn"].Module):
        return {"kind": "mlx_module", "parameters": obj.parameters()}
    if "mlx.optimizers" in sys.modules and isinstance(obj, sys.modules["mlx.optimizers"].Optimizer):
        return {"kind": "mlx_optimizer", "state": obj.state}
    return None  # random generators: the judge never takes their state from here (see judge.remote)


def _no_references(node, decoder, depth):
    raise wire.ProtocolError("the judge sent a handle where data was expected")


@contextmanager
def _nothing():
    yield


def set_random_state(node: dict, buffers: list[bytes]) -> None:
    """Start a call from the judge's random state, as if the call ran in the judge's own process."""
    import random

    states = wire.Decoder(buffers, _no_references).decode(node)
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch = sys.modules.get("torch")
    if torch is not None and "torch" in states:
        torch.set_rng_state(states["torch"])
    if "mlx" in states:  # the judge's notebook uses MLX, so the student's code may draw from it
        import mlx.core  # noqa: F401

        wire.set_mlx_key(states["mlx"])


class Output:
    """What the student's code printed and displayed during one cell or call, capped."""

    def __init__(self, captured, limit: int):
        self.captured = captured
        self.limit = limit

    def report(self) -> dict:
        displays = []
        for item in self.captured.outputs[:20]:
            data = {k: v for k, v in item.data.items() if k in ("text/plain", "image/png") and isinstance(v, str)}
            if data:
                displays.append(data)
        return {"stdout": self.captured.stdout[-self.limit:], "stderr": self.captured.stderr[-self.limit:], "displays": displays}


@contextmanager
def capture(limit: int):
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        yield Output(captured, limit)


@contextmanager
def alarm(seconds: float):
    """Raise CellTimeout in the running code after ``seconds`` (the judge kills us if that is ignored)."""

    me = os.getpid()

    def expire(signum, frame):
        if os.getpid() == me:
            reap_strays(me)  # a fork bomb's copies would starve us of the CPU needed to answer
        raise CellTimeout(f"ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def describe(error: BaseException) -> dict:
    """An exception as data: its type's name, its message and the student's traceback, as text."""
    try:
        message = str(error)[:2000]
        lines = "".join(traceback.format_exception(type(error), error, error.__traceback__))[-4000:]
    except BaseException:  # an exception whose __str__ raises still gets reported
        message, lines = "(the exception could not be printed)", ""
    return {"type": str(type(error).__name__)[:100], "message": message, "traceback": lines, "timeout": isinstance(error, CellTimeout)}


def serve(reader, writer, agent_factory) -> None:
    """Answer requests until ``bye`` or the end of the channel."""
    me = os.getpid()
    header, _ = wire.read_message(reader)
    agent = agent_factory(header)
    wire.write_message(writer, {"ok": True})
    handlers = {"run": agent.run, "call": agent.call, "getattr": agent.getattr, "vjp": agent.vjp, "mlx_vjp": agent.mlx_vjp}
    while True:
        header, buffers = wire.read_message(reader)
        op = header.get("op")
        if op == "bye":
            return
        try:
            handler = handlers[op]
            reply = handler(header, buffers) if op in ("call", "vjp", "mlx_vjp") else handler(header)
        except BaseException as error:  # the student's error (or a timeout) is the judge's to weigh
            reply = ({"error": describe(error), "failed": True}, [])
        if os.getpid() != me:
            os._exit(0)  # a fork of the student's: it must never speak for the agent
        reap_strays(me)
        body, out = reply
        wire.write_message(writer, {"ok": not body.pop("failed", False), **body}, out)


def main(inbox: str, fonts: str) -> int:
    reader, writer = wire.private_channel()
    adopt_orphans()
    prepare(inbox, fonts)
    new_shell()
    serve(reader, writer, lambda h: Agent([(int(i), str(s)) for i, s in h["cells"]], int(h["output_limit"])))
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1], sys.argv[2]))  # os._exit: no atexit handler of the student's runs
