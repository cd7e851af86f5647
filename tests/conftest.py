"""Shared pytest fixtures."""
import pytest
import torch


@pytest.fixture
def one_thread():
    """Run a test with one torch thread, then restore the caller's setting.

    Tiny tensors gain nothing from extra threads, only synchronisation (badly so on a busy
    2-core machine), and one thread also fixes the order of floating-point sums.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
