"""``einsum``: Einstein summation with a general gradient rule.

The gradient of operand ``k`` is itself an einsum: the output gradient contracted with
all the other operands, producing ``k``'s subscripts. Two details make it general:

- an index that appears only in operand ``k`` (summed away, e.g. ``"ij->i"``) gets a
  vector of ones as an extra operand, which broadcasts the gradient along it;
- an index repeated within operand ``k`` (a diagonal, e.g. ``"ii->i"``) is renamed and tied
  to the original by an identity matrix, so the gradient lands on the diagonal only.

Ellipses (``"...ij,...jk->...ik"``) are expanded into explicit letters; gradients over
broadcast batch axes are then summed by the tape as for any op.

>>> import featherflow as ff
>>> ff.einsum("ij,jk->ik", [[1.0, 2.0]], [[3.0], [4.0]]).numpy()
array([[11.]], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # (not `string`: one import less)


def _parse(equation: str, ndims: list) -> tuple:
    """Explicit subscripts ``(inputs, output)`` with every ``...`` replaced by letters."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, output = eq.split("->", 1)
        explicit = True
    else:
        lhs, output, explicit = eq, "", False
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(
            f"einsum: the equation names {len(inputs)} operands but {len(ndims)} were given. "
            f"Received: equation={equation!r}"
        )
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in _LETTERS if c not in used]
    ellipsis_rank = 0
    for sub, ndim in zip(inputs, ndims):
        if sub.count("...") > 1 or any(not (c.isalpha() or c == ".") for c in sub):
            raise ValueError(f"einsum: invalid subscripts {sub!r}. Received: equation={equation!r}")
        letters = len(sub.replace("...", ""))
        if "..." in sub:
            ellipsis_rank = max(ellipsis_rank, ndim - letters)
        elif letters != ndim:
            raise ValueError(
                f"einsum: subscripts {sub!r} name {letters} axes but the operand has rank {ndim}. "
                f"Received: equation={equation!r}"
            )
    batch = "".join(spare[:ellipsis_rank])
    expanded = []
    for sub, ndim in zip(inputs, ndims):
        if "..." in sub:
            rank = ndim - len(sub.replace("...", ""))
            if rank < 0:
                raise ValueError(f"einsum: subscripts {sub!r} name more axes than the operand's rank {ndim}.")
            sub = sub.replace("...", batch[ellipsis_rank - rank:])
        expanded.append(sub)
    if explicit:
        # Without "..." in the output, the ellipsis axes are summed away.
        output = output.replace("...", batch)
    else:
        counts: dict = {}
        for sub in expanded:
            for c in sub:
                counts[c] = counts.get(c, 0) + 1
        output = batch + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in batch))
    for c in output:
        if not any(c in sub for sub in expanded):
            raise ValueError(f"einsum: output subscript {c!r} does not appear in any input. Received: {equation!r}")
    return expanded, output


def _sizes(subscripts, arrays) -> dict:
    sizes: dict = {}
    for sub, arr in zip(subscripts, arrays):
        for c, n in zip(sub, arr.shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                raise ValueError(
                    f"einsum: index {c!r} has inconsistent sizes {sizes[c]} and {n}. Received shapes: "
                    f"{[a.shape for a in arrays]}"
                )
    return sizes


def _contract(xp, spec, operands):
    # BLAS-backed pairwise contraction pays off for anything but tiny operands.
    large = sum(op.size for op in operands) > 4096
    return xp.einsum(spec, *operands, optimize="greedy" if large or len(operands) > 2 else False)


def einsum(equation: str, *inputs, **kwargs) -> Tensor:
    """Einstein summation over ``inputs`` as described by ``equation``.

    Supports explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``) output, ellipses for
    batch axes, traces/diagonals (``"ii->"``) and sums (``"ij->i"``), with gradients for
    every operand.

    Args:
        equation: subscripts, e.g. ``"bij,bjk->bik"`` or ``"...ij,jk->...ik"``.
        *inputs: tensors of one dtype, one per comma-separated subscript group.

    >>> einsum("ii->", [[1.0, 2.0], [3.0, 4.0]]).numpy()
    array(5., dtype=float32)
    >>> einsum("...ij,jk->...ik", [[[1.0, 0.0]]], [[2.0], [3.0]]).shape
    (1, 1, 1)
    """
    unknown = set(kwargs) - {"name", "optimize"}
    if unknown:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(unknown)}.")
    if not isinstance(equation, str):
        raise TypeError(f"einsum: `equation` must be a string. Received: equation={equation!r}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)) and inputs[0] and isinstance(inputs[0][0], Tensor):
        inputs = tuple(inputs[0])
    if not inputs:
        raise ValueError("einsum: expected at least one operand.")
    tensors = [as_tensor(v, "einsum", f"inputs[{i}]") for i, v in enumerate(inputs)]
    dtypes = {t.value.dtype for t in tensors}
    if len(dtypes) > 1:
        raise TypeError(f"einsum: all inputs must have one dtype. Received dtypes: {sorted(map(str, dtypes))}")
    arrays = [t.value for t in tensors]
    subscripts, output = _parse(equation, [a.ndim for a in arrays])
    sizes = _sizes(subscripts, arrays)
    xp = array_module(*arrays)
    spec = ",".join(subscripts) + "->" + output
    out = _contract(xp, spec, arrays)

    def backward(g, needs):
        grads = []
        for k, sub in enumerate(subscripts):
            if not needs[k]:
                grads.append(None)
                continue
            operands = [g] + [a for j, a in enumerate(arrays) if j != k]
            subs = [output] + [s for j, s in enumerate(subscripts) if j != k]
            available = set("".join(subs))
            target = ""
            renamed = set(c for c in _LETTERS if c in spec)
            spare = [c for c in _LETTERS if c not in renamed]
            for c in sub:
                if c in target:  # repeated index: a fresh letter tied to c by an identity matrix
                    fresh = spare.pop(0)
                    operands.append(xp.eye(sizes[c], dtype=g.dtype))
                    subs.append(c + fresh)
                    target += fresh
                    continue
                if c not in available:  # summed only here: broadcast the gradient along it
                    operands.append(xp.ones(arrays[k].shape[sub.index(c)], dtype=g.dtype))
                    subs.append(c)
                    available.add(c)
                target += c
            grad = _contract(xp, ",".join(subs) + "->" + target, operands)
            grads.append(grad)
        return tuple(grads)

    return record("einsum", tuple(tensors), xp.asarray(out), backward)


@register_gradient("einsum")
def _einsum_rule(op, g):
    c = op.captured
    subscripts, output, sizes, spec = c["subscripts"], c["output"], c["sizes"], c["spec"]
    tensors = op.inputs
    xp = array_module(g.value)
    grads = []
    for k, sub in enumerate(subscripts):
        if not op.needs[k]:
            grads.append(None)
            continue
        operands = [g] + [t for j, t in enumerate(tensors) if j != k]
        subs = [output] + [s for j, s in enumerate(subscripts) if j != k]
        available = set("".join(subs))
        target = ""
        spare = [ch for ch in _LETTERS if ch not in spec]
        for ch in sub:
            if ch in target:
                fresh = spare.pop(0)
                operands.append(Tensor(xp.eye(sizes[ch], dtype=g.value.dtype)))
                subs.append(ch + fresh)
                target += fresh
                continue
            if ch not in available:
                operands.append(Tensor(xp.ones(tensors[k].value.shape[sub.index(ch)], dtype=g.value.dtype)))
                subs.append(ch)
                available.add(ch)
            target += ch
        grads.append(einsum(",".join(subs) + "->" + target, *operands))
    return tuple(grads)
