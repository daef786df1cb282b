"""Pictures of what a GAN does: image grids (on screen, as PNG, as a GIF) and loss curves.

Every function takes a batch of images in any of the shapes the course produces:
``(N, 784)`` (flat MNIST, or any ``(N, S*S)``), ``(N, H, W)``, ``(N, H, W, 1)`` or
``(N, H, W, 3)``, as numpy arrays or tensors. Values may be in [-1, 1] (a tanh
generator, the course's scaled data), in [0, 1], or uint8 0..255; the range is
detected, or given with ``value_range=(low, high)``.

Plotting uses matplotlib only; PNG and GIF files are written with Pillow.
"""

import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

# Backends that draw off-screen: plt.show() does nothing there, so figures are closed.
_OFFSCREEN_BACKENDS = ("agg", "cairo", "pdf", "pgf", "ps", "svg", "template")
# Floats this far outside [-1, 1] still count as in range (rounding), then are clipped.
_RANGE_TOLERANCE = 1e-3

ACCEPTED_SHAPES = "(N, 784) or (N, S*S), (N, H, W), (N, H, W, 1) or (N, H, W, 3)"


def _image_batch(images):
    """``images`` as a float array (N, H, W) or (N, H, W, 3), values as given."""
    array = np.asarray(images)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"images must be a numeric array or tensor, not {array.dtype} ({type(images).__name__}).")
    shape = array.shape
    if array.ndim == 0 or array.size == 0:
        raise ValueError(f"There are no images to show: got shape {shape}. Expected {ACCEPTED_SHAPES}.")
    if array.ndim == 1:
        raise ValueError(
            f"images has shape {shape}, a single image? Pass a batch of one, images[None], "
            f"in one of the shapes {ACCEPTED_SHAPES}."
        )
    if array.ndim == 2:
        side = math.isqrt(shape[1])
        if side * side != shape[1]:
            raise ValueError(
                f"images has shape {shape}: {shape[1]} values per image is not a square picture. "
                f"Expected {ACCEPTED_SHAPES}."
            )
        return array.reshape(shape[0], side, side)
    if array.ndim == 3 or (array.ndim == 4 and shape[-1] == 3):
        return array
    if array.ndim == 4 and shape[-1] == 1:
        return array[..., 0]
    hint = ""
    if array.ndim == 4 and shape[1] in (1, 3):
        hint = " This looks channels-first: transpose it to (N, H, W, C) with np.transpose(images, (0, 2, 3, 1))."
    raise ValueError(f"images has shape {shape}. Expected {ACCEPTED_SHAPES}.{hint}")


def _detect_range(array):
    if array.dtype == np.uint8:
        return (0.0, 255.0)
    low, high = float(array.min()), float(array.max())
    if high <= 1.0 + _RANGE_TOLERANCE and low >= -1.0 - _RANGE_TOLERANCE:
        return (-1.0, 1.0) if low < 0.0 else (0.0, 1.0)
    raise ValueError(
        f"Image values span [{low:.4g}, {high:.4g}]; expected [-1, 1], [0, 1] or uint8 0..255. "
        f"Scale them first (e.g. images / 255 for 0..255 floats), or give value_range=(low, high)."
    )


def _to_unit_range(array, value_range=None):
    """Scale to float32 [0, 1]; NaN or infinite values are an error."""
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if not np.isfinite(array).all():
        raise ValueError("images contain NaN or infinite values (did training diverge?); there is nothing to draw.")
    low, high = value_range if value_range is not None else _detect_range(array)
    if not high > low:
        raise ValueError(f"value_range must be (low, high) with high > low, not {value_range}.")
    unit = (array.astype(np.float32) - low) / (high - low)
    return np.clip(unit, 0.0, 1.0)


def _grid_shape(count, ncols=None):
    cols = ncols or math.ceil(math.sqrt(count))
    if cols < 1:
        raise ValueError(f"ncols must be a positive number, not {ncols}.")
    return math.ceil(count / cols), cols


def image_grid(images, *, value_range=None, ncols=None, padding=2, pad_value=0.5):
    """Tile a batch of images into one picture, as a numpy uint8 array.

    Args:
        images: a batch in any accepted shape and range (see the module docstring).
        value_range: ``(low, high)`` of the values; None detects [-1, 1], [0, 1] or uint8.
        ncols: images per row; None makes the grid as square as possible
            (``ceil(sqrt(N))`` columns, so 16 images give 4 x 4).
        padding: pixels of border around and between the images.
        pad_value: grey level of the border and of empty cells, in [0, 1].
    Returns:
        uint8 array (rows*(H+padding)+padding, cols*(W+padding)+padding), with a
        trailing axis of 3 for colour images; 0 is black, 255 white.
    """
    batch = _to_unit_range(_image_batch(images), value_range)
    count, height, width = batch.shape[:3]
    rows, cols = _grid_shape(count, ncols)
    grid = np.full(
        (rows * (height + padding) + padding, cols * (width + padding) + padding) + batch.shape[3:],
        pad_value,
        dtype=np.float32,
    )
    for index, image in enumerate(batch):
        top = padding + (index // cols) * (height + padding)
        left = padding + (index % cols) * (width + padding)
        grid[top : top + height, left : left + width] = image
    return np.round(grid * 255.0).astype(np.uint8)


def show_images(images, *, title=None, value_range=None, ncols=None, ax=None):
    """Show a batch of images as a square grid (e.g. 16 MNIST digits as 4 x 4).

    Accepts ``(N, 784)``, ``(N, 28, 28)``, ``(N, 28, 28, 1)`` or ``(N, H, W, 3)``
    with values in [-1, 1] or [0, 1] (or uint8), detected automatically.
    With ``ax`` it draws into that matplotlib Axes and leaves showing to the
    caller; otherwise it makes a figure and shows it. Returns nothing, so that a
    notebook shows the picture once. For an array or a file, use
    :func:`image_grid` or :func:`save_image_grid`.
    """
    grid = image_grid(images, value_range=value_range, ncols=ncols)
    figure = None
    if ax is None:
        inches = min(8.0, max(2.5, grid.shape[1] / 40.0))
        figure, ax = plt.subplots(figsize=(inches, inches * grid.shape[0] / grid.shape[1]))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    _save_or_show(figure)


def _save_or_show(figure, path=None):
    """Write a figure this module made to ``path`` (PNG) and return the path, or show it.

    Shown, it is closed where showing draws nothing (an off-screen backend). ``figure``
    is None when the caller drew into an axes it was given: that figure is the caller's.
    """
    if figure is None:
        return None
    if path is None:
        plt.show()
        if matplotlib.get_backend().lower() in _OFFSCREEN_BACKENDS:
            plt.close(figure)
        return None
    path = _output_path(path, ".png")
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path


def _output_path(path, suffix):
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise ValueError(f"{path}: this writes a {suffix[1:].upper()} file; give a path ending in {suffix}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def grid_picture(grid, scale=1):
    """A uint8 grid (H, W) or (H, W, 3) as a PIL image, each pixel made a ``scale`` x ``scale`` block."""
    picture = Image.fromarray(grid)
    if scale != 1:
        picture = picture.resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST)
    return picture


def save_image_grid(images, path, *, value_range=None, ncols=None, padding=2, scale=1):
    """Write a batch of images as one grid picture to a PNG file; return its Path.

    The grid is :func:`image_grid`'s (same arguments); ``scale`` enlarges every
    pixel to a ``scale`` x ``scale`` block, so small digits stay sharp.
    Missing parent folders are created.
    """
    path = _output_path(path, ".png")
    grid = image_grid(images, value_range=value_range, ncols=ncols, padding=padding)
    grid_picture(grid, int(scale)).save(path, format="PNG")
    return path


def _history_losses(history):
    try:
        if isinstance(history, Mapping):
            d_loss, g_loss = history["d_loss"], history["g_loss"]
        else:
            d_loss, g_loss = history.d_loss, history.g_loss
    except (KeyError, AttributeError):
        raise TypeError(
            "plot_losses needs the history run_a_gan returns, or a dict with 'd_loss' and "
            f"'g_loss' lists; got {type(history).__name__}."
        ) from None
    d_loss, g_loss = (np.asarray(losses, dtype=np.float64).ravel() for losses in (d_loss, g_loss))
    if d_loss.size == 0 and g_loss.size == 0:
        raise ValueError("The history holds no losses yet: train for at least one step first.")
    return d_loss, g_loss


def moving_average(values, window):
    """Mean of each run of ``window`` values (shorter at the start), same length as ``values``."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or values.size == 0:
        return values
    sums = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, values.size + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def plot_losses(history, *, smooth=None, ax=None, title=None, path=None):
    """Plot the discriminator's and generator's loss per training step.

    Args:
        history: a GanHistory (anything with ``d_loss`` and ``g_loss`` lists of
            floats, one per step) or a dict with those keys.
        smooth: window of the moving average drawn over the raw (faint) curves;
            None picks about 1/50 of the steps, 1 draws the raw losses only.
        ax: a matplotlib Axes to draw into; the caller then shows it.
        title: a title for the plot.
        path: when given, the figure is written there as PNG instead of shown,
            and the Path is returned.
    """
    d_loss, g_loss = _history_losses(history)
    window = smooth if smooth is not None else max(1, max(d_loss.size, g_loss.size) // 50)
    figure = None
    if ax is None:
        figure, ax = plt.subplots(figsize=(7, 3.5))
    for losses, label, colour in ((d_loss, "discriminator", "tab:blue"), (g_loss, "generator", "tab:orange")):
        steps = np.arange(1, losses.size + 1)
        if window > 1:
            ax.plot(steps, losses, color=colour, alpha=0.25, linewidth=0.8)
        ax.plot(steps, moving_average(losses, window), color=colour, label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title)
    return _save_or_show(figure, path)


def _frame_array(frame):
    """One GIF frame as an array: read from a PNG path, or the images of a (step, images) pair."""
    if isinstance(frame, (str, Path)):
        with Image.open(frame) as picture:
            return np.asarray(picture.convert("L" if picture.mode in ("1", "L") else "RGB"))
    if isinstance(frame, tuple) and len(frame) == 2:
        frame = frame[1]
    return np.asarray(frame)


def _is_ready_grid(array):
    return array.dtype == np.uint8 and (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 3))


def _joint_range(batches):
    """One value range for all batches, so every frame is scaled alike; None if any is not finite."""
    extremes = np.array([value for batch in batches for value in (batch.min(), batch.max())])
    return _detect_range(extremes) if np.isfinite(extremes).all() else None


def make_gif(frames, path, *, duration_ms=250, loop=0, value_range=None, scale=1):
    """Write an animated GIF, one frame per item of ``frames``; return its Path.

    Each frame may be a PNG file path, a grid from :func:`image_grid` (uint8
    (H, W) or (H, W, 3)), a batch of images in any accepted shape, or a
    ``(step, images)`` pair, so ``make_gif(history.samples, "progress.gif")``
    animates the samples a training run showed. All frames must have the same
    size. Batches share one value range (detected over all of them unless
    ``value_range`` is given), so a frame's brightness does not jump.
    ``duration_ms`` is the time per frame; ``loop=0`` repeats forever.
    """
    arrays = [_frame_array(frame) for frame in frames]
    if not arrays:
        raise ValueError("make_gif needs at least one frame.")
    batches = [array for array in arrays if not _is_ready_grid(array)]
    if value_range is None and batches:
        value_range = _joint_range([_image_batch(batch) for batch in batches])
    grids = [array if _is_ready_grid(array) else image_grid(array, value_range=value_range) for array in arrays]
    sizes = {grid.shape[:2] for grid in grids}
    if len(sizes) > 1:
        raise ValueError(f"All GIF frames must have the same size; got {sorted(sizes)}.")
    if any(grid.ndim == 3 for grid in grids):
        grids = [np.repeat(grid[..., None], 3, axis=-1) if grid.ndim == 2 else grid for grid in grids]
    path = _output_path(path, ".gif")
    pictures = [grid_picture(grid, int(scale)) for grid in grids]
    pictures[0].save(
        path, format="GIF", save_all=True, append_images=pictures[1:], duration=duration_ms, loop=loop
    )
    return path


def plot_class_shares(shares, *, min_share=None, ax=None, title=None, path=None):
    """Bar chart of the share of samples per class (e.g. per digit): mode collapse made visible.

    Args:
        shares: one sequence of per-class shares (e.g. ``SampleScores.class_shares``),
            or a dict ``{name: shares}`` to compare several sets side by side.
        min_share: draw a dotted line at this share (e.g. ``metrics.MIN_CLASS_SHARE``,
            below which a class counts as not covered).
        ax, title, path: as in :func:`plot_losses` (draw into an Axes; write a PNG
            instead of showing, returning its Path).
    A dashed line marks the even share, 1 / number of classes.
    """
    if not isinstance(shares, Mapping):
        shares = {"": shares}
    if not shares:
        raise ValueError("plot_class_shares needs at least one set of shares.")
    named = {name: np.asarray(values, dtype=np.float64).ravel() for name, values in shares.items()}
    sizes = {values.size for values in named.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(f"Every set of shares must have the same, non-zero number of classes; got sizes {sorted(sizes)}.")
    classes = sizes.pop()
    figure = None
    if ax is None:
        figure, ax = plt.subplots(figsize=(max(6.0, 0.25 * classes * len(named)), 3.2))
    width = 0.8 / len(named)
    positions = np.arange(classes)
    for index, (name, values) in enumerate(named.items()):
        ax.bar(positions - 0.4 + width * (index + 0.5), values, width, label=name or None)
    ax.axhline(1.0 / classes, color="black", linestyle="--", linewidth=0.8, label="even share")
    if min_share is not None:
        ax.axhline(min_share, color="tab:red", linestyle=":", linewidth=0.8, label=f"covered above {min_share:g}")
    ax.set_xticks(positions)
    ax.set_xlabel("class")
    ax.set_ylabel("share of samples")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return _save_or_show(figure, path)
