"""Values as data: the only form in which anything leaves the student's process.

The student's side (``encode``) turns a value into a JSON header plus raw buffers. The judge's side
(``Decoder``) turns them back into numbers, strings, containers, NumPy arrays and torch tensors, and
nothing else: it never unpickles, never imports a module the student names, and never runs code
the student wrote. An object that is not data travels as a handle (``{"$": "ref"}``), with its
``__dict__`` as data when the judge may rebuild it from a class it trusts (``Decoder.rebuild``).

Messages are framed as ``8-byte header length | header JSON | for each buffer: 8-byte length | bytes``.
This module is standalone (standard library, plus NumPy and torch when present), because it is
loaded inside the sandbox, where the course repository is not visible.
"""

import io
import itertools
import json
import math
import os
import struct
import sys
import types
from collections import OrderedDict

import numpy as np

MAX_MESSAGE_BYTES = 2**29  # a larger message is a protocol error, not a memory exhaustion of the judge
MAX_DEPTH = 200
MAX_ITEMS = 100_000
_LENGTH = struct.Struct("<Q")

# ---- framing ----


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message (or closed the channel)."""


def write_message(stream: io.BufferedWriter, header: dict, buffers: list[bytes] = ()) -> None:
    """Send one message: a JSON header (with the buffer count) and its raw buffers."""
    body = json.dumps({**header, "nbuf": len(buffers)}, allow_nan=False).encode()
    parts = [_LENGTH.pack(len(body)), body]
    for buffer in buffers:
        parts += [_LENGTH.pack(len(buffer)), buffer]
    stream.write(b"".join(parts))
    stream.flush()


def read_message(stream: io.BufferedReader, limit: int = MAX_MESSAGE_BYTES) -> tuple[dict, list[bytes]]:
    """Receive one message; raise ProtocolError on end of stream, oversize or malformed data."""
    body = _read_exact(stream, _read_length(stream, limit))
    try:
        header = json.loads(body)
    except ValueError as error:
        raise ProtocolError(f"malformed header: {error}") from None
    if not isinstance(header, dict) or not isinstance(header.get("nbuf"), int) or not 0 <= header["nbuf"] < 2**20:
        raise ProtocolError("malformed header")
    total = len(body)
    buffers = []
    for _ in range(header["nbuf"]):
        size = _read_length(stream, limit - total)
        total += size
        buffers.append(_read_exact(stream, size))
    return header, buffers


def _read_length(stream, limit: int) -> int:
    (size,) = _LENGTH.unpack(_read_exact(stream, _LENGTH.size))
    if size > limit:
        raise ProtocolError(f"a message of {size} bytes is over the limit of {limit}")
    return size


def _read_exact(stream, size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise ProtocolError("the channel closed")
    return data


# ---- encoding (the student's side) ----


def _torch():
    return sys.modules.get("torch")


class Encoder:
    """Turns values into a JSON-able header and buffers.

    Args:
        handle: called with an object that is not data; returns its handle id (the object stays here).
        state_of: called with such an object; returns its ``__dict__`` to send along, or None.
    """

    def __init__(self, handle, state_of=lambda obj: None):
        self.buffers: list[bytes] = []
        self._handle = handle
        self._state_of = state_of
        self._memo: dict[int, int] = {}
        self._keep: list = []  # ids in the memo must not be reused while encoding

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ValueError("the value is nested too deeply to return")
        if value is None or isinstance(value, (bool, str)) and type(value) in (bool, str):
            return value
        if type(value) is int:
            return value if -(2**63) <= value < 2**63 else {"$": "bigint", "v": str(value)}
        if type(value) is float:
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
        key = id(value)
        if key in self._memo:
            return {"$": "memo", "k": self._memo[key]}
        self._memo[key] = len(self._memo)
        self._keep.append(value)
        tagged = self._encode_object(value, depth + 1)
        tagged["m"] = self._memo[key]
        return tagged

    def _encode_object(self, value, depth: int) -> dict:
        torch = _torch()
        if torch is not None and isinstance(value, torch.Tensor):
            return self._tensor(value)
        if isinstance(value, np.ndarray) and not value.dtype.hasobject and value.dtype.fields is None:
            return {"$": "nd", **self._array(value)}
        if isinstance(value, np.generic) and not isinstance(value, np.object_):
            return {"$": "npscalar", **self._array(np.asarray(value))}
        kind = _framework_array(value)
        if kind:
            return {"$": kind, **self._array(np.asarray(value))}
        if _is_sympy(value):
            return self._sympy(value, depth)
        # Subclasses of the builtins: the base type's own methods read the plain value, no override runs.
        if isinstance(value, bool):
            return {"$": "bool", "v": int.__bool__(value)}
        if isinstance(value, int):
            return {"$": "bigint", "v": int.__repr__(value)}
        if isinstance(value, float):
            return {"$": "float", "v": float.__repr__(value)}
        if isinstance(value, complex):
            return {"$": "complex", "re": float.__repr__(complex.__getattribute__(value, "real")),
                    "im": float.__repr__(complex.__getattribute__(value, "imag"))}
        if isinstance(value, str):
            return {"$": "str", "v": str.__str__(value)}
        if isinstance(value, (bytes, bytearray)):
            self.buffers.append(bytes(value))
            return {"$": "bytes", "buf": len(self.buffers) - 1}
        if torch is not None and isinstance(value, torch.Size):
            return {"$": "size", "v": [int(d) for d in value]}
        if torch is not None and isinstance(value, torch.dtype):
            return {"$": "torch_dtype", "v": str(value).removeprefix("torch.")}
        if torch is not None and isinstance(value, torch.device):
            return {"$": "torch_device", "v": str(value)}
        if isinstance(value, np.dtype) and not value.hasobject:
            return {"$": "np_dtype", "v": value.str}
        if isinstance(value, (list, tuple, set, frozenset)) and type(value) in (list, tuple, set, frozenset) or _namedtuple(value):
            kind = "tuple" if isinstance(value, tuple) else type(value).__name__
            return {"$": kind, "v": [self.encode(item, depth) for item in value]}
        if isinstance(value, dict) and type(value) in (dict, OrderedDict):
            items = [[self.encode(k, depth), self.encode(v, depth)] for k, v in list(value.items())]
            return {"$": "odict" if type(value) is OrderedDict else "dict", "v": items}
        if isinstance(value, types.GeneratorType):
            # A generator is consumed here, into a list of at most MAX_ITEMS; the judge gets an iterator over it.
            items = list(itertools.islice(value, MAX_ITEMS + 1))
            if len(items) > MAX_ITEMS:
                raise ValueError(f"the generator yields more than {MAX_ITEMS} items")
            return {"$": "iter", "v": [self.encode(item, depth) for item in items]}
        if isinstance(value, slice):
            return {"$": "slice", "v": [self.encode(x, depth) for x in (value.start, value.stop, value.step)]}
        if isinstance(value, range):
            return {"$": "range", "v": [value.start, value.stop, value.step]}
        if value is Ellipsis:
            return {"$": "ellipsis"}
        return self._reference(value, depth)

    def _reference(self, value, depth: int) -> dict:
        cls = type(value)
        tagged = {
            "$": "ref", "id": self._handle(value), "module": str(getattr(cls, "__module__", "")),
            "type": str(getattr(cls, "__qualname__", "object")), "callable": callable(value),
        }
        state = self._state_of(value)
        if state is not None:
            tagged["state"] = self.encode(state, depth)
        return tagged

    def _tensor(self, value) -> dict:
        torch = _torch()
        plain = value.detach().cpu()
        dtype = str(plain.dtype).removeprefix("torch.")
        if plain.dtype == torch.bfloat16:
            plain = plain.float()
        fields = self._array(plain.resolve_conj().resolve_neg().numpy())
        return {"$": "torch", **fields, "torch_dtype": dtype, "grad": bool(value.requires_grad),
                "param": isinstance(value, torch.nn.Parameter)}

    def _sympy(self, value, depth: int) -> dict:
        """A SymPy expression as its tree: the class's name, and its arguments or its atom's value."""
        name = type(value).__name__
        if value.is_Symbol:
            return {"$": "sympy", "f": "Dummy" if name == "Dummy" else "Symbol", "name": str(value.name),
                    "assume": {k: v for k, v in value.assumptions0.items() if isinstance(v, bool)}}
        if value.is_Integer:
            return {"$": "sympy", "f": "Integer", "v": str(int(value))}
        if value.is_Rational:
            return {"$": "sympy", "f": "Rational", "v": [str(int(value.p)), str(int(value.q))]}
        if value.is_Float:
            return {"$": "sympy", "f": "Float", "v": str(value), "prec": int(value._prec)}
        if not value.args:  # pi, E, oo, I, ...: singletons, named
            return {"$": "sympy", "f": name}
        return {"$": "sympy", "f": name, "a": [self.encode(arg, depth) for arg in value.args]}

    def _array(self, array: np.ndarray) -> dict:
        contiguous = array if array.flags.c_contiguous else array.copy(order="C")  # ascontiguousarray makes 0-d arrays 1-d
        self.buffers.append(contiguous.tobytes())
        return {"dtype": contiguous.dtype.str, "shape": list(contiguous.shape), "buf": len(self.buffers) - 1}


# SymPy expressions travel as trees of these classes only (the decoder builds nothing else).
SYMPY_SINGLETONS = {  # the class's name -> its instance's name in sympy.S
    "Pi": "Pi", "Exp1": "Exp1", "ImaginaryUnit": "ImaginaryUnit", "Infinity": "Infinity",
    "NegativeInfinity": "NegativeInfinity", "ComplexInfinity": "ComplexInfinity", "NaN": "NaN",
    "EulerGamma": "EulerGamma", "Catalan": "Catalan", "GoldenRatio": "GoldenRatio", "BooleanTrue": "true", "BooleanFalse": "false",
}
SYMPY_CLASSES = {
    "Symbol", "Dummy", "Integer", "Rational", "Float", "Add", "Mul", "Pow", "exp", "log", "Abs", "sign",
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "erf", "gamma", "loggamma", "digamma", "polygamma", "Max", "Min",
    "Heaviside",
}
SYMPY_ASSUMPTIONS = {
    "real", "positive", "negative", "nonnegative", "nonpositive", "zero", "nonzero", "integer", "rational", "finite",
    "infinite", "complex", "extended_real", "extended_positive", "extended_negative", "extended_nonnegative",
    "extended_nonpositive", "extended_nonzero", "commutative", "hermitian", "imaginary", "algebraic", "transcendental",
    "irrational", "noninteger", "even", "odd", "prime", "composite",
}


def _is_sympy(value) -> bool:
    """A SymPy expression built from SYMPY_CLASSES only (anything else travels as a handle)."""
    sympy = sys.modules.get("sympy")
    if sympy is None or not isinstance(value, sympy.Basic):
        return False
    return all(str(type(node).__module__ or "").startswith("sympy.") and (node.is_Symbol or node.is_Number or _sympy_name(node) in SYMPY_CLASSES
                                                                or (not node.args and type(node).__name__ in SYMPY_SINGLETONS))
               for node in sympy.preorder_traversal(value))


def _sympy_name(node) -> str:
    return type(node).__name__


def _namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _framework_array(value) -> str | None:
    """``mlx`` or ``jax`` for those frameworks' arrays (sent as NumPy data and rebuilt on arrival)."""
    module = type(value).__module__ or ""
    if module.startswith("mlx") and type(value).__name__ == "array":
        return "mlx"
    if module.startswith(("jax", "jaxlib")) and hasattr(value, "__array__") and hasattr(value, "dtype"):
        return "jax"
    return None


# ---- decoding (the judge's side) ----

_ALLOWED_DTYPE_KINDS = "biufcSUV?"


class Decoder:
    """Turns a header and buffers back into plain values, without running any of the sender's code.

    Args:
        buffers: the message's raw buffers.
        reference: called with a ``ref`` node's fields; returns what stands for that object here
            (a handle, or an object rebuilt from a trusted class and its decoded state).
    """

    def __init__(self, buffers: list[bytes], reference):
        self.buffers = buffers
        self._reference = reference
        self._memo: dict[int, object] = {}

    def decode(self, node, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ProtocolError("nested too deeply")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:  # encode never sends a bare list; a list here is malformed
            raise ProtocolError("untagged list")
        if type(node) is not dict or not isinstance(node.get("$"), str):
            raise ProtocolError("malformed value")
        kind = node["$"]
        if kind == "memo":
            try:
                return self._memo[node["k"]]
            except (KeyError, TypeError):
                raise ProtocolError("unknown memo reference") from None
        value = self._decode_kind(kind, node, depth + 1)
        if "m" in node and kind not in ("ref",):
            self._memo[node["m"]] = value
        return value

    def _decode_kind(self, kind: str, node: dict, depth: int):
        scalar = _SCALARS.get(kind)
        if scalar is not None:
            return scalar(node)
        if kind in ("nd", "npscalar", "mlx", "jax"):
            array = self._array(node)
            return array[()] if kind == "npscalar" else _to_framework(kind, array)
        if kind == "torch":
            return self._tensor(node)
        if kind == "bytes":
            return self._buffer(node.get("buf"))
        if kind == "iter":
            items = node.get("v")
            if type(items) is not list:
                raise ProtocolError("malformed iterator")
            return iter([self.decode(item, depth) for item in items])
        if kind in ("list", "tuple", "set", "frozenset"):
            items = node.get("v")
            if type(items) is not list:
                raise ProtocolError("malformed sequence")
            if kind == "list":
                result = []
                self._memo[node.get("m")] = result  # a list may contain itself
                result.extend(self.decode(item, depth) for item in items)
                return result
            return {"tuple": tuple, "set": set, "frozenset": frozenset}[kind](self.decode(item, depth) for item in items)
        if kind in ("dict", "odict"):
            result = OrderedDict() if kind == "odict" else {}
            self._memo[node.get("m")] = result
            for pair in node.get("v") or []:
                if type(pair) is not list or len(pair) != 2:
                    raise ProtocolError("malformed mapping")
                key = self.decode(pair[0], depth)
                try:
                    result[key] = self.decode(pair[1], depth)
                except TypeError:
                    raise ProtocolError("unhashable mapping key") from None
            return result
        if kind == "slice":
            return slice(*(self.decode(x, depth) for x in node.get("v", [None] * 3)[:3]))
        if kind == "range":
            return range(*[int(x) for x in node["v"][:3]])
        if kind == "ellipsis":
            return Ellipsis
        if kind == "ref":
            return self._reference(node, self, depth)
        if kind == "sympy":
            return self._sympy(node, depth)
        raise ProtocolError(f"unknown value kind {kind!r}")

    def _sympy(self, node: dict, depth: int):
        """A SymPy expression rebuilt from its tree, from the classes of SYMPY_CLASSES only, unevaluated."""
        import sympy

        name = node.get("f")
        if name in SYMPY_SINGLETONS and "a" not in node:
            return getattr(sympy.S, SYMPY_SINGLETONS[name])
        if name not in SYMPY_CLASSES:
            raise ProtocolError(f"refused SymPy class {name!r}")
        cls = getattr(sympy, name)
        try:
            if name in ("Symbol", "Dummy"):
                assume = node.get("assume") or {}
                if not (isinstance(node.get("name"), str) and type(assume) is dict
                        and all(k in SYMPY_ASSUMPTIONS and type(v) is bool for k, v in assume.items())):
                    raise ProtocolError("malformed SymPy symbol")
                return cls(node["name"], **assume)
            if name == "Integer":
                return sympy.Integer(int(str(node["v"])))
            if name == "Rational":
                p, q = (int(str(x)) for x in node["v"])
                return sympy.Rational(p, q)
            if name == "Float":
                return sympy.Float(str(node["v"]), precision=min(int(node["prec"]), 10_000))
            args = node.get("a")
            if type(args) is not list:
                raise ProtocolError("malformed SymPy expression")
            decoded = [self.decode(arg, depth) for arg in args]
            if not all(isinstance(arg, sympy.Basic) for arg in decoded):
                raise ProtocolError("a SymPy expression with an argument that is not one")
            return cls(*decoded, evaluate=False)
        except ProtocolError:
            raise
        except Exception as error:  # any mistake in a tree the agent sent is a protocol error, never the judge's crash
            raise ProtocolError(f"malformed SymPy expression ({type(error).__name__})") from None

    def remember(self, node: dict, value) -> None:
        """Memoize a rebuilt object before its state is decoded (its state may refer back to it)."""
        if "m" in node:
            self._memo[node["m"]] = value

    def _buffer(self, index) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise ProtocolError("bad buffer index")
        return self.buffers[index]

    def _array(self, node: dict) -> np.ndarray:
        try:
            dtype = np.dtype(str(node["dtype"]))
            shape = tuple(int(d) for d in node["shape"])
        except (KeyError, TypeError, ValueError):
            raise ProtocolError("malformed array") from None
        if dtype.hasobject or dtype.kind not in _ALLOWED_DTYPE_KINDS or any(d < 0 for d in shape):
            raise ProtocolError(f"refused array dtype {dtype}")
        data = self._buffer(node.get("buf"))
        if math.prod(shape) * dtype.itemsize != len(data):
            raise ProtocolError("array size does not match its shape")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def _tensor(self, node: dict):
        import torch

        array = self._array(node)
        dtype = getattr(torch, str(node.get("torch_dtype", "")), None)
        if not isinstance(dtype, torch.dtype):
            raise ProtocolError("unknown tensor dtype")
        tensor = torch.from_numpy(array).to(dtype) if array.dtype.kind != "b" or dtype == torch.bool else torch.from_numpy(array)
        if node.get("param"):
            return torch.nn.Parameter(tensor, requires_grad=bool(node.get("grad")))
        return tensor


def _float(node: dict) -> float:
    # A float subclass arrives tagged: only its value comes through, never its methods.
    return float(str(node.get("v"))[:64])


def _bigint(node: dict) -> int:
    text = str(node.get("v"))
    if len(text) > 5000:
        raise ProtocolError("integer too large")
    return int(text)


def _torch_dtype(node: dict):
    import torch

    dtype = getattr(torch, str(node.get("v")), None)
    if not isinstance(dtype, torch.dtype):
        raise ProtocolError("unknown torch dtype")
    return dtype


def _torch_device(node: dict):
    import torch

    return torch.device(str(node.get("v"))[:64])


_SCALARS = {
    "float": _float,
    "bigint": _bigint,
    "bool": lambda node: bool(node.get("v")),
    "str": lambda node: str(node.get("v")),
    "complex": lambda node: complex(float(str(node.get("re"))), float(str(node.get("im")))),
    "size": lambda node: __import__("torch").Size([int(d) for d in node.get("v", [])]),
    "torch_dtype": _torch_dtype,
    "torch_device": _torch_device,
    "np_dtype": lambda node: _np_dtype(str(node.get("v"))),
}


def _np_dtype(text: str) -> np.dtype:
    dtype = np.dtype(text)
    if dtype.hasobject:
        raise ProtocolError("refused object dtype")
    return dtype


def _to_framework(kind: str, array: np.ndarray):
    if kind == "mlx":
        import mlx.core as mx

        return mx.array(array)
    if kind == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array)
    return array


def private_channel() -> tuple[io.BufferedReader, io.BufferedWriter]:
    """Move this process's stdin and stdout to private descriptors; point fds 0 and 1 at /dev/null.

    Code that later prints or reads through fds 0 and 1 then cannot corrupt the channel by accident.
    """
    reader = os.fdopen(os.dup(0), "rb", buffering=0)
    writer = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    for stream in (reader, writer):
        os.set_inheritable(stream.fileno(), False)
    return io.BufferedReader(reader), io.BufferedWriter(writer)


def _mlx():
    return sys.modules.get("mlx.core")


def random_state() -> dict:
    """This process's global random states (Python, NumPy's legacy generator, torch and MLX when imported)."""
    import random

    state = {"python": random.getstate(), "numpy": np.random.get_state()}
    torch = _torch()
    if torch is not None:
        state["torch"] = torch.get_rng_state()
    mx = _mlx()
    if mx is not None:
        state["mlx"] = np.array(mx.random.state[0], dtype=np.uint32)
    return state


def set_mlx_key(key) -> None:
    """Make ``key`` (two uint32 words) MLX's global key: ``mx.random.seed`` sets exactly (high, low)."""
    high, low = (int(word) for word in np.asarray(key, dtype=np.uint32).reshape(2))
    _mlx().random.seed((high << 32) | low)


def stateful_objects(root) -> list:
    """Optimizers, random generators and MLX modules reachable from ``root`` through containers, in a fixed order.

    Both sides walk their own copy of a call's arguments with this, so the n-th object here is the
    n-th object there: what a call did to an optimizer's state is sent back by position.
    """
    torch = _torch()
    kinds = [np.random.Generator, np.random.RandomState]
    if torch is not None:
        kinds += [torch.optim.Optimizer, torch.Generator]
    if _mlx() is not None:  # both sides then find the same objects: the arguments' modules are loaded on both
        import mlx.nn
        import mlx.optimizers

        kinds += [mlx.nn.Module, mlx.optimizers.Optimizer]
    found, seen, stack = [], set(), [root]
    while stack:
        value = stack.pop(0)
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, tuple(kinds)):
            found.append(value)
        elif type(value) in (list, tuple):
            stack.extend(value)
        elif type(value) in (dict, OrderedDict):
            stack.extend(value.values())
    return found


def mlx_float_arrays(value) -> list:
    """The floating-point MLX arrays in ``value`` (an array, or lists, tuples and dicts of them), in a fixed order.

    Both sides flatten a call's returned value with this: the n-th array here is the n-th output of
    the gradient bridge there (see judge.remote).
    """
    return [leaf for leaf in _walk_mlx(value) if _is_float_mlx(leaf)]


def replace_mlx_float_arrays(value, replacements: list):
    """``value`` with its floating-point MLX arrays replaced, in ``mlx_float_arrays`` order."""
    supply = iter(replacements)

    def rebuild(node):
        if _framework_array(node) == "mlx":
            return next(supply) if _is_float_mlx(node) else node
        if type(node) in (list, tuple):
            return type(node)(rebuild(item) for item in node)
        if type(node) in (dict, OrderedDict):
            return type(node)((k, rebuild(v)) for k, v in node.items())
        return node

    return rebuild(value)


def _walk_mlx(node):
    if _framework_array(node) == "mlx":
        yield node
    elif type(node) in (list, tuple):
        for item in node:
            yield from _walk_mlx(item)
    elif type(node) in (dict, OrderedDict):
        for item in node.values():
            yield from _walk_mlx(item)


def _is_float_mlx(array) -> bool:
    mx = _mlx()
    return mx is not None and mx.issubdtype(array.dtype, mx.floating)
