"""dream/measures.py: measures of a picture that separate real digits from noise and blobs."""
import torch

from dream.data import digits_data, digits_to_images
from dream.measures import dark_share, high_frequency_share, stretched_8x8, total_variation


def test_image_measures_separate_real_digits_from_noise():
    X8, _ = digits_data()
    for size in (32, 224):
        real = digits_to_images(X8[:200], size=size)
        assert high_frequency_share(real).median() < 0.01
        assert total_variation(real).median() < 8
    noise = torch.rand(20, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert high_frequency_share(noise).min() > 0.5 and total_variation(noise).min() > 20
    # both are independent of contrast
    torch.testing.assert_close(high_frequency_share(0.3 * noise), high_frequency_share(noise))
    torch.testing.assert_close(total_variation(0.3 * noise + 0.1), total_variation(noise), rtol=1e-4, atol=1e-4)


def test_dark_share_tells_ink_on_black_from_holes_in_a_gray_field():
    X8, _ = digits_data()
    real = digits_to_images(X8[:200])
    assert dark_share(real).min() >= 0.3
    holes = torch.full((1, 3, 32, 32), 0.6)
    holes[..., 8:14, 6:12] = 0.0
    holes[..., 18:24, 18:26] = 0.0
    assert dark_share(holes)[0] < 0.2
    x, contrast = stretched_8x8(holes)
    assert x.min() == 0 and x.max() == 1 and contrast[0] > 0.3
