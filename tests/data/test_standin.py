"""Stand-in pictures: synthetic, reproducible, announced, and cut short in quick mode."""

import numpy as np

from gan_helpers import settings
from gan_helpers.data.standin import make_standin_dogs, standin_images


def test_standins_are_reproducible_colour_pictures_of_any_size():
    np.testing.assert_array_equal(make_standin_dogs(5, seed=4), make_standin_dogs(5, seed=4))
    assert not np.array_equal(make_standin_dogs(5, seed=4), make_standin_dogs(5, seed=5))
    small = make_standin_dogs(300, image_size=32)  # more than one chunk of 256
    assert small.shape == (300, 32, 32, 3) and small.dtype == np.uint8
    assert np.unique(small.reshape(300, -1), axis=0).shape[0] == 300  # every picture its own
    assert make_standin_dogs(0).shape == (0, 64, 64, 3)


def test_standin_images_announce_themselves_and_respect_quick_mode(monkeypatch, capsys):
    monkeypatch.setattr(settings, "QUICK_MAX_EXAMPLES", 7)
    images = standin_images("the photos", "they are not in data/photos/.", count=100, image_size=16)
    printed = capsys.readouterr().out
    assert "STAND-IN DATA: the photos could not be found" in printed and "NOT photographs" in printed
    assert "(Why: they are not in data/photos/.)" in printed
    assert images.shape == (7, 16, 16, 3)
    monkeypatch.setenv(settings.QUICK_ENV, "0")
    assert len(standin_images("the photos", "testing.", count=10, image_size=16)) == 10
