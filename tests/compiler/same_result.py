"""Comparing a compiled function's result with a reference, value, shape, dtype and type."""
import numpy as np


def assert_same_result(got, want, where: str) -> None:
    """``got`` equals ``want`` to 1e-12, with the same structure (tuples), array shapes and
    dtypes, and the same Python scalar type (bool, int or float)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), where
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same_result(g, w, f"{where}, result {k}")
        return
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{where}: got {type(got).__name__}, expected an array"
        assert got.shape == want.shape, f"{where}: shape {got.shape} != {want.shape}"
        assert got.dtype == want.dtype, f"{where}: dtype {got.dtype} != {want.dtype}"
    else:
        want_type = bool if isinstance(want, (bool, np.bool_)) else int if isinstance(want, (int, np.integer)) \
            else float
        assert type(got) is want_type, f"{where}: got {type(got).__name__} {got!r}, expected {want_type.__name__}"
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=where)
