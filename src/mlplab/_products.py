"""The matrix products of a training step, cut into row blocks where the BLAS is faster on small ones.

OpenBLAS has a separate code path for small products (its "small matrix" kernels, built for
AVX-512 cores), which it takes when m * n * k <= 100**3 multiply-adds and which skips the
packing of the general path. Just above that size the general path is much slower. Measured with
one BLAS thread (OpenBLAS 0.3.31, SkylakeX kernels, `python benchmarks/products.py`), medians in
microseconds:

    product                       one call   in row blocks under the limit
    1797 x 64 @ 64 x 64             382        316   (8 blocks of 225 rows)
    (1797 x 64).T @ 1797 x 64       401        322   (summed over the 8 blocks)
    1797 x 64 @ 64 x 10             119         59   (2 blocks of 899 rows)
    (1797 x 64).T @ 1797 x 10       139         62
    1797 x 10 @ (64 x 10).T          97         71   (through a contiguous copy of W.T)
    1437 x 10 @ (64 x 10).T          75         53   (one block, through the copy)
    898 x 256 @ 256 x 10            233        107   (3 blocks of 300 rows)

float32 products gain too, 10-50% (`--dtype float32`).

So where OpenBLAS reports such a core, a product of a step is computed block by block, each
block of rows under the limit, when a block may hold at least `MIN_BLOCK_ROWS` rows (wide
layers would need blocks too thin to pay) and the batch has that many. A step whose largest product reaches
`_threads.SMALL_PRODUCT` keeps every product whole: such steps keep several BLAS threads, and
the small path runs on one. With the
general kernels only (OPENBLAS_CORETYPE=Haswell on the same machine) blocks gain nothing and
cost up to 10%, so other cores and other BLAS libraries take every product in one call.

Blocks round differently from one call at the 1e-16 level: a sum over samples (the weight
gradient A.T @ delta) adds the blocks' partial products, and the small path accumulates in its
own order. The blocks depend only on the shapes, on the step's largest product and on the core
of NumPy's own BLAS, so the same seed still gives the same bits on a given machine. The public
`Network.forward`, `predict` and `gradients` use the same blocks as training.
"""

import os

import numpy as np

from ._threads import SMALL_PRODUCT, UNTHREADED_PRODUCT

# OpenBLAS's small-matrix path: products up to this many multiply-adds, on these cores.
SMALL_PATH_LIMIT = 100 ** 3
SMALL_PATH_CORES = {"skylakex", "cooperlake", "sapphirerapids"}
# Thinner blocks cost more in calls than the small path saves.
MIN_BLOCK_ROWS = 128

_small_path = None   # whether NumPy's BLAS has the small path; looked up on first use


def has_small_path():
    """Whether NumPy's BLAS is an OpenBLAS whose core has the small-matrix kernels."""
    global _small_path
    if _small_path is None:
        from threadpoolctl import threadpool_info
        _small_path = _decide_small_path(threadpool_info())
    return _small_path


def _decide_small_path(infos):
    blas = [info for info in infos if info.get("user_api") == "blas"]
    # NumPy's own BLAS, found by where its wheel keeps it (numpy.libs, or numpy/.dylibs):
    # other libraries loaded before the first step (SciPy's OpenBLAS, a framework's MKL)
    # must not change the blocks, or the bits would depend on the order of imports.
    # Where NumPy's library cannot be told apart (a distribution's or conda's NumPy, linked to
    # a system BLAS), no blocks: slower there, but never dependent on import order.
    numpy_dir = os.path.realpath(os.path.dirname(np.__file__))
    own = [info for info in blas if os.path.realpath(str(info.get("filepath", ""))).startswith(
        (numpy_dir + os.sep, numpy_dir + ".libs" + os.sep))]
    return bool(own) and all(info.get("internal_api") == "openblas"
                             and str(info.get("architecture")).lower() in SMALL_PATH_CORES
                             for info in own)


def row_blocks(n_rows, n_inner, n_cols):
    """How to compute a (n_rows, n_inner) @ (n_inner, n_cols) product.

    Returns None to make one BLAS call as usual, or a tuple of row slices, each block within the
    small-matrix path (a single slice when the whole product already is).
    """
    size = n_rows * n_inner * n_cols
    if (size < UNTHREADED_PRODUCT or n_rows < MIN_BLOCK_ROWS
            or n_inner == 1 or n_cols == 1          # NumPy multiplies these by gemv, not gemm
            or not has_small_path()):
        return None
    most_rows = SMALL_PATH_LIMIT // (n_inner * n_cols)   # the most rows a block can have
    if n_rows <= most_rows:
        return (slice(0, n_rows),)
    if most_rows < MIN_BLOCK_ROWS:
        return None
    n_blocks = -(-n_rows // most_rows)
    rows = -(-n_rows // n_blocks)   # blocks of equal size, but for the last; <= most_rows
    return tuple(slice(start, min(start + rows, n_rows)) for start in range(0, n_rows, rows))


def layer_blocks(n_rows, shapes):
    """Per layer, given its weights' shapes (n_in, n_out), the row blocks of its products on
    `n_rows` rows (see `row_blocks`); all None if the step's largest product keeps several
    BLAS threads."""
    if max(n_rows * n_in * n_out for n_in, n_out in shapes) >= SMALL_PRODUCT:
        return [None] * len(shapes)
    return [row_blocks(n_rows, n_in, n_out) for n_in, n_out in shapes]


def matmul(A, B, out=None, blocks=None):
    """A @ B, (m, k) @ (k, n) -> (m, n), computed in the row blocks of `row_blocks`."""
    if blocks is None or len(blocks) == 1:
        return np.dot(A, B, out=out)
    A = np.asarray(A)   # a user's activation may return a list
    if out is None:
        out = np.empty((len(A), B.shape[1]), np.result_type(A, B))
    for rows in blocks:
        np.dot(A[rows], B, out=out[rows])
    return out


def matmul_nt(D, W, out=None, blocks=None, W_T=None):
    """D @ W.T, (m, n) @ (k, n).T -> (m, k), computed in the row blocks of `row_blocks`.

    With blocks, W.T is first copied into a matrix of its own (into `W_T`, of shape (n, k),
    if given): the small-matrix path is taken for it, not for a transposed view.
    """
    if blocks is None:
        return np.dot(D, W.T, out=out)
    if W_T is None:
        W_T = np.ascontiguousarray(W.T)
    else:
        np.copyto(W_T, W.T)
    return matmul(D, W_T, out=out, blocks=blocks)


def matmul_tn(A, D, out=None, blocks=None, scratch=None):
    """A.T @ D, (m, k).T @ (m, n) -> (k, n): a sum over the m rows, added up block by block.

    `scratch`, of the result's shape, receives each block's partial product.
    """
    if blocks is None or len(blocks) == 1:
        return np.dot(A.T, D, out=out)
    first, *rest = blocks
    out = np.dot(A[first].T, D[first], out=out)
    if scratch is None:
        scratch = np.empty_like(out)
    for rows in rest:
        out += np.dot(A[rows].T, D[rows], out=scratch)
    return out
