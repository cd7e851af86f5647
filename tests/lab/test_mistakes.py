"""lab.mistakes: the one catalogue, its invariants, and the helpers that recognise a mistake by numbers."""
import pytest
import torch

from lab import mistakes

SEEN = {"written answers", "student code", "classic"}


def test_every_entry_is_complete_and_keyed_by_its_own_key():
    for key, m in mistakes.CATALOGUE.items():
        assert m.key == key and m.name.strip() and m.hint.strip(), key
        assert set(m.seen) <= SEEN and m.seen, (key, m.seen)
        assert "\n" not in m.name + m.hint                      # a verdict is one line


def test_duplicate_keys_are_refused():
    m = mistakes.get("transpose")
    with pytest.raises(ValueError, match="duplicate mistake key 'transpose'"):
        mistakes._catalogue(m, m)


def test_unknown_key_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown mistake 'nope'; known: .*transpose"):
        mistakes.get("nope")


def test_generic_variants_leave_out_factors_of_one_and_tell_sizes_apart():
    t = torch.arange(6.0).reshape(2, 3)
    v = mistakes.generic_variants(t, N=5, K=4)
    assert torch.equal(v["transpose"], t.T) and torch.equal(v["sign_flipped"], -t)
    factors = {k: (v[k][0, 1] / t[0, 1]).item() for k in v if k.startswith("factor_")}
    assert len(set(round(f, 9) for f in factors.values())) == len(factors)    # N, K, N·K, 2 all different
    assert "factor_K" not in mistakes.generic_variants(t, N=5, K=1)


def test_first_match_skips_a_variant_equal_to_the_truth():
    truth = torch.zeros(3)
    assert mistakes.first_match(truth, {"sign_flipped": -truth}, truth=truth) is None
    truth = torch.ones(3)
    assert mistakes.first_match(-truth, {"sign_flipped": -truth}, truth=truth).key == "sign_flipped"
    assert mistakes.first_match(truth, {"factor_2": lambda: 1 / 0}, truth=truth) is None   # a raising variant is skipped
