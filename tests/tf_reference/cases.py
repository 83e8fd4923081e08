"""Reference cases for TensorFlow's core API: each is run by the real TensorFlow once (``generate.py``,
results committed in ``core_ops.npz``) and by featherflow in ``tests/test_tf_reference.py``.

A case is ``Case(id, fn, args, kwargs, grad, rtol)``: ``fn`` is a dotted path under ``tf`` (resolved in
featherflow under the same path), ``args`` NumPy arrays or Python values, ``grad`` the indices of the
float arguments whose gradient of ``sum_k <real(out_k), w_k> + <imag(out_k), w'_k>`` is recorded (the
weights come from ``weights``, the same on both sides). This module must not import TensorFlow.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Case:
    id: str
    fn: str
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    grad: tuple = ()
    rtol: float = 1e-6
    atol: float = 1e-6


def R(shape, lo=-1.0, hi=1.0, seed=0, dtype="float64"):  # noqa: N802 - short constructor used in the table
    return np.random.default_rng(seed).uniform(lo, hi, size=shape).astype(dtype)


def I(values, dtype="int32"):  # noqa: N802,E743
    return np.asarray(values, dtype=dtype)


def F(values, dtype="float64"):  # noqa: N802
    return np.asarray(values, dtype=dtype)


def weights(shape, k, imaginary=False):
    """The fixed weighting of output ``k`` (and of its imaginary part) in the gradient objective."""
    return np.random.default_rng(1000 + 2 * k + int(imaginary)).uniform(0.5, 1.5, size=shape)


CASES: list[Case] = []


def add(*cases):
    CASES.extend(cases)


# -- tf.math: elementwise ------------------------------------------------------------------------------------------
for _name, _lo, _hi in [("asin", -0.9, 0.9), ("acos", -0.9, 0.9), ("asinh", -3, 3), ("acosh", 1.1, 4),
                        ("atanh", -0.9, 0.9), ("lgamma", 0.1, 6), ("digamma", 0.2, 6), ("erfinv", -0.95, 0.95),
                        ("erfcinv", 0.05, 1.95), ("ndtri", 0.02, 0.98), ("reciprocal_no_nan", 0.5, 2),
                        ("bessel_i0", -3, 3), ("bessel_i0e", -3, 3), ("bessel_i1", -3, 3), ("bessel_i1e", -3, 3)]:
    add(Case(f"math.{_name}", f"math.{_name}", (R((2, 3), _lo, _hi),), grad=(0,), rtol=1e-9))
for _name, _lo, _hi in [("bessel_j0", -3, 3), ("bessel_j1", -3, 3), ("bessel_y0", 0.5, 3), ("bessel_y1", 0.5, 3),
                        ("bessel_k0", 0.5, 3), ("bessel_k0e", 0.5, 3), ("bessel_k1", 0.5, 3), ("bessel_k1e", 0.5, 3),
                        ("dawsn", -2, 2), ("expint", 0.2, 3), ("fresnel_cos", -2, 2), ("fresnel_sin", -2, 2),
                        ("spence", 0.1, 3)]:
    add(Case(f"math.special.{_name}", f"math.special.{_name}", (R((5,), _lo, _hi),), grad=(0,), rtol=1e-8))
add(
    Case("math.lgamma.poles", "math.lgamma", (F([0.0, -1.0, -1.5, 0.5, 1e-8, 30.0, -7.3]),)),
    Case("math.digamma.negative", "math.digamma", (F([-1.5, -0.3, -7.3, 1e-8]),), rtol=1e-9),
    Case("math.erfinv.edges", "math.erfinv", (F([-1.0, 0.0, 1.0, 1.5]),), rtol=1e-9),
    Case("math.atan2", "math.atan2", (R((3, 1), seed=1), R((4,), seed=2)), grad=(0, 1), rtol=1e-9),
    Case("math.xlogy", "math.xlogy", (F([0.0, 0.0, 1.5, 2.0]), F([0.0, 2.0, 0.5, 3.0])), grad=(0, 1)),
    Case("math.xdivy", "math.xdivy", (F([0.0, 0.0, 1.5, 2.0]), F([0.0, 2.0, 0.5, 3.0])), grad=(0, 1)),
    Case("math.xlog1py", "math.xlog1py", (F([0.0, 0.0, 1.5, 2.0]), F([-1.0, 2.0, 0.5, 3.0])), grad=(0, 1)),
    Case("math.multiply_no_nan", "math.multiply_no_nan", (F([np.inf, 2.0, 3.0]), F([0.0, 0.5, 2.0])), grad=(1,)),
    Case("math.rint", "math.rint", (F([0.5, 1.5, -2.5, 2.7, -0.2]),)),
    Case("math.nextafter", "math.nextafter", (F([1.0, 0.0], "float32"), F([2.0, -1.0], "float32")), rtol=0),
    Case("math.polyval", "math.polyval", ([F(1.5), F(-2.0), F(0.5)], R((4,), seed=3)), grad=(1,)),
    Case("math.polygamma", "math.polygamma", (F([0.0, 1.0, 2.0, 3.0]), R((4,), 0.5, 3, seed=4)), grad=(1,),
         rtol=1e-8),
    Case("math.zeta", "math.zeta", (F([2.0, 3.5, 1.5]), R((3,), 0.5, 3, seed=5)), grad=(1,), rtol=1e-8),
    Case("math.igamma", "math.igamma", (R((5,), 0.5, 4, seed=6), R((5,), 0.2, 6, seed=7)), grad=(0, 1), rtol=1e-7),
    Case("math.igammac", "math.igammac", (R((5,), 0.5, 4, seed=8), R((5,), 0.2, 6, seed=9)), grad=(0, 1),
         rtol=1e-7),
    Case("math.betainc", "math.betainc", (R((4,), 0.5, 3, seed=10), R((4,), 0.5, 3, seed=11),
                                          R((4,), 0.05, 0.95, seed=12)), grad=(2,), rtol=1e-8),
    Case("math.lbeta", "math.lbeta", (R((3, 4), 0.3, 3, seed=13),), grad=(0,), rtol=1e-9),
    Case("math.cumprod", "math.cumprod", (R((3, 4), seed=14),), {"axis": 1}, grad=(0,)),
    # TensorFlow divides by x in the gradient (0 where x == 0); featherflow's is exact: checked in test_cumulative
    Case("math.cumprod.zeros", "math.cumprod", (F([0.0, 2.0, 3.0, 0.0, 4.0]),)),
    Case("math.cumprod.exclusive_reverse", "math.cumprod", (R((4, 3), seed=15),),
         {"axis": 0, "exclusive": True, "reverse": True}, grad=(0,)),
    Case("math.cumulative_logsumexp", "math.cumulative_logsumexp", (R((3, 5), -3, 3, seed=16),),
         {"axis": 1}, grad=(0,)),
    Case("math.cumulative_logsumexp.exclusive_reverse", "math.cumulative_logsumexp", (R((5, 2), -3, 3, seed=17),),
         {"exclusive": True, "reverse": True}, grad=(0,)),
    Case("math.real", "math.real", (F([1 + 2j, -3 + 0.5j], "complex128"),)),
    Case("math.imag", "math.imag", (F([1 + 2j, -3 + 0.5j], "complex128"),)),
    Case("math.conj", "math.conj", (F([1 + 2j, -3 + 0.5j], "complex128"),)),
    Case("math.angle", "math.angle", (F([1 + 2j, -3 + 0.5j, -1.0], "complex128"),)),
    Case("math.angle.real", "math.angle", (F([-1.0, 2.0]),)),
    Case("complex", "complex", (R((3,), seed=18), R((3,), seed=19)), grad=(0, 1)),
    Case("truncatediv", "truncatediv", (I([-7, 7, 8]), I([5, -5, 3]))),
    Case("truncatemod", "truncatemod", (F([-7.0, 7.5]), F([5.0, -5.0]))),
    Case("realdiv", "realdiv", (R((3,), seed=20), F(3.0)), grad=(0,)),
    Case("math.zero_fraction", "math.zero_fraction", (I([0, 1, 0, 3]),)),
    Case("math.is_non_decreasing", "math.is_non_decreasing", (I([1, 1, 2]),)),
    Case("math.is_strictly_increasing", "math.is_strictly_increasing", (I([[1, 2], [3, 3]]),)),
    Case("math.invert_permutation", "math.invert_permutation", (I([3, 4, 0, 2, 1]),)),
    Case("math.bincount", "math.bincount", (I([1, 1, 3, 0, 7]),), {"minlength": 9}),
    Case("math.bincount.weights", "math.bincount", (I([1, 1, 3]),), {"weights": F([0.5, 0.25, 1.0])}),
    Case("math.bincount.axis", "math.bincount", (I([[1, 1], [3, 0]]),), {"axis": -1, "binary_output": True}),
    Case("math.confusion_matrix", "math.confusion_matrix", (I([1, 2, 4, 0]), I([2, 2, 4, 1])), {"num_classes": 6}),
    Case("unique", "unique", (I([1, 1, 2, 4, 4, 4, 7, 8, 8, -3]),)),
    Case("unique_with_counts", "unique_with_counts", (F([3.0, 1.0, 3.0, 2.0]),)),
    Case("searchsorted", "searchsorted", (I([[0, 3, 9, 9, 10], [1, 2, 3, 4, 5]]), I([[2, 4, 9], [0, 2, 6]]))),
    Case("searchsorted.right", "searchsorted", (F([0.0, 3.0, 9.0]), F([9.0, 1.0])), {"side": "right"}),
    Case("histogram_fixed_width", "histogram_fixed_width", (F([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0]), F([0.0, 5.0])),
         {"nbins": 5}),
    Case("histogram_fixed_width_bins", "histogram_fixed_width_bins",
         (F([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0]), F([0.0, 5.0])), {"nbins": 5}),
)
for _name in ("segment_sum", "segment_mean", "segment_max", "segment_min", "segment_prod"):
    add(Case(f"math.{_name}", f"math.{_name}", (F([[1.0, 2.0], [5.0, 0.0], [5.0, 3.0], [2.0, 2.0], [0.5, 4.0]]),
                                                I([0, 0, 0, 2, 2])), grad=(0,)))
for _name in ("unsorted_segment_sum", "unsorted_segment_mean", "unsorted_segment_max", "unsorted_segment_min",
              "unsorted_segment_prod", "unsorted_segment_sqrt_n"):
    add(Case(f"math.{_name}", f"math.{_name}", (F([[1.0, 2.0], [5.0, 0.0], [5.0, 3.0], [2.0, 2.0], [0.5, 4.0]]),
                                                I([2, 0, 1, -1, 0]), 3), grad=(0,)),
        # empty segments (1 and 3): the lowest / highest value for max / min
        Case(f"math.{_name}.empty", f"math.{_name}", (F([[1.0, 2.0], [5.0, 0.0], [5.0, 3.0]]), I([2, 0, 2]), 4)))
add(
    Case("math.unsorted_segment_sum.rank2_ids", "math.unsorted_segment_sum", (R((2, 3, 2), seed=21),
                                                                              I([[0, 1, 1], [2, 2, 0]]), 3),
         grad=(0,)),
    Case("math.segment_prod.zeros", "math.segment_prod", (F([1.0, 5.0, 5.0, 2.0, 0.0, 3.0, 0.0, 0.0, 2.0]),
                                                          I([0, 0, 0, 1, 1, 1, 2, 2, 2])), grad=(0,)),
)

# -- tf: scatter, slicing, shapes ----------------------------------------------------------------------------------
add(
    Case("scatter_nd", "scatter_nd", (I([[4], [3], [1], [7], [1]]), R((5,), seed=30), I([8])), grad=(1,)),
    Case("scatter_nd.slices", "scatter_nd", (I([[0], [2]]), R((2, 3), seed=31), I([4, 3])), grad=(1,)),
    Case("tensor_scatter_nd_update", "tensor_scatter_nd_update", (R((4, 3), seed=32), I([[0, 1], [3, 2]]),
                                                                  R((2,), seed=33)), grad=(0, 2)),
    Case("tensor_scatter_nd_add", "tensor_scatter_nd_add", (R((4, 3), seed=34), I([[1], [1]]), R((2, 3), seed=35)),
         grad=(0, 2)),
    Case("tensor_scatter_nd_sub", "tensor_scatter_nd_sub", (R((4,), seed=36), I([[1], [3]]), R((2,), seed=37)),
         grad=(0, 2)),
    Case("tensor_scatter_nd_max", "tensor_scatter_nd_max", (F([1.0, 5.0, 2.0, 3.0]), I([[0], [1], [3]]),
                                                            F([3.0, 3.0, 3.0])), grad=(0, 2)),
    Case("tensor_scatter_nd_min", "tensor_scatter_nd_min", (F([1.0, 5.0, 2.0]), I([[0], [1]]), F([3.0, 3.0])),
         grad=(0, 2)),
    Case("slice", "slice", (R((3, 4, 5), seed=40), I([1, 0, 2]), I([2, -1, 2])), grad=(0,)),
    Case("strided_slice", "strided_slice", (R((3, 4, 5), seed=41), [1, 3, 0], [3, 0, 5], [1, -2, 2]),
         {"begin_mask": 0, "end_mask": 2}, grad=(0,)),
    Case("strided_slice.masks", "strided_slice", (R((3, 4, 5), seed=42), [0, 1, 0], [1, 3, 2], [1, 1, 1]),
         {"shrink_axis_mask": 1, "new_axis_mask": 4}, grad=(0,)),
    Case("strided_slice.ellipsis", "strided_slice", (R((3, 4, 5), seed=43), [0, 1], [0, 3], [1, 1]),
         {"ellipsis_mask": 1}, grad=(0,)),
    Case("roll", "roll", (R((3, 4), seed=44), [1, -2], [0, 1]), grad=(0,)),
    Case("reverse_sequence", "reverse_sequence", (R((2, 4, 3), seed=45), I([2, 3], "int64")),
         {"seq_axis": 1, "batch_axis": 0}, grad=(0,)),
    Case("reverse_sequence.batch_last", "reverse_sequence", (R((4, 3), seed=46), I([1, 4, 0], "int64")),
         {"seq_axis": 0, "batch_axis": 1}, grad=(0,)),
    Case("dynamic_partition", "dynamic_partition", (R((5, 2), seed=47), I([1, 0, 1, 2, 0]), 3), grad=(0,)),
    Case("dynamic_stitch", "dynamic_stitch", ([I([6]), I([4, 1]), I([[5, 2], [0, 3]])],
                                              [F([[61.0, 62.0]]), F([[41.0, 42.0], [11.0, 12.0]]),
                                               F([[[51.0, 52.0], [21.0, 22.0]], [[1.0, 2.0], [31.0, 32.0]]])])),
    Case("meshgrid", "meshgrid", (R((3,), seed=48), R((2,), seed=49)), grad=(0, 1)),
    Case("meshgrid.ij", "meshgrid", (R((3,), seed=50), R((2,), seed=51), R((4,), seed=52)), {"indexing": "ij"},
         grad=(0, 1, 2)),
    Case("sequence_mask", "sequence_mask", (I([1, 3, 2]), 5)),
    Case("sequence_mask.float", "sequence_mask", (I([[1, 3], [2, 0]]),), {"dtype": "float32"}),
    Case("unravel_index", "unravel_index", (I([2, 5, 7]), I([3, 3]))),
    Case("bitcast", "bitcast", (F([1.0, -2.0], "float32"), "int32")),
    Case("bitcast.narrow", "bitcast", (F([1.0, 2.0], "float32"), "uint8")),
    Case("broadcast_dynamic_shape", "broadcast_dynamic_shape", (I([1, 3]), I([2, 1]))),
    Case("space_to_batch_nd", "space_to_batch_nd", (R((2, 3, 5, 2), seed=53), [2, 3], [[1, 0], [0, 1]]), grad=(0,)),
    Case("batch_to_space", "batch_to_space", (R((12, 2, 2, 1), seed=54), [2, 3], [[1, 0], [0, 2]]), grad=(0,)),
    Case("nn.space_to_depth", "nn.space_to_depth", (R((1, 4, 6, 3), seed=55), 2), grad=(0,)),
    Case("nn.depth_to_space", "nn.depth_to_space", (R((1, 2, 3, 8), seed=56), 2), grad=(0,)),
    Case("required_space_to_batch_paddings", "required_space_to_batch_paddings", (I([5, 7]), I([2, 3]),
                                                                                  I([[1, 0], [2, 2]]))),
    Case("extract_volume_patches", "extract_volume_patches", (R((1, 3, 4, 5, 2), seed=57), [1, 2, 2, 3, 1],
                                                              [1, 1, 2, 2, 1], "SAME"), grad=(0,)),
    Case("bitwise.bitwise_and", "bitwise.bitwise_and", (I([12, 10, -3]), I([10, 6, 5]))),
    Case("bitwise.bitwise_or", "bitwise.bitwise_or", (I([12, 10, -3]), I([10, 6, 5]))),
    Case("bitwise.bitwise_xor", "bitwise.bitwise_xor", (I([12, 10, -3]), I([10, 6, 5]))),
    Case("bitwise.invert", "bitwise.invert", (I([0, 7, -3], "int8"),)),
    Case("bitwise.left_shift", "bitwise.left_shift", (I([1, 3, -4]), I([2, 1, 1]))),
    Case("bitwise.right_shift", "bitwise.right_shift", (I([8, -8, 7]), I([2, 2, 1]))),
)


# -- tf.linalg ---------------------------------------------------------------------------------------------------
def _spd(n, seed, batch=()):
    a = R(batch + (n, n), seed=seed)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _sym(n, seed):
    a = R((n, n), seed=seed)
    return a + a.T


add(
    Case("linalg.inv", "linalg.inv", (R((2, 3, 3), seed=60) + 3 * np.eye(3),), grad=(0,), rtol=1e-9),
    Case("linalg.inv.adjoint", "linalg.inv", (R((3, 3), seed=61) + 3 * np.eye(3),), {"adjoint": True}, grad=(0,),
         rtol=1e-9),
    Case("linalg.det", "linalg.det", (R((2, 3, 3), seed=62),), grad=(0,), rtol=1e-9),
    Case("linalg.slogdet", "linalg.slogdet", (R((3, 3), seed=63),), grad=(0,), rtol=1e-9),
    Case("linalg.logdet", "linalg.logdet", (_spd(3, 64),), grad=(0,), rtol=1e-9),
    Case("linalg.cholesky", "linalg.cholesky", (_spd(3, 65, (2,)),), grad=(0,), rtol=1e-9),
    Case("linalg.qr", "linalg.qr", (R((4, 3), seed=66),), grad=(0,), rtol=1e-8),
    Case("linalg.qr.full", "linalg.qr", (R((4, 3), seed=67),), {"full_matrices": True}, rtol=1e-8),
    Case("linalg.svd.values", "linalg.svd", (R((4, 3), seed=68),), {"compute_uv": False}, grad=(0,), rtol=1e-9),
    Case("linalg.eigh.values", "linalg.eigvalsh", (_sym(4, 69),), grad=(0,), rtol=1e-9),
    Case("linalg.lu", "linalg.lu", (R((2, 4, 4), seed=70),), rtol=1e-9),
    Case("linalg.pinv", "linalg.pinv", (R((4, 3), seed=71),), grad=(0,), rtol=1e-8),
    Case("linalg.matrix_rank", "linalg.matrix_rank", (F([[1.0, 2.0], [2.0, 4.0]]),)),
    Case("linalg.expm", "linalg.expm", (R((2, 3, 3), seed=72) * 2,), grad=(0,), rtol=1e-9),
    Case("linalg.sqrtm", "linalg.sqrtm", (_spd(3, 73),), grad=(0,), rtol=1e-7),
    Case("linalg.solve", "linalg.solve", (R((3, 3), seed=74) + 3 * np.eye(3), R((3, 2), seed=75)), grad=(0, 1),
         rtol=1e-9),
    Case("linalg.solve.adjoint", "linalg.solve", (R((3, 3), seed=76) + 3 * np.eye(3), R((3, 2), seed=77)),
         {"adjoint": True}, grad=(0, 1), rtol=1e-9),
    Case("linalg.triangular_solve", "linalg.triangular_solve", (np.tril(R((3, 3), seed=78)) + 2 * np.eye(3),
                                                                R((3, 2), seed=79)), grad=(1,), rtol=1e-9),
    Case("linalg.triangular_solve.upper_adjoint", "linalg.triangular_solve",
         (np.triu(R((3, 3), seed=80)) + 2 * np.eye(3), R((3, 2), seed=81)), {"lower": False, "adjoint": True},
         grad=(1,), rtol=1e-9),
    Case("linalg.cholesky_solve", "linalg.cholesky_solve", (np.linalg.cholesky(_spd(3, 82)), R((3, 2), seed=83)),
         grad=(1,), rtol=1e-9),
    Case("linalg.lstsq", "linalg.lstsq", (R((5, 3), seed=84), R((5, 2), seed=85)), grad=(0, 1), rtol=1e-8),
    Case("linalg.lstsq.regularized_wide", "linalg.lstsq", (R((2, 4), seed=86), R((2, 1), seed=87)),
         {"l2_regularizer": 0.1}, grad=(0, 1), rtol=1e-8),
    Case("linalg.band_part", "linalg.band_part", (R((3, 4), seed=88), 1, 0), grad=(0,)),
    Case("linalg.diag", "linalg.diag", (R((2, 3), seed=89),), {"k": 1}, grad=(0,)),
    Case("linalg.diag.range", "linalg.diag", (R((2, 3), seed=90),), {"k": (-1, 0), "num_rows": 3,
                                                                      "num_cols": 4, "padding_value": 9.0},
         grad=(0,)),
    Case("linalg.diag_part.range", "linalg.diag_part", (R((3, 4), seed=91),), {"k": (-1, 2)}, grad=(0,)),
    Case("linalg.diag_part.align", "linalg.diag_part", (R((4, 3), seed=92),), {"k": (-2, 1), "align": "LEFT_RIGHT"},
         grad=(0,)),
    Case("linalg.set_diag", "linalg.set_diag", (R((3, 4), seed=93), R((3,), seed=94)), grad=(0, 1)),
    Case("linalg.set_diag.range", "linalg.set_diag", (R((3, 3), seed=95), R((2, 3), seed=96)), {"k": (0, 1)},
         grad=(0, 1)),
    Case("linalg.tensor_diag", "linalg.tensor_diag", (R((2, 2), seed=97),), grad=(0,)),
    Case("linalg.tensor_diag_part", "linalg.tensor_diag_part", (R((2, 3, 2, 3), seed=98),), grad=(0,)),
    Case("linalg.cross", "linalg.cross", (R((2, 3), seed=99), R((2, 3), seed=100)), grad=(0, 1)),
    Case("linalg.matvec", "linalg.matvec", (R((2, 3, 4), seed=101), R((4,), seed=102)), grad=(0, 1)),
    Case("linalg.normalize", "linalg.normalize", (R((3, 4), seed=103),), {"axis": 1}, grad=(0,)),
    Case("linalg.adjoint", "linalg.adjoint", (F([[1 + 2j, 3.0], [4j, 5.0]], "complex128"),)),
    Case("linalg.tridiagonal_matmul", "linalg.tridiagonal_matmul", (R((3, 4), seed=104), R((4, 2), seed=105)),
         grad=(0, 1)),
    Case("linalg.tridiagonal_solve", "linalg.tridiagonal_solve", (R((3, 4), seed=106) + F([[0.0] * 4, [3.0] * 4,
                                                                                          [0.0] * 4]),
                                                                  R((4, 2), seed=107)), grad=(0, 1), rtol=1e-9),
    Case("linalg.banded_triangular_solve", "linalg.banded_triangular_solve",
         (R((2, 4), seed=108) + F([[3.0] * 4, [0.0] * 4]), R((4, 2), seed=109)), grad=(0, 1), rtol=1e-9),
    Case("linalg.eigh_tridiagonal", "linalg.eigh_tridiagonal", (R((4,), seed=110), R((3,), seed=111)), rtol=1e-9),
)

# -- tf.signal ---------------------------------------------------------------------------------------------------
_Z = (R((3, 8), seed=120) + 1j * R((3, 8), seed=121)).astype("complex128")
add(
    Case("signal.fft", "signal.fft", (_Z,), rtol=1e-9),
    Case("signal.ifft", "signal.ifft", (_Z,), rtol=1e-9),
    Case("signal.fft2d", "signal.fft2d", (_Z,), rtol=1e-9),
    Case("signal.ifft2d", "signal.ifft2d", (_Z[None],), rtol=1e-9),
    Case("signal.fft3d", "signal.fft3d", (_Z.reshape(3, 2, 4),), rtol=1e-9),
    Case("signal.rfft", "signal.rfft", (R((3, 8), seed=122),), grad=(0,), rtol=1e-9),
    # TensorFlow cannot differentiate an rfft that crops (fft_length < length): gradient checked in test_signal
    Case("signal.rfft.length", "signal.rfft", (R((3, 8), seed=123),), {"fft_length": [6]}, rtol=1e-9),
    Case("signal.rfft.pad", "signal.rfft", (R((5,), seed=124),), {"fft_length": [8]}, grad=(0,), rtol=1e-9),
    Case("signal.irfft", "signal.irfft", (_Z[:, :5],), rtol=1e-9),
    Case("signal.irfft.odd", "signal.irfft", (_Z[:, :5],), {"fft_length": [9]}, rtol=1e-9),
    Case("signal.rfft2d", "signal.rfft2d", (R((3, 4), seed=125),), grad=(0,), rtol=1e-9),
    Case("signal.irfft2d", "signal.irfft2d", (_Z[:, :3],), rtol=1e-9),
    Case("signal.rfft3d", "signal.rfft3d", (R((2, 3, 4), seed=126),), grad=(0,), rtol=1e-9),
    Case("signal.fftshift", "signal.fftshift", (R((3, 4), seed=127),), grad=(0,)),
    Case("signal.ifftshift", "signal.ifftshift", (R((5,), seed=128),), {"axes": 0}, grad=(0,)),
    Case("signal.hann_window", "signal.hann_window", (6,)),
    Case("signal.hann_window.symmetric", "signal.hann_window", (6,), {"periodic": False}),
    Case("signal.hamming_window", "signal.hamming_window", (5,)),
    Case("signal.kaiser_window", "signal.kaiser_window", (7,), {"beta": 5.0}),
    Case("signal.kaiser_bessel_derived_window", "signal.kaiser_bessel_derived_window", (8,), {"beta": 4.0}),
    Case("signal.vorbis_window", "signal.vorbis_window", (8,)),
    Case("signal.frame", "signal.frame", (R((2, 10), seed=129), 4, 3), grad=(0,)),
    Case("signal.frame.pad_end", "signal.frame", (R((10, 2), seed=130), 4, 3), {"pad_end": True, "axis": 0},
         grad=(0,)),
    Case("signal.overlap_and_add", "signal.overlap_and_add", (R((2, 3, 4), seed=131), 2), grad=(0,)),
    Case("signal.stft", "signal.stft", (R((2, 20), seed=132), 8, 4), grad=(0,), rtol=1e-9),
    Case("signal.stft.pad", "signal.stft", (R((20,), seed=133), 6, 3), {"fft_length": 8, "pad_end": True},
         grad=(0,), rtol=1e-9),
    Case("signal.inverse_stft", "signal.inverse_stft", (_Z[:, :5], 8, 4), rtol=1e-9),
    Case("signal.dct2", "signal.dct", (R((3, 5), seed=134),), grad=(0,), rtol=1e-9),
    Case("signal.dct1", "signal.dct", (R((3, 5), seed=135),), {"type": 1}, grad=(0,), rtol=1e-9),
    Case("signal.dct3_ortho", "signal.dct", (R((3, 5), seed=136),), {"type": 3, "norm": "ortho"}, grad=(0,),
         rtol=1e-9),
    Case("signal.dct4_n", "signal.dct", (R((3, 5), seed=137),), {"type": 4, "n": 7}, grad=(0,), rtol=1e-9),
    Case("signal.idct", "signal.idct", (R((3, 5), seed=138),), {"norm": "ortho"}, grad=(0,), rtol=1e-9),
    Case("signal.mdct", "signal.mdct", (R((2, 16), seed=139), 8), grad=(0,), rtol=1e-9),
    Case("signal.inverse_mdct", "signal.inverse_mdct", (R((3, 4), seed=140),), grad=(0,), rtol=1e-9),
    Case("signal.linear_to_mel_weight_matrix", "signal.linear_to_mel_weight_matrix", (8, 17, 8000, 100.0, 3900.0),
         rtol=1e-5),
    Case("signal.mfccs_from_log_mel_spectrograms", "signal.mfccs_from_log_mel_spectrograms", (R((2, 6), seed=141),),
         grad=(0,), rtol=1e-9),
)


# -- tf.nn extras ------------------------------------------------------------------------------------------------
add(
    Case("nn.crelu", "nn.crelu", (R((2, 3), seed=150),), grad=(0,)),
    Case("nn.lrn", "nn.local_response_normalization", (R((1, 2, 2, 6), seed=151, dtype="float32"),),
         {"depth_radius": 2, "bias": 1.0, "alpha": 0.5, "beta": 0.75}, grad=(0,), rtol=1e-5),
    Case("nn.weighted_cross_entropy_with_logits", "nn.weighted_cross_entropy_with_logits",
         (R((4,), 0, 1, seed=152), R((4,), -3, 3, seed=153), 2.5), grad=(0, 1)),
    Case("nn.log_poisson_loss", "nn.log_poisson_loss", (F([0.0, 1.0, 3.0]), R((3,), seed=154)),
         {"compute_full_loss": True}, grad=(1,)),
    Case("nn.sufficient_statistics", "nn.sufficient_statistics", (R((3, 4), seed=155), [0]), {"shift": F(0.5)},
         grad=(0,)),
    Case("nn.normalize_moments", "nn.normalize_moments", (F(4.0), R((3,), seed=156), R((3,), 1, 2, seed=157), None),
         grad=(1, 2)),
    Case("nn.weighted_moments", "nn.weighted_moments", (R((3, 4), seed=158), [1], R((3, 4), 0.5, 1, seed=159)),
         grad=(0, 2)),
    Case("nn.batch_norm_with_global_normalization", "nn.batch_norm_with_global_normalization",
         (R((2, 3), seed=160), R((3,), seed=161), R((3,), 0.5, 1, seed=162), R((3,), seed=163), R((3,), seed=164),
          0.001, True), grad=(0, 1, 2, 3, 4)),
    Case("nn.compute_average_loss", "nn.compute_average_loss", (R((4,), seed=165),),
         {"sample_weight": R((4,), seed=166), "global_batch_size": 8}, grad=(0,)),
    Case("nn.dilation2d", "nn.dilation2d", (R((1, 5, 5, 2), seed=167), R((2, 3, 2), seed=168), [1, 2, 1, 1], "SAME",
                                            "NHWC", [1, 1, 2, 1]), grad=(0, 1)),
    Case("nn.erosion2d", "nn.erosion2d", (R((1, 4, 4, 1), seed=169), R((2, 2, 1), seed=170), [1, 1, 1, 1], "VALID",
                                          "NHWC", [1, 1, 1, 1]), grad=(0, 1)),
    Case("nn.max_pool_with_argmax", "nn.max_pool_with_argmax", (R((2, 4, 4, 2), seed=171), [1, 2, 2, 1],
                                                                [1, 2, 2, 1], "VALID"),
         {"include_batch_in_index": True}, grad=(0,)),
    Case("nn.separable_conv2d", "nn.separable_conv2d", (R((1, 4, 4, 2), seed=172), R((2, 2, 2, 2), seed=173),
                                                        R((1, 1, 4, 3), seed=174), [1, 1, 1, 1], "SAME"),
         grad=(0, 1, 2)),
    Case("nn.atrous_conv2d", "nn.atrous_conv2d", (R((1, 5, 5, 1), seed=175), R((2, 2, 1, 2), seed=176), 2, "SAME"),
         grad=(0, 1)),
    Case("nn.conv1d_transpose", "nn.conv1d_transpose", (R((1, 3, 2), seed=177), R((2, 4, 2), seed=178), [1, 6, 4], 2),
         grad=(0, 1)),
    Case("nn.convolution", "nn.convolution", (R((1, 5, 2), seed=179), R((3, 2, 2), seed=180)), {"padding": "SAME"},
         grad=(0, 1)),
    Case("nn.pool", "nn.pool", (R((1, 4, 4, 1), seed=181), [2, 2], "AVG"), {"strides": [2, 2]}, grad=(0,)),
    Case("nn.depthwise_conv2d_backprop_input", "nn.depthwise_conv2d_backprop_input",
         (I([1, 4, 4, 2]), R((2, 2, 2, 1), seed=182), R((1, 3, 3, 2), seed=183), [1, 1, 1, 1], "VALID"), rtol=1e-9),
    Case("nn.depthwise_conv2d_backprop_filter", "nn.depthwise_conv2d_backprop_filter",
         (R((1, 4, 4, 2), seed=184), I([2, 2, 2, 1]), R((1, 3, 3, 2), seed=185), [1, 1, 1, 1], "VALID"), rtol=1e-9),
    Case("nn.isotonic_regression", "nn.isotonic_regression", (R((2, 6), seed=189),), {"decreasing": False},
         grad=(0,)),
    Case("nn.ctc_loss", "nn.ctc_loss", (I([[1, 2, 0], [2, 0, 0]]), R((5, 2, 4), seed=190, dtype="float32"), I([2, 1]),
                                         I([5, 4])), grad=(1,), rtol=1e-5),
    Case("nn.collapse_repeated", "nn.collapse_repeated", (I([[1, 1, 2, 2, 1], [3, 3, 3, 0, 0]]), I([5, 3]))),
    Case("nn.ctc_unique_labels", "nn.ctc_unique_labels", (I([[3, 4, 3, 5], [1, 1, 2, 1]]),)),
    Case("nn.zero_fraction", "nn.zero_fraction", (F([0.0, 1.0, 0.0, 2.0]),)),
)

# -- tf: conv, fingerprint, ragged_fill_empty_rows -------------------------------------------------------------------
add(
    Case("conv.batch_dims", "conv", (R((2, 3, 5, 5, 2), seed=191), R((2, 2, 2, 3), seed=192), [1, 2, 1, 1], "SAME"),
         {"batch_dims": 2}, grad=(0, 1), rtol=1e-9),
    Case("conv.explicit", "conv", (R((2, 6, 6, 3), seed=193), R((2, 3, 3, 2), seed=194), [1, 1, 2, 1], "EXPLICIT"),
         {"explicit_paddings": [0, 0, 1, 2, 0, 1, 0, 0], "dilations": [1, 2, 1, 1]}, grad=(0, 1), rtol=1e-9),
    Case("conv.3d", "conv", (R((1, 4, 5, 4, 2), seed=195), R((2, 2, 2, 2, 3), seed=196), [1, 1, 2, 1, 1], "VALID"),
         grad=(0, 1), rtol=1e-9),
    Case("fingerprint.int", "fingerprint", (I([[1, 2, 3], [4, 5, 6]]),)),
    Case("fingerprint.float", "fingerprint", (R((3, 2, 2), seed=197),)),
    Case("ragged_fill_empty_rows", "ragged_fill_empty_rows",
         (I([0, 0, 3, 3, 5], "int64"), R((5,), seed=198), I(7, "int64"), F(9.5)), grad=(1, 3), rtol=1e-9),
    Case("ragged_fill_empty_rows_grad", "ragged_fill_empty_rows_grad", (I([0, 1, 4], "int64"), R((6,), seed=199))),
)
