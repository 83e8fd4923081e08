"""featherflow against the real TensorFlow on the reference cases of ``tests/tf_reference/cases.py``.

Values, dtypes, shapes and the gradients of a weighted objective are compared with what TensorFlow 2.21
computed (``tests/tf_reference/core_ops.npz``, written by ``tests/tf_reference/generate.py``).
"""

from pathlib import Path

import numpy as np
import pytest
from tf_reference.cases import CASES, weights

import featherflow as ff

REFERENCE = np.load(Path(__file__).parent / "tf_reference" / "core_ops.npz")


def _resolve(dotted):
    obj = ff
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _to_tensors(value):
    if isinstance(value, np.ndarray):
        return ff.constant(value)
    if isinstance(value, list) and any(isinstance(v, np.ndarray) for v in value):
        return [_to_tensors(v) for v in value]
    return value


def _flatten(out):
    if isinstance(out, (list, tuple)):
        items = []
        for o in out:
            items.extend(_flatten(o))
        return items
    return [out]


def _objective(outputs):
    total = ff.constant(0.0, "float64")
    for k, o in enumerate(outputs):
        if not isinstance(o, ff.Tensor) or o.dtype.kind not in "fc":
            continue
        total = total + ff.reduce_sum(ff.cast(ff.math.real(o), "float64") * weights(o.shape, k))
        if o.dtype.kind == "c":
            total = total + ff.reduce_sum(ff.cast(ff.math.imag(o), "float64") * weights(o.shape, k, True))
    return total


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matches_tensorflow(case):
    if f"{case.id}|error" in REFERENCE.files:
        pytest.fail(f"TensorFlow raised {REFERENCE[case.id + '|error']}: the case table needs fixing")
    fn = _resolve(case.fn)
    args = [_to_tensors(a) for a in case.args]
    kwargs = {k: _to_tensors(v) for k, v in case.kwargs.items()}
    with ff.GradientTape(persistent=True) as tape:
        for i in case.grad:
            tape.watch(args[i])
        flat = _flatten(fn(*args, **kwargs))
        total = _objective(flat) if case.grad else None
    expected = sorted((k for k in REFERENCE.files if k.startswith(case.id + "|out|")), key=lambda k: int(k.split("|")[-1]))
    assert len(flat) == len(expected), f"{len(flat)} outputs, TensorFlow gave {len(expected)}"
    for k, key in enumerate(expected):
        want = REFERENCE[key]
        got = np.asarray(flat[k])
        assert got.shape == want.shape, f"output {k}: shape {got.shape}, TensorFlow {want.shape}"
        if want.dtype.kind != "U":
            assert got.dtype == want.dtype, f"output {k}: dtype {got.dtype}, TensorFlow {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=case.rtol, atol=case.atol, err_msg=f"output {k}")
    for i in case.grad:
        if f"{case.id}|graderror|{i}" in REFERENCE.files:
            continue  # TensorFlow cannot differentiate this case; featherflow's gradient is checked elsewhere
        key = f"{case.id}|grad|{i}"
        grad = tape.gradient(total, args[i])
        if key not in REFERENCE.files:
            assert grad is None or not np.any(grad.numpy()), f"gradient {i}: TensorFlow has none"
            continue
        assert grad is not None, f"gradient {i} is None, TensorFlow has one"
        np.testing.assert_allclose(grad.numpy(), REFERENCE[key], rtol=max(case.rtol, 1e-7), atol=max(case.atol, 1e-7),
                                   err_msg=f"gradient {i}")
