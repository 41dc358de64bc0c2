import os

import numpy as np
import pytest

from mlplab import _products


def blas_info(api, core, where):
    """A threadpoolctl report of one BLAS library kept in folder `where`."""
    return {"user_api": "blas", "internal_api": api, "architecture": core,
            "filepath": os.path.join(where, f"lib{api}.so")}


NUMPY_LIBS = os.path.realpath(os.path.dirname(np.__file__)) + ".libs"   # where wheels keep it
ELSEWHERE = os.path.join(os.sep, "opt", "lib")


@pytest.fixture
def blas_core(monkeypatch):
    """Pretend threadpoolctl reports these BLAS libraries, the first NumPy's own:
    ``blas_core(("openblas", "SkylakeX"), ("mkl", None))``."""
    import threadpoolctl

    def pretend(*libraries):
        infos = [blas_info(api, core, NUMPY_LIBS if i == 0 else ELSEWHERE)
                 for i, (api, core) in enumerate(libraries)]
        infos.append({"user_api": "openmp", "internal_api": "openmp"})
        monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: infos)
        monkeypatch.setattr(_products, "_small_path", None)
        return _products.has_small_path()

    return pretend


@pytest.mark.parametrize("libraries, expected", [
    ([("openblas", "SkylakeX")], True),
    ([("openblas", "SkylakeX"), ("openblas", "SkylakeX")], True),   # NumPy's and SciPy's
    ([("openblas", "Cooperlake")], True),
    ([("openblas", "Haswell")], False),
    ([("openblas", "Zen")], False),
    ([("mkl", None)], False),
    ([("openblas", "SkylakeX"), ("mkl", None)], True),   # what else is loaded does not count
    ([("mkl", None), ("openblas", "SkylakeX")], False),
    ([], False),
])
def test_row_blocks_only_where_openblas_has_its_small_matrix_path(blas_core, libraries, expected):
    assert blas_core(*libraries) is expected
    blocks = _products.row_blocks(1797, 64, 64)
    assert (blocks is not None) is expected


def test_blocks_cover_the_rows_in_order_each_within_the_small_path(blas_core):
    blas_core(("openblas", "SkylakeX"))
    for n_rows, n_inner, n_cols in [(1797, 64, 64), (1797, 64, 10), (898, 256, 10), (9000, 50, 3)]:
        blocks = _products.row_blocks(n_rows, n_inner, n_cols)
        assert len(blocks) > 1
        assert blocks[0].start == 0 and blocks[-1].stop == n_rows
        assert all(a.stop == b.start for a, b in zip(blocks, blocks[1:]))
        sizes = [block.stop - block.start for block in blocks]
        assert max(sizes) * n_inner * n_cols <= _products.SMALL_PATH_LIMIT
        assert min(sizes[:-1]) >= _products.MIN_BLOCK_ROWS
        # As few blocks as the limit allows: one block fewer would not fit.
        assert -(-n_rows // (len(blocks) - 1)) * n_inner * n_cols > _products.SMALL_PATH_LIMIT


@pytest.mark.parametrize("shape, why", [
    ((100, 2, 4), "too small to matter"),
    ((898, 64, 256), "blocks would be too thin"),
    ((60000, 784, 256), "blocks would be too thin"),
    ((8, 1024, 1024), "a single row is beyond the small path"),
    ((1, 256, 256), "one row: NumPy multiplies by gemv"),
    ((100, 256, 256), "a batch thinner than a block is worth"),
    ((1797, 64, 1), "NumPy multiplies by gemv"),
    ((1797, 1, 64), "NumPy multiplies by gemv"),
])
def test_products_left_as_they_come(blas_core, shape, why):
    blas_core(("openblas", "SkylakeX"))
    assert _products.row_blocks(*shape) is None, why


def test_a_product_already_within_the_small_path_is_one_block(blas_core):
    # One block, not None: delta @ W.T still goes through the contiguous copy of W.T.
    blas_core(("openblas", "SkylakeX"))
    assert _products.row_blocks(1437, 64, 10) == (slice(0, 1437),)


def test_blocked_products_equal_one_call(rng):
    A, B, D = rng.normal(size=(50, 7)), rng.normal(size=(7, 3)), rng.normal(size=(50, 3))
    blocks = (slice(0, 20), slice(20, 40), slice(40, 50))
    # Blocks may round differently from one call (another BLAS path), so to 1e-13.
    np.testing.assert_allclose(_products.matmul(A, B, blocks=blocks), A @ B, rtol=0, atol=1e-13)
    out = np.empty((50, 3))
    assert _products.matmul(A, B, out=out, blocks=blocks) is out
    np.testing.assert_allclose(_products.matmul_tn(A, D, blocks=blocks), A.T @ D,
                               rtol=0, atol=1e-13)
    scratch, out = np.empty((7, 3)), np.empty((7, 3))
    assert _products.matmul_tn(A, D, out=out, blocks=blocks, scratch=scratch) is out
    np.testing.assert_allclose(out, A.T @ D, rtol=0, atol=1e-13)
    W = rng.normal(size=(7, 3))   # as a layer's weights: D @ W.T maps back to 7 inputs
    np.testing.assert_allclose(_products.matmul_nt(D, W, blocks=blocks), D @ W.T,
                               rtol=0, atol=1e-13)
    W_T, out = np.empty((3, 7)), np.empty((50, 7))
    assert _products.matmul_nt(D, W, out=out, blocks=blocks, W_T=W_T) is out
    np.testing.assert_allclose(out, D @ W.T, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(W_T, W.T)


def test_a_step_with_a_product_for_several_threads_keeps_all_its_products_whole(blas_core):
    blas_core(("openblas", "SkylakeX"))
    assert _products.layer_blocks(1797, [(64, 64), (64, 10)])[0] is not None
    assert _products.layer_blocks(1000, [(784, 256), (256, 10)]) == [None, None]


def test_without_numpy_s_own_library_in_sight_there_are_no_blocks():
    # A distribution's NumPy linked to a system BLAS: rather no blocks than blocks that depend
    # on whatever else happens to be loaded first.
    assert not _products._decide_small_path([blas_info("openblas", "SkylakeX", ELSEWHERE)])
    assert _products._decide_small_path([blas_info("openblas", "SkylakeX", ELSEWHERE),
                                         blas_info("openblas", "SkylakeX", NUMPY_LIBS)])
