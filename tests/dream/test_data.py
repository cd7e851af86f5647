"""dream/data.py: scikit-learn's 8x8 digits as images, the split, random transforms."""
import torch

from dream.data import as_batch, digits_data, digits_split, digits_to_images, random_transforms


def test_digits_as_images_and_a_stratified_split():
    X8, y = digits_data()
    assert X8.shape == (1797, 8, 8) and y.shape == (1797,) and float(X8.max()) == 16
    tr, te = digits_split()
    assert len(te) == 360 and len(set(tr.tolist()) & set(te.tolist())) == 0
    assert torch.equal(digits_split()[1], te)                        # seeded
    img = digits_to_images(X8[:2], size=224)
    assert img.shape == (2, 3, 224, 224) and 0 <= img.min() and img.max() <= 1
    assert as_batch(img[0]).shape == (1, 3, 224, 224)


def test_random_transforms_are_seeded_and_move_the_picture():
    X8, _ = digits_data()
    img = digits_to_images(X8[:1])
    a, b = random_transforms(img, n=4, seed=1), random_transforms(img, n=4, seed=1)
    assert a.shape == (4, 3, 32, 32) and torch.equal(a, b)
    assert (a - img).abs().amax(dim=(1, 2, 3)).min() > 0.05
