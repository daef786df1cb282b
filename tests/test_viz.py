"""viz: image grids from every accepted shape and range, PNG and GIF files on disk, loss plots."""

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from gan_helpers import viz  # noqa: E402
from gan_helpers.callbacks import EpochGrids  # noqa: E402

PAD = 128  # round(0.5 * 255), the default border grey


def constant_digits(count=16, low=0.0, high=1.0):
    """(count, 28, 28) images; image k is uniformly k/(count-1) of the way from low to high."""
    levels = np.linspace(low, high, count, dtype=np.float32)
    return np.broadcast_to(levels[:, None, None], (count, 28, 28)).copy()


def tile(grid, index, ncols, size=28, padding=2):
    top = padding + (index // ncols) * (size + padding)
    left = padding + (index % ncols) * (size + padding)
    return grid[top : top + size, left : left + size]


def test_grid_of_16_digits_is_4_by_4_with_each_image_in_its_place():
    grid = viz.image_grid(constant_digits())
    assert grid.dtype == np.uint8
    assert grid.shape == (4 * 30 + 2, 4 * 30 + 2)
    for k in range(16):
        assert np.all(tile(grid, k, 4) == round(k / 15 * 255)), k
    assert np.all(grid[:2, :] == PAD) and np.all(grid[:, 30:32] == PAD)


@pytest.mark.parametrize(
    "reshape",
    [lambda x: x.reshape(16, 784), lambda x: x, lambda x: x[..., None], tf.convert_to_tensor],
    ids=["flat", "NHW", "NHW1", "tensor"],
)
def test_every_accepted_grey_shape_gives_the_same_grid(reshape):
    images = constant_digits()
    assert np.array_equal(viz.image_grid(reshape(images)), viz.image_grid(images))


def test_ranges_minus_one_to_one_zero_to_one_and_uint8_are_detected():
    unit = constant_digits()
    expected = viz.image_grid(unit)
    assert np.array_equal(viz.image_grid(unit * 2 - 1), expected)
    assert np.array_equal(viz.image_grid(np.round(unit * 255).astype(np.uint8)), expected)
    assert np.array_equal(viz.image_grid(unit * 10, value_range=(0, 10)), expected)


def test_colour_images_keep_their_channels():
    images = np.zeros((4, 8, 8, 3), dtype=np.float32)
    images[0, ..., 0] = 1.0  # red
    images[3, ..., 2] = 1.0  # blue
    grid = viz.image_grid(images, padding=1)
    assert grid.shape == (2 * 9 + 1, 2 * 9 + 1, 3)
    assert np.all(grid[1:9, 1:9] == [255, 0, 0])
    assert np.all(grid[10:18, 10:18] == [0, 0, 255])


def test_a_count_that_is_no_square_fills_rows_and_leaves_empty_cells_grey():
    grid = viz.image_grid(constant_digits(10, low=0.0, high=0.0) + 1.0)
    assert grid.shape == (3 * 30 + 2, 4 * 30 + 2)
    assert np.all(tile(grid, 9, 4) == 255)
    assert np.all(tile(grid, 10, 4) == PAD) and np.all(tile(grid, 11, 4) == PAD)
    wide = viz.image_grid(constant_digits(10), ncols=5)
    assert wide.shape == (2 * 30 + 2, 5 * 30 + 2)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros(784), r"images\[None\]"),
        (np.zeros((4, 783)), "not a square picture"),
        (np.zeros((4, 3, 28, 28)), "channels-first"),
        (np.zeros((4, 28, 28, 2)), "Expected"),
        (np.zeros((0, 784)), "no images"),
        (np.full((4, 784), 255.0), r"value_range"),
        (np.full((4, 784), np.nan), "NaN"),
        (np.array([["a"]]), "numeric"),
    ],
    ids=["one-image", "not-square", "channels-first", "two-channels", "empty", "float-0-255", "nan", "strings"],
)
def test_bad_images_get_a_clear_error(images, message):
    with pytest.raises((ValueError, TypeError), match=message):
        viz.image_grid(images)


def test_show_images_draws_the_grid_into_given_axes():
    images = constant_digits() * 2 - 1
    figure, ax = plt.subplots()
    viz.show_images(images, ax=ax, title="samples")
    assert np.array_equal(np.asarray(ax.images[0].get_array()), viz.image_grid(images))
    assert ax.get_title() == "samples"
    plt.close(figure)


def test_show_images_on_its_own_leaves_no_open_figure_off_screen():
    before = plt.get_fignums()
    assert viz.show_images(constant_digits().reshape(16, 784)) is None
    assert plt.get_fignums() == before


def test_save_image_grid_writes_a_png_with_the_grid_pixels(tmp_path):
    images = constant_digits() * 2 - 1
    path = viz.save_image_grid(images, tmp_path / "new" / "folder" / "grid.png")
    assert path.is_file()
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.mode == "L"
        pixels = np.asarray(picture)
    assert pixels.shape == (122, 122)
    assert np.array_equal(pixels, viz.image_grid(images))
    assert np.all(tile(pixels, 15, 4) == 255) and np.all(tile(pixels, 0, 4) == 0)


def test_save_image_grid_scales_each_pixel_to_a_block(tmp_path):
    images = constant_digits()
    path = viz.save_image_grid(images, tmp_path / "big.png", scale=3)
    with Image.open(path) as picture:
        pixels = np.asarray(picture)
    assert pixels.shape == (366, 366)
    assert np.array_equal(pixels[::3, ::3], viz.image_grid(images))


def test_save_image_grid_refuses_a_path_that_is_no_png(tmp_path):
    with pytest.raises(ValueError, match=r"ending in \.png"):
        viz.save_image_grid(constant_digits(), tmp_path / "grid.jpg")


def test_moving_average():
    assert np.allclose(viz.moving_average([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    assert np.allclose(viz.moving_average([1, 2, 3], 1), [1, 2, 3])


def test_plot_losses_draws_both_curves_from_a_history_object():
    history = SimpleNamespace(d_loss=[1.0, 0.8, 0.6], g_loss=[2.0, 2.5, 3.0])
    figure, ax = plt.subplots()
    viz.plot_losses(history, ax=ax, smooth=1)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert np.allclose(lines["discriminator"].get_ydata(), history.d_loss)
    assert np.allclose(lines["generator"].get_ydata(), history.g_loss)
    assert np.allclose(lines["generator"].get_xdata(), [1, 2, 3])
    plt.close(figure)


def test_plot_losses_from_a_dict_writes_a_png(tmp_path):
    rng = np.random.default_rng(0)
    history = {"d_loss": list(rng.random(500)), "g_loss": list(rng.random(500) + 1)}
    path = viz.plot_losses(history, path=tmp_path / "losses.png")
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        assert picture.width > 300 and picture.height > 150
        pixels = np.asarray(picture.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # curves, not a blank canvas


def test_plot_losses_rejects_what_is_no_history():
    with pytest.raises(TypeError, match="d_loss"):
        viz.plot_losses({"loss": [1.0]})
    with pytest.raises(ValueError, match="no losses"):
        viz.plot_losses({"d_loss": [], "g_loss": []})


def test_make_gif_from_batches_and_from_training_samples(tmp_path):
    frames = [constant_digits(4, low=level, high=level) for level in (0.0, 0.5, 1.0)]
    path = viz.make_gif(frames, tmp_path / "progress.gif", duration_ms=100)
    samples = [(step, frame * 2 - 1) for step, frame in zip((0, 250, 500), frames)]
    same = viz.make_gif(samples, tmp_path / "samples.gif", duration_ms=100)
    for gif in (path, same):
        with Image.open(gif) as picture:
            assert picture.format == "GIF" and picture.n_frames == 3
            assert picture.size == (62, 62)
            picture.seek(2)
            last = np.asarray(picture.convert("L"))
        assert np.all(tile(last, 0, 2) == 255)


def test_make_gif_from_png_files(tmp_path):
    pngs = [
        viz.save_image_grid(constant_digits(4, low=level, high=level), tmp_path / f"{i}.png")
        for i, level in enumerate((0.0, 1.0))
    ]
    path = viz.make_gif(pngs, tmp_path / "from_pngs.gif")
    with Image.open(path) as picture:
        assert picture.n_frames == 2
        first = np.asarray(picture.convert("L"))
    assert np.all(tile(first, 0, 2) == 0)


def test_make_gif_rejects_no_frames_and_mixed_sizes(tmp_path):
    with pytest.raises(ValueError, match="at least one frame"):
        viz.make_gif([], tmp_path / "empty.gif")
    with pytest.raises(ValueError, match="same size"):
        viz.make_gif([constant_digits(4), constant_digits(9)], tmp_path / "mixed.gif")


# ---------------------------------------------------------------- a grid per epoch, during real training (callbacks.EpochGrids)


def _train_with_grids(tmp_path, grids, num_epochs, callbacks=()):
    from gan_helpers import discriminator, generator, load_mnist, losses, training

    (x_train, _), _ = load_mnist()
    images = x_train[:200].reshape(200, 784).astype(np.float32) / 127.5 - 1.0
    D, G = discriminator(), generator()
    D_solver, G_solver = training.get_solvers()
    return training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                              batch_size=100, num_epochs=num_epochs, dataset=images, seed=0, print_every=1,
                              callbacks=[grids, *callbacks])


def test_epoch_grids_write_one_png_before_training_and_one_per_epoch(tmp_path):
    (tmp_path / "grids").mkdir()
    (tmp_path / "grids" / "epoch_009.png").write_bytes(b"left by an earlier run")
    noise = np.random.default_rng(0).uniform(-1, 1, size=(9, 96)).astype(np.float32)
    grids = EpochGrids(tmp_path / "grids", noise, clear=True)
    _train_with_grids(tmp_path, grids, num_epochs=2)
    names = sorted(p.name for p in (tmp_path / "grids").iterdir())
    assert names == ["epoch_000.png", "epoch_001.png", "epoch_002.png"]
    assert [p.name for p in grids.paths] == names
    first, last = (np.asarray(Image.open(p)) for p in (grids.paths[0], grids.paths[-1]))
    assert first.shape == last.shape == (3 * 28 + 4 * 2,) * 2  # 3x3 grid of 28x28 with 2-pixel padding
    assert not np.array_equal(first, last), "training changed the generator, so its grid must change"


def test_epoch_grids_save_the_step_where_training_stopped_inside_an_epoch(tmp_path):
    class StopAtStep3(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.model.history.steps_done == 3:
                raise KeyboardInterrupt

    noise = np.zeros((4, 96), dtype=np.float32)
    grids = EpochGrids(tmp_path, noise, before_training=False)
    history = _train_with_grids(tmp_path, grids, num_epochs=5, callbacks=[StopAtStep3()])
    assert history.stopped == "interrupted"
    assert [p.name for p in grids.paths] == ["epoch_001.png", "step_000003.png"]
