"""Fixtures shared by the dream/ tests: the two embedded digits models, loaded once per module."""
import pytest

from dream.models import load_model


@pytest.fixture(scope="module")
def digits():
    return load_model("digits")


@pytest.fixture(scope="module")
def standard():
    return load_model("digits_standard")
