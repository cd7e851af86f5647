"""dream/gallery.py: one image as a file, and a gallery PNG with labels and the judge's readings."""
import numpy as np
import pytest
import torch
from PIL import Image

from dream.gallery import save_gallery, save_image


def test_save_image_writes_a_clamped_png_and_names_bad_shapes(tmp_path):
    img = torch.linspace(-1, 2, 3 * 5 * 7).view(1, 3, 5, 7)
    arr = np.asarray(Image.open(save_image(img, tmp_path / "sub" / "x.png")))
    assert arr.shape == (5, 7, 3) and arr.min() == 0 and arr.max() == 255
    with pytest.raises(ValueError, match="batch of 2"):
        save_image(torch.rand(2, 3, 4, 4), tmp_path / "y.png")
    with pytest.raises(ValueError, match="C in"):
        save_image(torch.rand(1, 2, 4, 4), tmp_path / "y.png")


def test_save_gallery_writes_a_png(tmp_path):
    path = save_gallery([torch.rand(1, 3, 32, 32) for _ in range(3)], ["0", "1", "2"], tmp_path / "g.png",
                        probs=[0.5, 0.9, 1.0], reads=[0, -1, 3], targets=[0, 1, 2], title="test")
    img = Image.open(path)
    assert img.format == "PNG" and img.size[0] > 300
