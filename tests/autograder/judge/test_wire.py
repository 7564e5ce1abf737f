"""The wire format: what the student's process sends decodes to data, and nothing else."""

import io
from collections import OrderedDict

import numpy as np
import pytest
import torch

from autograder.judge import wire


def _roundtrip(value):
    handles = []
    encoder = wire.Encoder(lambda obj: handles.append(obj) or len(handles) - 1)
    node = encoder.encode(value)
    stream = io.BytesIO()
    wire.write_message(stream, {"v": node}, encoder.buffers)
    stream.seek(0)
    header, buffers = wire.read_message(stream)
    return wire.Decoder(buffers, lambda node, decoder, depth: ("handle", node["type"])).decode(header["v"])


def test_data_round_trips_with_types_and_shapes():
    value = {"a": [1, 2.5, float("nan"), None, True, "x", b"y", 2**70], "t": (1, 2), "s": {3}, "o": OrderedDict(k=1),
             "arr": np.arange(6, dtype=np.int16).reshape(2, 3), "scalar": np.float32(1.5), "zero_d": np.array(2.0),
             "tensor": torch.ones(2, 3, dtype=torch.float64), "half": torch.zeros(2, dtype=torch.bfloat16),
             "size": torch.Size([2, 3]), "dtype": torch.float32, 1.5: complex(1, 2), "slice": slice(1, None, 2)}
    back = _roundtrip(value)
    assert back["a"][:2] == [1, 2.5] and np.isnan(back["a"][2]) and back["a"][3:] == [None, True, "x", b"y", 2**70]
    assert back["t"] == (1, 2) and back["s"] == {3} and type(back["o"]) is OrderedDict
    assert back["arr"].dtype == np.int16 and back["arr"].shape == (2, 3)
    assert back["zero_d"].shape == () and type(back["scalar"]) is np.float32
    assert back["tensor"].dtype == torch.float64 and back["tensor"].shape == (2, 3)
    assert back["half"].dtype == torch.bfloat16
    assert back["size"] == torch.Size([2, 3]) and back["dtype"] is torch.float32 and back[1.5] == complex(1, 2)
    assert back["slice"] == slice(1, None, 2)


def test_subclasses_arrive_as_their_plain_values():
    class Sly(float):
        def __float__(self):
            raise RuntimeError("must never run in the judge")

    class Always(int):
        def __eq__(self, other):
            return True

    back = _roundtrip([Sly(2.0), Always(3), [1, [2]]])
    assert type(back[0]) is float and back[0] == 2.0
    assert type(back[1]) is int and back[1] != 4


def test_objects_and_generators():
    back = _roundtrip([object(), (i for i in range(3))])
    assert back[0] == ("handle", "object")
    assert list(back[1]) == [0, 1, 2]


def test_shared_and_cyclic_references_survive():
    shared = [1]
    loop = []
    loop.append(loop)
    back = _roundtrip({"x": shared, "y": shared, "loop": loop})
    assert back["x"] is back["y"] and back["loop"][0] is back["loop"]


@pytest.mark.parametrize("node", [
    {"$": "nd", "dtype": "|O", "shape": [1], "buf": 0},
    {"$": "nd", "dtype": "<f8", "shape": [4], "buf": 0},
    {"$": "nd", "dtype": "<f8", "shape": [1], "buf": 7},
    {"$": "pickle", "v": "gASVAAAAAAAAAACMBWJ1aWx0aW5zlIwEZXZhbJSTlC4="},
    {"$": "memo", "k": 99},
    [1, 2],
    {"no": "tag"},
    {"$": "torch", "dtype": "<f8", "torch_dtype": "not_a_dtype", "shape": [1], "buf": 0},
])
def test_malformed_or_dangerous_values_are_refused(node):
    with pytest.raises(wire.ProtocolError):
        wire.Decoder([np.zeros(1).tobytes()], lambda *a: None).decode(node)


def test_oversized_and_truncated_messages_are_refused():
    stream = io.BytesIO()
    wire.write_message(stream, {"x": 1}, [b"a" * 100])
    data = stream.getvalue()
    with pytest.raises(wire.ProtocolError):
        wire.read_message(io.BytesIO(data), limit=50)
    with pytest.raises(wire.ProtocolError):
        wire.read_message(io.BytesIO(data[:-1]))


def test_sympy_expressions_arrive_as_expressions_and_nothing_else_is_built():
    sympy = pytest.importorskip("sympy")
    mu, sigma = sympy.Symbol("mu", real=True), sympy.Symbol("sigma", positive=True)
    kl = sympy.log(1 / sigma) + (sigma**2 + mu**2) / 2 - sympy.Rational(1, 2) + sympy.pi * sympy.Float("0.25") + sympy.sqrt(2)
    back = _roundtrip({"kl": kl, "half": sympy.S.Half, "inf": sympy.oo})
    assert back["kl"] == kl and back["kl"].free_symbols == {mu, sigma}, "same tree, same symbols with their assumptions"
    assert back["half"] == sympy.Rational(1, 2) and back["inf"] is sympy.oo
    # Classes outside the list (an undefined function, a sum) come back as handles, not expressions.
    x = sympy.Symbol("x")
    assert _roundtrip(sympy.Function("f")(x)) == ("handle", "f") and _roundtrip(sympy.Sum(x, (x, 1, 3)))[0] == "handle"
    for node in ({"$": "sympy", "f": "Function", "a": []}, {"$": "sympy", "f": "Symbol", "name": "x", "assume": {"__class__": True}},
                 {"$": "sympy", "f": "Add", "a": [{"$": "list", "v": []}]}, {"$": "sympy", "f": "Integer", "v": "__import__('os')"},
                 {"$": "sympy", "f": "Pow", "a": [{"$": "sympy", "f": "Integer", "v": "1"}]}):
        with pytest.raises(wire.ProtocolError):
            wire.Decoder([], None).decode(node)
