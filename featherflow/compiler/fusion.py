"""Elementwise fusion: runs of elementwise NumPy steps compiled into one Numba loop each.

A traced program spends much of its time in short NumPy calls on small arrays: the bias add and ReLU after
a matmul, a dropout mask and its scaling, an activation's gradient. Each call costs a dispatch and a full
pass over memory. ``plan_groups`` finds *chains*: consecutive elementwise steps (``add``, ``subtract``,
``multiply``, ``divide``, ``maximum``, ``minimum``, ``negative``, ``square``, ``sqrt``, ``absolute``,
comparisons, ``where``; ``exp``/``log``/``tanh`` when ``transcendentals`` is on) computing arrays of one
shape from operands of that shape, of a broadcast shape (a row, a column, a scalar) or Python numbers.
``kernel_source`` writes a chain as one loop over the output's elements (``@njit``); a value made inside
the chain and read nowhere else stays a local variable of the loop (no buffer, no memory pass), and a
value read after the chain (or returned) is written to its buffer, as the NumPy step would have.

NumPy's ``exp``, ``log`` and ``tanh`` are SIMD-vectorized; Numba's are scalar calls: a 32x128 ``exp``
took 11.5 us in NumPy and 29 us as a loop (2-core VM), while three comparisons/multiplies/maxima fused
took 1.8 us against 15 us as three NumPy calls. So by default transcendental steps end a chain and stay
NumPy calls.

Results agree with the NumPy steps to float32 rounding, not bit for bit: each operation is done in the
dtype NumPy's ufunc loop would use (``ufunc.resolve_dtypes``, NumPy's weak promotion of Python numbers),
but a Python number operand is converted inside the loop, and LLVM may evaluate ``a * b + c`` with one
rounding less (no ``fastmath``: no reassociation).

Kernels are cached in memory by their source (the chain's structure, ranks and broadcast pattern; Numba
specializes on dtypes and layouts) and on disk, as Numba's cache of a generated module under
``fusion_cache_dir()``, so a second process loads a kernel in milliseconds instead of compiling it
(~0.2-1 s each).

Switches: ``FEATHERFLOW_FUSION=0`` (or ``set_fusion("off")``) keeps the NumPy lines; ``FEATHERFLOW_NUMBA=0``
(the benchmarks' ``--no-fast``) too, as does a missing Numba. The default ``"auto"`` fuses a program once it
has run ``AUTO_AFTER_CALLS`` times or spent ``AUTO_AFTER_SECONDS`` running (a function called a few times
never pays Numba's import and compile time); ``"on"`` fuses from the first call.

>>> import numpy as np
>>> from featherflow.compiler import Program, Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.ones((2, 3), "float32"))
...     y = np.maximum(x * 2.0 + 1.0, 0.0)
>>> program = Program(tracer, [y], ["x"])
>>> line = "fused_1(x, 2.0, 1.0, 0.0, t3 := b3)  # t1 = multiply(x, 2.0); t2 = add(t1, 1.0); t3 = maximum(t2, 0.0)"
>>> program.fused_source.strip().splitlines()[1].strip() == line if available() else program.fused_source is None
True
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading

import numpy as np

# "auto" fuses a program after this many calls, or once its calls took this many seconds (a slow step pays for
# compiling its kernels sooner); see the module docstring
AUTO_AFTER_CALLS = 200
AUTO_AFTER_SECONDS = 2.0
_MAX_RANK = 6
# a chain of two steps is fused from this many elements (below it, one Numba call with its argument checks
# costs about what two small NumPy calls do); longer chains always are
MIN_PAIR_SIZE = 1024

_settings = {"mode": os.environ.get("FEATHERFLOW_FUSION", "auto"), "transcendentals": False}
_numba: dict = {}  # "njit": numba.njit once imported (None: Numba is missing or switched off)
_kernels: dict = {}  # source -> compiled kernel
_lock = threading.Lock()

# ufunc -> how one element is computed from the operands' variable names
_BINARY = {np.add: "({0} + {1})", np.subtract: "({0} - {1})", np.multiply: "({0} * {1})",
           np.true_divide: "({0} / {1})", np.greater: "({0} > {1})", np.greater_equal: "({0} >= {1})",
           np.less: "({0} < {1})", np.less_equal: "({0} <= {1})", np.equal: "({0} == {1})",
           np.not_equal: "({0} != {1})",
           # NumPy's maximum/minimum propagate a NaN from either side
           np.maximum: "({0} if ({0} >= {1} or {0} != {0}) else {1})",
           np.minimum: "({0} if ({0} <= {1} or {0} != {0}) else {1})"}
_UNARY = {np.negative: "(-{0})", np.square: "({0} * {0})", np.sqrt: "np.sqrt({0})", np.absolute: "abs({0})",
          np.positive: "{0}"}
_TRANSCENDENTAL = {np.exp: "np.exp({0})", np.log: "np.log({0})", np.tanh: "np.tanh({0})"}
_DTYPES = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.bool_)}


def set_fusion(mode: str | None = None, transcendentals: bool | None = None) -> None:
    """``mode``: ``"auto"`` (fuse after ``AUTO_AFTER_CALLS`` calls), ``"on"`` (from the first call) or ``"off"``;
    ``transcendentals``: also fuse ``exp``/``log``/``tanh`` (slower than NumPy's SIMD loops on most CPUs).

    >>> set_fusion("off"); fusion_mode()
    'off'
    >>> set_fusion("auto")
    """
    if mode is not None:
        if mode not in ("auto", "on", "off", "0", "1"):
            raise ValueError(f"set_fusion: mode must be 'auto', 'on' or 'off'. Received: mode={mode!r}")
        _settings["mode"] = mode
    if transcendentals is not None:
        _settings["transcendentals"] = bool(transcendentals)


def fusion_mode() -> str:
    """``"auto"``, ``"on"`` or ``"off"`` (``FEATHERFLOW_FUSION`` sets the starting value; ``0``/``1`` mean off/on)."""
    mode = _settings["mode"]
    return {"0": "off", "1": "on"}.get(mode, mode if mode in ("auto", "on", "off") else "auto")


def available() -> bool:
    """True when fused kernels can be compiled: Numba is installed, ``FEATHERFLOW_NUMBA`` is not ``0``, fusion on
    (Numba itself is imported only when a program fuses)."""
    if fusion_mode() == "off":
        return False
    found = _numba.get("found")
    if found is None:
        found = _numba["found"] = os.environ.get("FEATHERFLOW_NUMBA", "1") != "0" and \
            importlib.util.find_spec("numba") is not None
    return found


def _njit():
    from numba import njit

    return njit


def fusion_cache_dir() -> str:
    """Where generated kernel modules (and Numba's cache of them) are kept: ``FEATHERFLOW_FUSION_CACHE``, else
    ``featherflow/fused`` in the user's cache folder (``XDG_CACHE_HOME`` or ``~/.cache``), else a per-user
    folder in the temporary directory. A folder another user owns (or can write to) is never used: the kernels
    would run code from it."""
    path = os.environ.get("FEATHERFLOW_FUSION_CACHE")
    if path:
        return path
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if os.path.isabs(base):
        return os.path.join(base, "featherflow", "fused")
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return os.path.join(tempfile.gettempdir(), f"featherflow-fused-{user}")


def _private_folder(folder: str) -> None:
    """Create ``folder`` (mode 0700) if needed; raise ``OSError`` unless this user owns it and no one else may
    write to it (POSIX)."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if hasattr(os, "getuid"):
        info = os.stat(folder)
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            raise OSError(f"the fusion cache folder {folder} is not private to this user")


# -- finding the chains ------------------------------------------------------------------------------------------
class Operand:
    """One input of a chain: ``kind`` ``"array"`` (read per element with ``index``) or ``"scalar"``."""

    __slots__ = ("value", "kind", "index", "dtype")

    def __init__(self, value, kind, index, dtype):
        self.value = value
        self.kind = kind
        self.index = index
        self.dtype = dtype


class Group:
    """A chain of elementwise steps compiled into one kernel.

    Attributes:
        steps: the chain's steps, in order.
        operands: the kernel's inputs (``Operand``), then ``outputs``.
        outputs: ``(slot, in_place)`` of every value written to memory (read after the chain, or returned).
        source: the kernel's Python source; ``summary``: the chain as the NumPy steps it replaces.
    """

    __slots__ = ("steps", "shape", "operands", "outputs", "source", "body", "summary", "name")


def _elementwise_fn(step):
    if step.kind != "call" or step.attr is not None or step.dynamic or step.guard is not None:
        return None
    fn = step.fn
    if fn is np.where:
        return fn if len(step.args) == 3 and not step.kwargs else None
    if fn in _BINARY or fn in _UNARY or (fn in _TRANSCENDENTAL and _settings["transcendentals"]):
        return fn
    return None


def _real_of(value, real):
    from featherflow.compiler.tracer import Slot

    return real[value.index] if type(value) is Slot else value


def _operand_ok(value, real, shape) -> bool:
    v = _real_of(value, real)
    if type(v) in (int, float, bool):
        return True
    if isinstance(v, np.generic):
        return v.dtype in _DTYPES or v.dtype.kind in "iu"
    if not isinstance(v, np.ndarray) or v.ndim > len(shape) or (v.dtype not in _DTYPES and v.dtype.kind not in "iu"):
        return False
    return all(d == 1 or d == s for d, s in zip(v.shape[::-1], shape[::-1]))


def _step_shape(step, real, temporaries, states):
    """The output shape of an eligible step (``None`` when the step cannot be fused)."""
    from featherflow.compiler.tracer import Slot

    if _elementwise_fn(step) is None:
        return None
    kwargs = step.kwargs
    if set(kwargs) - {"out", "dtype"}:
        return None
    if "out" in kwargs:
        out = kwargs["out"]
        if not (type(out) is tuple and len(out) == 1 and type(out[0]) is Slot) or out[0].index not in temporaries \
                or out[0].index in states:
            return None
        target = real[out[0].index]
    else:
        if type(step.outs) is not int:
            return None
        target = real[step.outs]
    if not isinstance(target, np.ndarray) or target.dtype not in _DTYPES or not 0 < target.ndim <= _MAX_RANK or \
            not target.size:
        return None
    if "dtype" in kwargs and np.dtype(kwargs["dtype"]) not in _DTYPES:
        return None
    shape = target.shape
    if not all(_operand_ok(a, real, shape) for a in step.args):
        return None
    return shape


def _target(step):
    out = step.kwargs.get("out")
    return (out[0].index, True) if out is not None else (step.outs, False)


def plan_groups(steps, reads_after, real, temporaries, states, text_of) -> list:
    """Split ``steps`` into items: a ``Step`` left as it is, or a ``Group`` of two or more chained steps.

    Args:
        steps: the program's live steps.
        reads_after: ``reads_after(slot, position)``: whether a step after ``position`` (or the outputs) reads
            ``slot``.
        real: the trace's real values by slot (shapes and dtypes).
        temporaries: slots made by the program's own steps (in-place targets must be among them).
        states: slots bound to state arrays (never written by a kernel).
        text_of: ``text_of(value)``: an argument (a ``Slot``, a constant) as the program writes it.
    """
    items, run, run_shape = [], [], None

    def close(end):
        group = None
        if len(run) >= 3 or (len(run) == 2 and int(np.prod(run_shape)) >= MIN_PAIR_SIZE):
            group = _group(run, run_shape, end, reads_after, real, text_of)
        if group is not None and group.outputs:
            items.append(group)
        else:
            items.extend(run)

    for position, step in enumerate(steps):
        shape = _step_shape(step, real, temporaries, states)
        if shape is not None and run and shape == run_shape and not _aliases(run + [step], real):
            run.append(step)
            continue
        close(position - 1)
        run, run_shape = ([step], shape) if shape is not None else ([], None)
        if shape is None:
            items.append(step)
    close(len(steps) - 1)
    return items


def _aliases(run, real) -> bool:
    """Whether an in-place target of the chain shares memory with another array the chain reads (a loop would
    then read values the NumPy steps had not written yet, or had)."""
    from featherflow.compiler.tracer import Slot

    targets = [index for index, in_place in map(_target, run) if in_place]
    if not targets:
        return False
    for step in run:
        for a in step.args:
            if type(a) is Slot and a.index not in targets and isinstance(real[a.index], np.ndarray):
                if any(np.may_share_memory(real[a.index], real[t]) for t in targets):
                    return True
            elif isinstance(a, np.ndarray) and any(np.may_share_memory(a, real[t]) for t in targets):
                return True
    return False


def _group(run, shape, end, reads_after, real, text_of) -> Group:
    from featherflow.compiler.tracer import Slot

    group = Group()
    group.steps = list(run)
    group.shape = shape
    rank = len(shape)
    loops = [f"i{d}" for d in range(rank)]
    operands, by_key, current = [], {}, {}  # current: slot -> local variable holding its latest value
    body, summary = [], []
    written: dict = {}

    def operand(value):
        if type(value) is Slot and value.index in current:
            return current[value.index]
        key = ("s", value.index) if type(value) is Slot else ("c", id(value))
        name = by_key.get(key)
        if name is not None:
            return name
        v = _real_of(value, real)
        if isinstance(v, np.ndarray) and v.ndim:
            padded = v.shape[::-1]
            index = ", ".join("0" if d == 1 and s != 1 else loop
                              for d, s, loop in zip(padded, shape[::-1], loops[::-1]))
            index = ", ".join(reversed(index.split(", ")))
            name = f"a{len(operands)}"
            operands.append(Operand(value, "array", index, v.dtype))
            body.append(f"x{len(operands) - 1} = {name}[{index}]")
            name = f"x{len(operands) - 1}"
        else:
            dtype = v.dtype if isinstance(v, (np.ndarray, np.generic)) else type(v)
            name = f"a{len(operands)}"
            if isinstance(v, np.ndarray):  # 0-d
                operands.append(Operand(value, "array0", "()", v.dtype))
                body.append(f"x{len(operands) - 1} = {name}[()]")
                name = f"x{len(operands) - 1}"
            else:
                operands.append(Operand(value, "scalar", None, dtype))
        by_key[key] = name
        return name

    for n, step in enumerate(run):
        fn = step.fn
        names = [operand(a) for a in step.args]
        in_types = tuple(_operand_dtype(a, real) for a in step.args)
        slot, in_place = _target(step)
        out_dtype = real[slot].dtype
        if fn is np.where:
            cast = [f"np.bool_({names[0]})"] + [_cast(nm, t, out_dtype) for nm, t in zip(names[1:], in_types[1:])]
            expr = f"({cast[1]} if {cast[0]} else {cast[2]})"
        else:
            if "dtype" in step.kwargs:
                signature = (None,) * fn.nin + (np.dtype(step.kwargs["dtype"]),)
                loop = fn.resolve_dtypes(in_types + (None,), signature=signature)
            else:
                loop = fn.resolve_dtypes(in_types + (None,))
            cast = [_cast(nm, t, d) for nm, t, d in zip(names, in_types, loop[:fn.nin])]
            pattern = _BINARY.get(fn) or _UNARY.get(fn) or _TRANSCENDENTAL[fn]
            expr = pattern.format(*cast)
        local = f"v{n}"
        body.append(f"{local} = np.{_np_name(out_dtype)}({expr})")
        current[slot] = local
        summary.append(_describe(step, text_of))
        written.setdefault(slot, in_place)  # made in the chain, then updated in place: still its buffer
    outputs = []
    for slot, in_place in sorted(written.items()):
        if in_place or reads_after(slot, end):
            outputs.append((slot, in_place))
    stores = [f"o{k}[{', '.join(loops)}] = {current[slot]}" for k, (slot, _) in enumerate(outputs)]
    group.operands = operands
    group.outputs = outputs
    group.summary = "; ".join(summary)
    params = [f"a{k}" for k in range(len(operands))] + [f"o{k}" for k in range(len(outputs))]
    lines = [f"def kernel({', '.join(params)}):"]
    indent = "    "
    for d, loop in enumerate(loops):
        lines.append(f"{indent}for {loop} in range(o0.shape[{d}]):")
        indent += "    "
    lines += [indent + line for line in body + stores]
    group.source = "\n".join(lines) + "\n"
    group.body = body
    return group


def _operand_dtype(value, real):
    from featherflow.compiler.tracer import Slot

    if type(value) is Slot:
        v = real[value.index]
        if type(v) in (int, float, bool):
            return type(v)
        return v.dtype
    if type(value) in (int, float, bool):
        return type(value)
    return value.dtype


def _np_name(dtype) -> str:
    return "bool_" if dtype == np.bool_ else np.dtype(dtype).name


def _cast(name, have, want) -> str:
    if have is float or have is int or have is bool or np.dtype(have) != want:
        return f"np.{_np_name(want)}({name})"
    return name


def _describe(step, text_of) -> str:
    from featherflow.compiler.tracer import Slot

    args = ", ".join(text_of(a) for a in step.args)
    if "dtype" in step.kwargs:
        args += f", dtype={np.dtype(step.kwargs['dtype']).name}"
    slot, _ = _target(step)
    return f"{text_of(Slot(slot))} = {step.fn.__name__}({args})"


# -- compiling ----------------------------------------------------------------------------------------------------
def kernel_module_source(group: Group) -> str:
    """The generated module of one kernel (what is written to the cache folder and shown by
    ``pretty_printed_code``)."""
    return "import numpy as np\nfrom numba import njit\n\n\n@njit(cache=True, nogil=True, error_model=\"numpy\")\n" \
        + group.source


def compile_kernel(group: Group):
    """The compiled kernel of ``group`` (cached in memory by source and on disk by Numba)."""
    source = kernel_module_source(group)
    kernel = _kernels.get(source)
    if kernel is not None:
        return kernel
    with _lock:
        kernel = _kernels.get(source)
        if kernel is None:
            kernel = _kernels[source] = _load(source)
    return kernel


def _load(source: str):
    digest = hashlib.sha1(source.encode()).hexdigest()[:20]
    folder = fusion_cache_dir()
    path = os.path.join(folder, f"fused_{digest}.py")
    try:
        _private_folder(folder)
        if not _holds(path, source):  # missing, or not what this source writes: (re)written atomically
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as f:
                f.write(source)
            os.replace(temporary, path)
        name = f"featherflow_fused_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # Numba's cache finds the kernel's module by name when it loads it
        spec.loader.exec_module(module)
        return module.kernel
    except OSError:  # no writable cache folder: compile from the source, in memory only
        namespace = {"np": np}
        exec(compile(group_source_without_cache(source), "<featherflow fused kernel>", "exec"), namespace)  # noqa: S102
        return _njit()(nogil=True, error_model="numpy")(namespace["kernel"])


def _holds(path: str, source: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read() == source
    except FileNotFoundError:
        return False


def group_source_without_cache(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.startswith(("@njit", "from numba")))
