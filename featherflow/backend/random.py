"""Seeded random state shared by featherflow (ops, initializers, dropout, shuffling).

One global seed makes a run reproducible bit for bit; each consumer draws from its
own stream derived from that seed so adding a layer does not shift unrelated draws.

>>> set_seed(0); a = generator().random()
>>> set_seed(0); a == generator().random()
True
"""

from __future__ import annotations

import numpy as np

_DRAW_HOOK: list = [None]  # set by featherflow.compiler while a function is traced: draws become host calls

# Generator methods that draw (a traced function records each as a host call, so a replay draws fresh values)
_DRAWS = ("beta", "binomial", "bytes", "chisquare", "choice", "dirichlet", "exponential", "f", "gamma", "geometric",
          "gumbel", "hypergeometric", "integers", "laplace", "logistic", "lognormal", "logseries", "multinomial",
          "multivariate_hypergeometric", "multivariate_normal", "negative_binomial", "noncentral_chisquare",
          "noncentral_f", "normal", "pareto", "permutation", "permuted", "poisson", "power", "random", "rayleigh",
          "shuffle", "standard_cauchy", "standard_exponential", "standard_gamma", "standard_normal", "standard_t",
          "triangular", "uniform", "vonmises", "wald", "weibull", "zipf")


def _drawing(name):
    import numpy.random  # noqa: F401 - already imported by the caller (a generator exists)

    base = getattr(np.random.Generator, name)

    def draw(self, *args, **kwargs):
        hook = _DRAW_HOOK[0]
        if hook is None:
            return base(self, *args, **kwargs)
        return hook(base, self, args, kwargs)

    draw.__name__ = name
    return draw


_CLASS: list = []


def generator_class() -> type:
    """featherflow's ``numpy.random.Generator`` subclass, whose draws a traced ``tf.function`` records (so each
    call of the compiled program draws anew); the same bits as ``np.random.default_rng(seed)``. Made on first
    use: ``numpy.random`` costs ~40 ms to import.

    >>> generator_class()(np.random.PCG64(1)).random() == np.random.default_rng(1).random()
    True
    """
    if not _CLASS:
        def __reduce__(self):
            return (generator_class(), (self.bit_generator,))

        namespace = {name: _drawing(name) for name in _DRAWS}
        namespace.update(__reduce__=__reduce__, __module__=__name__, __doc__=generator_class.__doc__)
        _CLASS.append(type("Generator", (np.random.Generator,), namespace))
    return _CLASS[0]


def _default_rng(seed):
    return generator_class()(np.random.PCG64(seed))


# The generator is created on first use: `numpy.random` costs ~40 ms to import and
# `import featherflow` must stay fast.
_state: dict = {"seed": None, "generator": None, "counter": 0}


def set_seed(seed: int | None) -> None:
    """Seed featherflow's global random generator (``None`` re-seeds from the OS)."""
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"Expected an integer seed or None. Received: seed={seed!r}")
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"Expected a non-negative seed. Received: seed={seed}")
    _state["seed"] = seed
    _state["generator"] = _default_rng(seed)
    _state["counter"] = 0


def get_seed() -> int | None:
    """The seed last given to ``set_seed`` (``None`` when unseeded)."""
    return _state["seed"]


def generator() -> np.random.Generator:
    """The global NumPy ``Generator``; every unseeded random draw goes through it."""
    gen = _state["generator"]
    if gen is None:
        gen = _state["generator"] = _default_rng(_state["seed"])
    return gen


def make_generator(seed: int | None = None) -> np.random.Generator:
    """A new ``Generator``: from ``seed`` when given, else split off the global one.

    Splitting draws one 63-bit integer from the global generator, so after
    ``set_seed(s)`` the sequence of generators made this way is reproducible.
    """
    if seed is not None:
        return _default_rng(int(seed))
    return _default_rng(int(generator().integers(0, 2**63 - 1)))


DEFAULT_GLOBAL_SEED = 87654321  # TensorFlow's graph seed when only an op seed is given


def op_seed(seed: int | None = None) -> tuple | None:
    """TensorFlow's seed rule for a random op (``tf.data`` shuffles): ``(global_seed, op_seed)``.

    With a global seed (``set_seed``) and no ``seed``, the op seed is a counter of the ops created since
    ``set_seed``, so a program makes the same draws on every run; ``seed`` alone is combined with a fixed
    global seed; with neither, ``None`` (fresh randomness from the OS).

    >>> set_seed(3); first = op_seed(); second = op_seed()
    >>> set_seed(3); (first, second) == (op_seed(), op_seed())
    True
    >>> op_seed(5)[1]
    5
    """
    global_seed = _state["seed"]
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"Expected an integer seed or None. Received: seed={seed!r}")
        return (DEFAULT_GLOBAL_SEED if global_seed is None else global_seed, int(seed) % 2**63)
    if global_seed is None:
        return None
    _state["counter"] += 1
    return (global_seed, _state["counter"])
