"""dream/threads.py: limit_threads sets torch's and the BLAS pools' threads for a while, then restores them."""
import pytest
import torch
from threadpoolctl import threadpool_info

from dream.threads import limit_threads


def test_limit_threads_sets_and_restores():
    before = torch.get_num_threads()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before
    with limit_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"):
        with limit_threads(1, blas=False):
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
