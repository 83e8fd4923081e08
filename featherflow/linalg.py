"""``featherflow.linalg``: TensorFlow's ``tf.linalg`` namespace (re-exports only)."""

import types as _types

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
from featherflow.ops.linalg_decomp import (  # noqa: F401
    cholesky,
    det,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    expm,
    inv,
    logdet,
    logm,
    lu,
    matrix_rank,
    pinv,
    qr,
    slogdet,
    sqrtm,
    svd,
)
from featherflow.ops.linalg_solve import (  # noqa: F401
    banded_triangular_solve,
    cholesky_solve,
    conjugate_gradient,
    lstsq,
    lu_matrix_inverse,
    lu_reconstruct,
    lu_solve,
    solve,
    triangular_solve,
    tridiagonal_solve,
)
from featherflow.ops.linalg_struct import (  # noqa: F401
    adjoint,
    band_part,
    cross,
    diag,
    diag_part,
    eigh_tridiagonal,
    matvec,
    normalize,
    set_diag,
    tensor_diag,
    tensor_diag_part,
    tridiagonal_matmul,
)
from featherflow.ops.linear_operator import LinearOperator, LinearOperatorFullMatrix  # noqa: F401
from featherflow.ops.linear_operator_kinds import (  # noqa: F401
    LinearOperatorAdjoint,
    LinearOperatorBlockDiag,
    LinearOperatorBlockLowerTriangular,
    LinearOperatorComposition,
    LinearOperatorDiag,
    LinearOperatorIdentity,
    LinearOperatorInversion,
    LinearOperatorKronecker,
    LinearOperatorLowerTriangular,
    LinearOperatorLowRankUpdate,
    LinearOperatorScaledIdentity,
    LinearOperatorZeros,
)
from featherflow.ops.linear_operator_special import (  # noqa: F401
    LinearOperatorCirculant,
    LinearOperatorCirculant2D,
    LinearOperatorCirculant3D,
    LinearOperatorHouseholder,
    LinearOperatorPermutation,
    LinearOperatorToeplitz,
    LinearOperatorTridiag,
)

experimental = _types.SimpleNamespace(conjugate_gradient=conjugate_gradient)  # tf.linalg.experimental
