"""The judge's side of the channel: handles to the student's objects, calls, gradients, random state.

A ``Remote`` stands in the judge for an object that lives in the student's process: calling it,
or reading one of its attributes, is a request to the agent, and what comes back is data
(``wire.Decoder``). Arguments go the other way pickled (cloudpickle: the judge's own helpers travel
by value), with every tensor and array as a numbered buffer, so that

- gradients work: when grad mode is on and an argument requires grad, the returned tensors are
  connected to the judge's autograd graph by ``_Bridge``, whose backward asks the agent for a
  vector-Jacobian product;
- in-place changes come back: what a call did to its tensor, array and optimizer arguments is
  written back into the judge's objects (a training step updates the judge's model);
- randomness behaves as in one process: each call starts from the judge's random state; afterwards
  the judge reseeds itself from its own draws, never from a state the student could choose.
"""

import builtins
import io
import os
import random
import select
import subprocess
import sys
import time
import types

import cloudpickle
import numpy as np

from autograder.judge import wire

GRACE_S = 5.0  # past a request's budget, the agent gets this long to report its own timeout


class AgentGone(BaseException):
    """The student's process died or stopped answering; ``status`` is ``killed`` or ``timeout``.

    A BaseException, so that no ``except Exception`` in a test or a provided cell swallows it.
    """

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


class CallTimedOut(BaseException):
    """The student's code ran out of its time budget (the agent interrupted it and is still alive)."""


class StudentError(Exception):
    """An exception raised by the student's code, rebuilt here as its type's name and its message."""

    student_traceback = ""


_ERROR_CLASSES: dict[str, type] = {}


def student_error(info: dict) -> BaseException:
    """The judge's stand-in for the student's exception: a subclass of the builtin of that name, if any."""
    name = "".join(ch for ch in str(info.get("type", "Error")) if ch.isalnum() or ch == "_")[:80] or "Error"
    message = str(info.get("message", ""))
    if info.get("timeout"):
        return CallTimedOut(message)
    if name not in _ERROR_CLASSES:
        base = getattr(builtins, name, None)
        bases = (base, StudentError) if isinstance(base, type) and issubclass(base, Exception) else (StudentError,)
        try:
            _ERROR_CLASSES[name] = type(name, bases, {"__module__": "builtins"})
        except TypeError:  # a builtin that cannot be subclassed with StudentError's layout
            _ERROR_CLASSES[name] = type(name, (StudentError,), {"__module__": "builtins"})
    try:
        error = _ERROR_CLASSES[name](message)
    except Exception:
        error = StudentError(f"{name}: {message}")
    error.student_traceback = str(info.get("traceback", ""))
    return error


class Channel:
    """Framed requests to the agent's process, each with a deadline.

    Args:
        process: the sandboxed agent, started with stdin and stdout pipes.
    """

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.gone: AgentGone | None = None
        self.requests = 0

    def request(self, header: dict, buffers: list[bytes] = (), budget: float = 60.0, wait: float | None = None) -> tuple[dict, list[bytes]]:
        """Send a request and wait for its reply; raise AgentGone if the agent dies or overruns.

        Args:
            header: the request; ``budget`` is added: the seconds the agent gives the student's code.
            buffers: its raw buffers.
            budget: seconds for the student's code (per cell, for ``run``).
            wait: seconds the judge waits for the reply before it kills the agent (default: budget).
        """
        if self.gone:
            raise self.gone
        self.requests += 1
        try:
            wire.write_message(self.process.stdin, {**header, "budget": budget}, list(buffers))
            deadline = time.monotonic() + (budget if wait is None else wait) + GRACE_S
            return wire.read_message(_Deadline(self.process.stdout, deadline))
        except TimeoutError:
            self._end("timeout", f"your code ran longer than {budget:g} s and did not stop when interrupted")
        except (wire.ProtocolError, OSError, ValueError) as error:
            self._end("killed", f"the process running your code died ({_exit_reason(self.process, error)})")

    def _end(self, status: str, message: str):
        self.close()
        self.gone = AgentGone(status, message)
        raise self.gone

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def _exit_reason(process: subprocess.Popen, error: Exception) -> str:
    try:
        code = process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        return str(error)
    return f"signal {-code}" if code < 0 else f"exit status {code}"


class _Deadline:
    """A reader of the agent's stdout that raises TimeoutError past ``deadline`` (time.monotonic)."""

    def __init__(self, stream, deadline: float):
        self.fd = stream.fileno()
        self.deadline = deadline

    def read(self, size: int) -> bytes:
        chunks, remaining = [], size
        while remaining:
            wait = self.deadline - time.monotonic()
            if wait <= 0 or not select.select([self.fd], [], [], wait)[0]:
                raise TimeoutError
            chunk = os.read(self.fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


class Remote:
    """An object in the student's process. Calls and attribute reads go there; data comes back."""

    __slots__ = ("_session", "_key", "_callable")

    def __init__(self, session: "Session", key: int, is_callable: bool):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_callable", is_callable)

    def __call__(self, *args, **kwargs):
        return self._session.call(self, args, kwargs)

    def __get__(self, instance, owner=None):
        # Bound on a class (add_to_class), a student's function is a method of the judge's instances.
        return self if instance is None else types.MethodType(self, instance)

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._session.getattr(self, name)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot set {name!r} on an object of the student's code from a test")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} from your code>"

    def _dunder(self, name: str, *args):
        return self._session.getattr(self, name)(*args)

    def __len__(self):
        try:
            return int(self._dunder("__len__"))
        except AttributeError:
            raise TypeError(f"object of type '{type(self).__name__}' has no len()") from None

    def __iter__(self):
        return iter(list(self._session.call(_ITERATE, (self,), {})))

    def __getitem__(self, key):
        return self._dunder("__getitem__", key)

    def __bool__(self):
        return bool(self._dunder("__bool__")) if not self._callable else True

    def __float__(self):
        return float(self._dunder("__float__"))

    def __int__(self):
        return int(self._dunder("__int__"))


_ITERATE = list  # materialised in the student's process: iterating a handle returns its items as data
_REMOTE_TYPES: dict[str, type] = {}


def _remote_type(name: str) -> type:
    """A Remote subclass named after the student's type, so messages say what the object was."""
    clean = "".join(ch for ch in name if ch.isalnum() or ch == "_")[:60] or "object"
    if clean not in _REMOTE_TYPES:
        _REMOTE_TYPES[clean] = type(clean, (Remote,), {"__slots__": ()})
    return _REMOTE_TYPES[clean]


class _Pickler(cloudpickle.Pickler):
    """Pickles a call's arguments; tensors, arrays, handles and the notebook's shared objects by id."""

    def __init__(self, file, session: "Session", encoder: wire.Encoder):
        super().__init__(file, protocol=5)
        self.session = session
        self.encoder = encoder
        self.meta: list[dict] = []
        self.originals: list = []
        self.mlx_leaves: list = []  # the floating-point MLX arguments, in the order of their indices
        self._index: dict[int, int] = {}

    def persistent_id(self, obj):
        if isinstance(obj, Remote):
            return ("ref", obj._key)
        name = self.session.shared.get(id(obj))
        if name is not None:
            return ("main", name)
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Tensor):
            return ("t", self._number(obj, self._tensor_meta))
        if isinstance(obj, np.ndarray) and not obj.dtype.hasobject and obj.dtype.fields is None:
            return ("a", self._number(obj, lambda a: self.encoder._array(a)))
        if wire._framework_array(obj) == "mlx":
            return ("m", self._number(obj, self._mlx_meta))
        return None

    def _number(self, obj, describe) -> int:
        key = id(obj)
        if key not in self._index:
            self._index[key] = len(self.meta)
            self.meta.append(describe(obj))
            self.originals.append(obj)
        return self._index[key]

    def _mlx_meta(self, array) -> dict:
        mx = sys.modules["mlx.core"]
        floating = mx.issubdtype(array.dtype, mx.floating)
        meta = self.encoder._array(np.array(array.astype(mx.float32) if array.dtype == mx.bfloat16 else array))
        meta["mlx_float"] = bool(floating)
        if floating:
            self.mlx_leaves.append(array)
        return meta

    def _tensor_meta(self, tensor) -> dict:
        torch = sys.modules["torch"]
        plain = tensor.detach().cpu()
        meta = self.encoder._array((plain.float() if plain.dtype == torch.bfloat16 else plain).resolve_conj().numpy())
        meta.update(torch_dtype=str(tensor.dtype).removeprefix("torch."), param=isinstance(tensor, torch.nn.Parameter),
                    grad=bool(tensor.requires_grad and torch.is_grad_enabled()))
        return meta


def _bridge():
    import torch

    class Bridge(torch.autograd.Function):
        """Connects a call's returned tensors to the judge's graph; backward is a remote vjp."""

        @staticmethod
        def forward(ctx, link, *leaves):
            ctx.link = link
            return tuple(link.outputs)

        @staticmethod
        def backward(ctx, *grads):
            return (None, *ctx.link.vjp(grads))

    return Bridge


class _Link:
    """What the Bridge needs: the returned tensors, and how to ask for their vjp."""

    def __init__(self, session: "Session", graph: int, outputs: list, leaves_all: list):
        self.session, self.graph, self.outputs = session, graph, outputs
        self.leaves_all = leaves_all  # every tensor argument, None where it carries no gradient
        self.leaves = [t for t in leaves_all if t is not None]

    def vjp(self, grads) -> list:
        encoder = wire.Encoder(_refuse_handle)
        node = encoder.encode([g.detach() if g is not None else None for g in grads])
        header, buffers = self.session.channel.request({"op": "vjp", "graph": self.graph, "grads": node}, encoder.buffers,
                                                       self.session.budget())
        if not header.get("ok"):
            raise student_error(header.get("error") or {})
        returned = self.session.decoder(buffers).decode(header.get("grads"))
        found = [g for g, leaf in zip(returned, self.leaves_all) if leaf is not None]
        return [None if g is None else g.to(leaf.dtype).reshape(leaf.shape) for g, leaf in zip(found, self.leaves)]


def _refuse_handle(obj):
    raise TypeError(f"cannot send {type(obj).__name__} to the student's process as data")


class Session:
    """The judge's view of one student's process.

    Args:
        channel: the channel to the agent.
        namespace: the judge's notebook namespace (provided cells and tests run there).
        deadline: a callable giving the seconds left in the current cell's budget.
    """

    def __init__(self, channel: Channel, namespace: dict, deadline):
        self.channel = channel
        self.namespace = namespace
        self.budget = deadline
        self.shared: dict[int, str] = {}  # id of a class or function of the provided cells -> its name
        self.printed: list[str] = []  # what the student's code printed during the current cell

    # ---- decoding ----

    def decoder(self, buffers: list[bytes]) -> "_Decoder":
        return _Decoder(buffers, self)

    def rebuildable(self, node: dict) -> type | None:
        """The judge's own class for a ``ref`` node with state, if the judge trusts it; else None."""
        module, qualname = str(node.get("module")), str(node.get("type"))
        if "<" in qualname:
            return None
        if module == "__main__":
            cls = self.namespace.get(qualname)
            return cls if isinstance(cls, type) and self.shared.get(id(cls)) == qualname else None
        if module.split(".")[0] not in ("torch", "labkit") or module not in sys.modules:
            return None
        cls = sys.modules[module]
        for part in qualname.split("."):
            cls = getattr(cls, part, None)
        return cls if isinstance(cls, type) else None

    # ---- requests ----

    def call(self, target: Remote, args: tuple, kwargs: dict):
        """Call ``target`` in the student's process with these arguments; return what it returned, as data."""
        torch = sys.modules.get("torch")
        encoder = wire.Encoder(_refuse_handle)
        encoder.buffers.append(b"")  # buffer 0: the pickle, filled in below
        stream = io.BytesIO()
        pickler = _Pickler(stream, self, encoder)
        pickler.dump((target, args, kwargs))
        encoder.buffers[0] = stream.getvalue()
        grad_mode = bool(torch is not None and torch.is_grad_enabled())
        grad = grad_mode and any(m.get("grad") for m in pickler.meta)
        before = wire.random_state()
        header = {"op": "call", "tensors": pickler.meta, "grad": grad, "grad_mode": grad_mode, "rng": encoder.encode(before)}
        reply, buffers = self.channel.request(header, encoder.buffers, self.budget())
        decoder = self.decoder(buffers)
        self._follow_random_state(before, reply.get("rng"), decoder)
        self._collect_output(reply)
        if not reply.get("ok"):
            raise student_error(reply.get("error") or {})
        value = decoder.decode(reply.get("value"))
        self._write_back(pickler, decoder, reply, (args, kwargs))
        if grad and decoder.grad_outputs and isinstance(reply.get("graph"), int):
            self._connect(reply["graph"], decoder.grad_outputs, pickler)
        if pickler.mlx_leaves and isinstance(reply.get("mlx_call"), int):
            value = self._connect_mlx(reply["mlx_call"], value, pickler.mlx_leaves)
        return value

    def getattr(self, target: Remote, name: str):
        reply, buffers = self.channel.request({"op": "getattr", "target": target._key, "name": name}, [], self.budget())
        self._collect_output(reply)
        if not reply.get("ok"):
            raise student_error(reply.get("error") or {})
        return self.decoder(buffers).decode(reply.get("value"))

    def _connect(self, graph: int, outputs: dict[int, object], pickler: _Pickler) -> None:
        torch = sys.modules["torch"]
        ordered = [outputs[i] for i in sorted(outputs) if not isinstance(outputs[i], torch.nn.Parameter)]
        link = _Link(self, graph, ordered, [t if m.get("grad") else None for t, m in zip(pickler.originals, pickler.meta)])
        if ordered:
            _bridge().apply(link, *link.leaves)

    def _connect_mlx(self, call: int, value, leaves: list):
        """``value`` with its MLX arrays made outputs of a custom function of the call's MLX arguments.

        Under ``mx.grad`` (or ``nn.value_and_grad``) the judge's graph then runs through the call: the
        function's vjp asks the agent to recompute the call under ``mx.vjp``. Outside a transformation
        the function just returns the values that came back.
        """
        mx = sys.modules["mlx.core"]
        outputs = wire.mlx_float_arrays(value)
        if not outputs:
            return value

        @mx.custom_function
        def through_call(*arguments):
            return list(outputs)

        @through_call.vjp
        def through_call_vjp(primals, cotangents, _outputs):
            return tuple(self._mlx_vjp(call, cotangents, primals))

        return wire.replace_mlx_float_arrays(value, through_call(*leaves))

    def _mlx_vjp(self, call: int, cotangents: list, primals: list) -> list:
        mx = sys.modules["mlx.core"]
        encoder = wire.Encoder(_refuse_handle)
        node = encoder.encode([np.array(c) for c in cotangents])
        header, buffers = self.channel.request({"op": "mlx_vjp", "call": call, "cotangents": node}, encoder.buffers, self.budget())
        if not header.get("ok"):
            raise student_error(header.get("error") or {})
        grads = self.decoder(buffers).decode(header.get("grads"))
        if not isinstance(grads, list) or len(grads) != len(primals):
            raise StudentError("the gradient through your code came back malformed")
        return [_mlx_like(g, p) for g, p in zip(grads, primals)]

    def _write_back(self, pickler: _Pickler, decoder: "_Decoder", reply: dict, arguments: tuple) -> None:
        """Apply what the call did to its tensor, array and optimizer arguments."""
        torch = sys.modules.get("torch")
        for entry in reply.get("changed") or []:
            index, value = int(entry[0]), decoder.decode(entry[1])
            original = pickler.originals[index]
            if torch is not None and isinstance(original, torch.Tensor) and isinstance(value, torch.Tensor):
                with torch.no_grad():
                    if original.shape == value.shape and original.dtype == value.dtype:
                        original.copy_(value)
                    else:
                        original.data = value.to(original.dtype) if original.is_floating_point() else value
            elif isinstance(original, np.ndarray) and isinstance(value, np.ndarray) and original.shape == value.shape:
                original[...] = value
        states = decoder.decode(reply.get("stateful")) if reply.get("stateful") is not None else []
        for obj, state in zip(wire.stateful_objects(arguments), states if isinstance(states, list) else []):
            kind = state.get("kind") if isinstance(state, dict) else None
            if torch is not None and isinstance(obj, torch.optim.Optimizer) and kind == "optimizer":
                try:
                    obj.load_state_dict(state["state"])
                except (KeyError, ValueError, TypeError, RuntimeError) as error:
                    raise StudentError(f"the optimizer's state after your code ran could not be read back: {error}") from None
            elif kind in ("mlx_module", "mlx_optimizer"):
                _write_back_mlx(obj, kind, state)
            else:
                _reseed_generator(obj)

    @staticmethod
    def _follow_random_state(before: dict, node, decoder: "_Decoder") -> None:
        """Keep the judge's random state if the call drew nothing; else move on to a stream of the judge's own choosing.

        The student's process reports its state after the call. Adopting it would let a student choose
        the judge's next random inputs, so the judge only asks: did it change?
        """
        try:
            after = decoder.decode(node) if node is not None else None
        except wire.ProtocolError:
            after = None
        if not (isinstance(after, dict) and _same_random_state(before, after)):
            _reseed_from_own_draws()

    def _collect_output(self, reply: dict) -> None:
        for stream in ("stdout", "stderr"):
            text = reply.get(stream)
            if isinstance(text, str) and text:
                self.printed.append(text)


class _Decoder(wire.Decoder):
    """A Decoder that rebuilds trusted objects, makes handles of the rest, and notes tensors with a graph."""

    def __init__(self, buffers: list[bytes], session: Session):
        super().__init__(buffers, self._ref)
        self.session = session
        self.grad_outputs: dict[int, object] = {}

    def _tensor(self, node: dict):
        tensor = super()._tensor(node)
        if type(node.get("gi")) is int:
            self.grad_outputs[node["gi"]] = tensor
        return tensor

    def _ref(self, node: dict, decoder, depth: int):
        cls = self.session.rebuildable(node) if isinstance(node.get("state"), dict) else None
        if cls is not None:
            try:
                obj = cls.__new__(cls)
            except Exception:
                obj = None
            if obj is not None:
                self.remember(node, obj)
                state = self.decode(node["state"], depth)
                if isinstance(state, dict) and all(isinstance(k, str) for k in state):
                    obj.__dict__.update(state)
                    return obj
        if type(node.get("id")) is not int:
            raise wire.ProtocolError("malformed handle")
        remote = _remote_type(str(node.get("type")))(self.session, node["id"], bool(node.get("callable")))
        self.remember(node, remote)
        return remote


def _mlx_like(gradient, primal):
    """A returned gradient as an MLX array of the primal's shape and dtype (zeros where none came back)."""
    mx = sys.modules["mlx.core"]
    if gradient is None:
        return mx.zeros_like(primal)
    gradient = mx.array(np.asarray(gradient)) if not wire._framework_array(gradient) == "mlx" else gradient
    if tuple(gradient.shape) != tuple(primal.shape):
        raise StudentError(f"a gradient through your code has shape {tuple(gradient.shape)}, not {tuple(primal.shape)}")
    return gradient.astype(primal.dtype)


def _write_back_mlx(obj, kind: str, state: dict) -> None:
    """What a call did to an MLX module's parameters or an optimizer's state, applied to the judge's copy."""
    import mlx.nn
    import mlx.optimizers

    try:
        if kind == "mlx_module" and isinstance(obj, mlx.nn.Module):
            obj.update(_only_mlx_tree(state["parameters"]))
        elif kind == "mlx_optimizer" and isinstance(obj, mlx.optimizers.Optimizer):
            obj.state = _only_mlx_tree(state["state"])
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise StudentError(f"the model's or optimizer's state after your code ran could not be read back: {error}") from None


def _only_mlx_tree(tree):
    """``tree`` if it holds nothing but dicts with str keys, lists and MLX arrays (a module's parameters, an optimizer's state)."""
    if wire._framework_array(tree) == "mlx":
        return tree
    if type(tree) is dict and all(isinstance(k, str) for k in tree):
        return {k: _only_mlx_tree(v) for k, v in tree.items()}
    if type(tree) in (list, tuple):
        return [_only_mlx_tree(v) for v in tree]
    raise TypeError(f"unexpected {type(tree).__name__}")


def _same_random_state(before: dict, after: dict) -> bool:
    try:
        torch = sys.modules.get("torch")
        same_torch = "torch" not in before or (isinstance(after.get("torch"), torch.Tensor) and torch.equal(before["torch"], after["torch"]))
        numpy_before, numpy_after = before["numpy"], after.get("numpy")
        same_numpy = (isinstance(numpy_after, tuple) and len(numpy_after) == len(numpy_before)
                      and all(np.array_equal(a, b) for a, b in zip(numpy_before, numpy_after)))
        same_mlx = "mlx" not in before or (isinstance(after.get("mlx"), np.ndarray) and np.array_equal(before["mlx"], after["mlx"]))
        return bool(same_torch and same_numpy and same_mlx and after.get("python") == before["python"])
    except (TypeError, ValueError, RuntimeError):
        return False


def _reseed_from_own_draws() -> None:
    """Move the judge's global generators on to fresh streams chosen by the judge alone."""
    random.seed(random.getrandbits(64))
    np.random.seed(np.random.randint(2**32, dtype=np.uint64))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(int(torch.randint(2**62, (1,)).item()))
    if "mlx.core" in sys.modules:
        sys.modules["mlx.core"].random.seed(random.getrandbits(64))


def _reseed_generator(generator) -> None:
    torch = sys.modules.get("torch")
    if isinstance(generator, np.random.Generator):
        generator.bit_generator.state = type(generator.bit_generator)(int(generator.integers(2**63))).state
    elif isinstance(generator, np.random.RandomState):
        generator.seed(int(generator.randint(2**32, dtype=np.uint64)))
    elif torch is not None and isinstance(generator, torch.Generator):
        generator.manual_seed(int(torch.randint(2**62, (1,), generator=generator).item()))
