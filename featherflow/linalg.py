"""``featherflow.linalg``: TensorFlow's ``tf.linalg`` namespace (re-exports only)."""

from featherflow._lazy import lazy_attributes as _lazy_attributes
from featherflow.ops import (  # noqa: F401
    einsum,
    eye,
    global_norm,
    l2_normalize,
    matmul,
    matrix_transpose,
    norm,
    tensordot,
    trace,
)

# less common names load on first use (featherflow/_lazy.py)
_LAZY = {
    "featherflow.ops.linalg_decomp": ("cholesky", "det", "eig", "eigh", "eigvals", "eigvalsh", "expm", "inv",
                                      "logdet", "logm", "lu", "matrix_rank", "pinv", "qr", "slogdet", "sqrtm", "svd"),
    "featherflow.ops.linalg_solve": ("banded_triangular_solve", "cholesky_solve", "conjugate_gradient", "lstsq",
                                     "lu_matrix_inverse", "lu_reconstruct", "lu_solve", "solve", "triangular_solve",
                                     "tridiagonal_solve"),
    "featherflow.ops.linalg_struct": ("adjoint", "band_part", "cross", "diag", "diag_part", "eigh_tridiagonal",
                                      "matvec", "normalize", "set_diag", "tensor_diag", "tensor_diag_part",
                                      "tridiagonal_matmul"),
    "featherflow.ops.linear_operator": ("LinearOperator", "LinearOperatorFullMatrix"),
    "featherflow.ops.linear_operator_kinds": ("LinearOperatorAdjoint", "LinearOperatorBlockDiag",
                                              "LinearOperatorBlockLowerTriangular", "LinearOperatorComposition",
                                              "LinearOperatorDiag", "LinearOperatorIdentity",
                                              "LinearOperatorInversion", "LinearOperatorKronecker",
                                              "LinearOperatorLowerTriangular", "LinearOperatorLowRankUpdate",
                                              "LinearOperatorScaledIdentity", "LinearOperatorZeros"),
    "featherflow.ops.linear_operator_special": ("LinearOperatorCirculant", "LinearOperatorCirculant2D",
                                                "LinearOperatorCirculant3D", "LinearOperatorHouseholder",
                                                "LinearOperatorPermutation", "LinearOperatorToeplitz",
                                                "LinearOperatorTridiag"),
    "featherflow._experimental": ("experimental=linalg",),
}
__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _LAZY)
