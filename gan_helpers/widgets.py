"""Widgets for a GAN: exploring a trained generator with sliders (a static fallback where none can show), and
what every widget of the course needs.

Tools for after training, each a widget where one can be shown, else a static picture:

- :func:`browse_samples` ``(history)``: a slider over the grids in ``history.samples``;
- :func:`latent_walk` ``(G)``: a slider over ``t`` in [0, 1] drawing
  ``G((1 - t) z0 + t z1)`` for a few pairs of noise vectors;
- :func:`conditional_explorer` ``(G)``, for a conditional generator ``G([noise, labels])``:
  a slider for the class and one for the noise (static: a grid of noise x classes).
  :func:`same_noise_images` and :func:`class_interpolation_images` compute the pictures
  of notebook 12: one noise drawn as every class, and a class morphing into another.

Whether widgets shown now would be seen is :func:`widget_frontend`'s answer (the live
training view of ``display`` asks it too). The environment variable
``GAN_COURSE_WIDGETS`` overrides it: ``0`` always gives plain output, ``1`` gives
widgets in any notebook kernel (even one started by a test).
"""
import contextlib
import io
import os
import sys

import numpy as np

from gan_helpers import models, viz

WIDGETS_ENV = "GAN_COURSE_WIDGETS"
_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")

# Sample grids are enlarged (whole pixels) to about this width on screen.
GRID_DISPLAY_WIDTH = 256


# ----------------------------------------------------------------- where are we running?


def _ipython_shell():
    """The running IPython shell, or None (IPython is not imported just to ask)."""
    ipython = sys.modules.get("IPython")
    try:
        return None if ipython is None else ipython.get_ipython()
    except Exception:  # an IPython that cannot answer: treat as plain Python
        return None


def in_notebook_kernel():
    """True inside a Jupyter kernel (ipykernel's shell, Colab's included)."""
    zmqshell = sys.modules.get("ipykernel.zmqshell")
    return zmqshell is not None and isinstance(_ipython_shell(), zmqshell.ZMQInteractiveShell)


def _in_colab():
    return "google.colab" in sys.modules


def _ipywidgets_importable():
    try:
        import ipywidgets  # noqa: F401
    except Exception:
        return False
    return True


def widget_frontend():
    """True when widgets shown now would be seen: a notebook front end is attached.

    - ``GAN_COURSE_WIDGETS=0`` (or false/no/off): False.
    - Not in a notebook kernel (plain Python, the command line, terminal IPython): False.
    - In Google Colab: True.
    - Under pytest (nbval runs the notebooks in kernels nobody looks at, and those
      kernels inherit ``PYTEST_CURRENT_TEST``): False, unless ``GAN_COURSE_WIDGETS=1``.
    - Otherwise, in a kernel: True when ipywidgets can be imported.
    """
    setting = os.environ.get(WIDGETS_ENV, "").strip().lower()
    if setting in _OFF or _ipython_shell() is None:
        return False
    if _in_colab():
        return _ipywidgets_importable()
    if not in_notebook_kernel() or not _ipywidgets_importable():
        return False
    return setting in _ON or "PYTEST_CURRENT_TEST" not in os.environ


def show_widget(widget):
    """Show a widget in the notebook; on Colab turn on its manager for ipywidgets 8 first."""
    from IPython.display import display

    if _in_colab():
        with contextlib.suppress(Exception):  # an older Colab: its own widget manager is used
            from google.colab import output

            output.enable_custom_widget_manager()
    display(widget)


# ------------------------------------------ pictures as PNG bytes (for ipywidgets.Image)


def grid_png(images, *, ncols=None, width=GRID_DISPLAY_WIDTH):
    """A batch of images as one grid (``viz.image_grid``), enlarged to about ``width`` px, as PNG bytes."""
    grid = viz.image_grid(images, ncols=ncols)
    buffer = io.BytesIO()
    viz.grid_picture(grid, max(1, int(width) // grid.shape[1])).save(buffer, format="PNG")
    return buffer.getvalue()


def losses_png(d_loss, g_loss):
    """The loss curves (``viz.plot_losses``) as PNG bytes, 400 x 224 px, drawn off-screen (no pyplot)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.0, 2.8), dpi=80)
    ax = figure.add_subplot()
    viz.plot_losses({"d_loss": list(d_loss), "g_loss": list(g_loss)}, ax=ax)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# ------------------------------------------------------- browsing the saved sample grids


def _history_samples(history):
    samples = getattr(history, "samples", history)
    try:
        samples = list(samples)
        ok = all(len(entry) == 2 for entry in samples)
    except TypeError:
        ok = False
    if not ok:
        raise TypeError("browse_samples needs the history run_a_gan returns (or its .samples, a list of "
                        f"(step, images) pairs), not {type(history).__name__}.")
    if not samples:
        raise ValueError("The history holds no sample grids: train with run_a_gan first "
                         "(it saves a grid every show_every steps).")
    return samples


def grid_slider(entries, image, label):
    """An ``IntSlider`` over (step, images) ``entries``, at the last one, showing its grid in ``image``.

    ``image`` is an ``Image`` widget, ``label`` an ``HTML`` one that names the grid's step.
    """
    import ipywidgets as w

    def show(change):
        step, images = entries[change["new"]]
        image.value = grid_png(images)
        label.value = f"<b>Samples</b> at step {step} ({change['new'] + 1} of {len(entries)})"

    last = len(entries) - 1
    slider = w.IntSlider(value=last, min=0, max=last, description="grid", readout=False)
    slider.observe(show, names="value")
    show({"new": slider.value})
    return slider


class _View:
    """A view whose whole widget is ``widget``: in a notebook it shows itself as a cell's last value."""

    def _ipython_display_(self):
        show_widget(self.widget)


class SampleBrowser(_View):
    """A slider over the sample grids saved during training (``history.samples``).

    ``widget`` is the whole view; ``slider`` picks a grid, ``image`` shows it and
    ``label`` names its step.
    """

    def __init__(self, history):
        import ipywidgets as w

        self.entries = _history_samples(history)
        self.label = w.HTML()
        self.image = w.Image(value=b"", format="png", layout=w.Layout(width=f"{GRID_DISPLAY_WIDTH}px"))
        self.slider = grid_slider(self.entries, self.image, self.label)
        self.widget = w.VBox([self.label, self.image, self.slider])


def browse_samples(history, *, max_static=4):
    """Browse the sample grids of a training run: a slider in a notebook, else a few grids.

    Args:
        history: what ``run_a_gan`` returned (or its ``samples`` list).
        max_static: without widgets, how many grids to draw (evenly spaced, the last included).
    """
    entries = _history_samples(history)
    if widget_frontend():
        show_widget(SampleBrowser(entries).widget)
        return
    picks = sorted(set(np.linspace(0, len(entries) - 1, min(max_static, len(entries))).round().astype(int)))
    for index in picks:
        step, images = entries[index]
        viz.show_images(images, title=f"step {step}")


# ------------------------------------------------------------------ latent interpolation


def _as_noise_pairs(z0, z1, size):
    z0, z1 = np.atleast_2d(np.asarray(z0, dtype=np.float32)), np.atleast_2d(np.asarray(z1, dtype=np.float32))
    if z0.shape != z1.shape or z0.ndim != 2:
        raise ValueError(f"z0 and z1 must have the same shape, (noise_size,) or (n, noise_size); "
                         f"got {z0.shape} and {z1.shape}.")
    if size is not None and z0.shape[1] != size:
        raise ValueError(f"G takes noise vectors of length {size}, but z0 and z1 have length {z0.shape[1]}.")
    return z0, z1


def interpolation_images(G, z0, z1, ts):
    """``G((1 - t) z0 + t z1)`` for each ``t`` in ``ts``: numpy (len(ts), n, ...) in G's output range.

    ``z0`` and ``z1`` are one noise vector each (noise_size,) or ``n`` of them (n, noise_size);
    the codes come from ``ops.interpolate_noise``.
    """
    from gan_helpers.ops import interpolate_noise

    z0, z1 = _as_noise_pairs(z0, z1, None)
    codes = interpolate_noise(z0, z1, ts)
    images = models.generate(G, codes.reshape(-1, z0.shape[1]))
    return images.reshape(codes.shape[:2] + images.shape[1:])


def _default_pairs(G, z0, z1, num, seed):
    """``_as_noise_pairs(z0, z1)``, an end not given drawn as ``num`` uniform noise vectors with ``seed``."""
    from gan_helpers.ops import sample_noise

    try:
        size = None if models.is_conditional(G) else models.noise_size(G)
    except ValueError:
        size = None
    if size is None and (z0 is None or z1 is None):
        raise ValueError("Cannot tell how long G's noise vectors are: build G first (call it once) "
                         "or pass noise vectors z0 and z1.")
    if z0 is None:
        z0 = np.asarray(sample_noise(num, size, seed=seed))
    if z1 is None:
        z1 = np.asarray(sample_noise(num, size or np.asarray(z0).shape[-1], seed=seed + 1))
    return _as_noise_pairs(z0, z1, size)


class InterpolationView(_View):
    """A slider over ``t`` in [0, 1] and the images ``G((1 - t) z0 + t z1)`` for ``n`` pairs, in a row.

    ``widget`` is the whole view, ``slider`` the ``FloatSlider`` of ``t``, ``image``
    the picture. ``z0`` and ``z1`` default to ``num`` pairs of noise drawn with ``seed``.
    """

    def __init__(self, G, z0=None, z1=None, *, num=8, steps=21, seed=0):
        import ipywidgets as w

        self.G = G
        self.z0, self.z1 = _default_pairs(G, z0, z1, num, seed)
        self.label = w.HTML()
        self.image = w.Image(value=b"", format="png")
        self.slider = w.FloatSlider(value=0.0, min=0.0, max=1.0, step=1.0 / max(int(steps) - 1, 1),
                                    description="t", continuous_update=True, readout_format=".2f")
        self.slider.observe(self._show, names="value")
        self._show({"new": 0.0})
        self.widget = w.VBox([self.label, self.image, self.slider])

    def _show(self, change):
        t = float(change["new"])
        images = interpolation_images(self.G, self.z0, self.z1, [t])[0]
        self.image.value = grid_png(images, ncols=len(images), width=GRID_DISPLAY_WIDTH * 2)
        self.label.value = f"<b>G((1 - t) z0 + t z1)</b> at t = {t:.2f}, {len(images)} pairs of noise vectors"


def latent_walk(G, z0=None, z1=None, *, num=8, steps=9, seed=0):
    """Walk the generator's latent space from ``z0`` to ``z1``: a slider in a notebook, else a grid.

    Args:
        G: a generator (noise (n, noise_size) -> images).
        z0, z1: the two ends, one vector (noise_size,) or ``n`` of them; default ``num``
            pairs of uniform noise drawn with ``seed``.
        steps: without widgets, the number of columns of the grid (``t`` from 0 to 1),
            one row per pair; the slider moves in steps of 0.05.
    """
    if widget_frontend():
        show_widget(InterpolationView(G, z0, z1, num=num, seed=seed).widget)
        return
    z0, z1 = _default_pairs(G, z0, z1, num, seed)
    images = interpolation_images(G, z0, z1, np.linspace(0.0, 1.0, max(int(steps), 2)))
    rows = np.swapaxes(images, 0, 1)  # (pairs, steps, ...)
    viz.show_images(rows.reshape((-1,) + rows.shape[2:]), ncols=rows.shape[1],
                    title="from z0 (left) to z1 (right), one row per pair")



# -------------------------------- conditional generators: pick the class, keep the style


def _conditional_parts(G):
    """G's noise input size and number of classes, for a conditional generator ``G([noise, labels])``."""
    if not models.is_conditional(G):
        raise ValueError("This needs a conditional generator, one that takes [noise, labels] "
                         "(G([noise, labels])); this one takes a single input.")
    return models.noise_size(G), models.label_classes(G) or models.NUM_CLASSES


def same_noise_images(G, noise):
    """Every class drawn from each noise vector: numpy (n, num_classes, ...), row i from ``noise[i]``.

    With the noise fixed, only the label changes along a row: what stays the same is
    what the noise controls (slant, thickness, size: the style).
    """
    _, num_classes = _conditional_parts(G)
    noise = np.atleast_2d(np.asarray(noise, dtype=np.float32))
    images = models.generate(G, np.repeat(noise, num_classes, axis=0), np.tile(np.arange(num_classes), len(noise)))
    return images.reshape((len(noise), num_classes) + images.shape[1:])


def _label_code_path(G):
    """The layers from G's label input to the first whose output is floating point: the label's code
    (an embedding or a one-hot vector). Raises ValueError when the labels reach no such layer on their own."""
    import keras

    try:
        current = G.inputs[1]
    except (AttributeError, IndexError, TypeError, ValueError):
        raise ValueError("Class interpolation needs a functional conditional generator G([noise, labels]).") from None
    path = []
    for layer in G.layers:
        try:
            layer_inputs = keras.tree.flatten(layer.input)
        except (AttributeError, ValueError):  # an input layer, or a layer used twice
            continue
        if not any(tensor is current for tensor in layer_inputs):
            continue
        if len(layer_inputs) != 1:
            break
        path.append(layer)
        current = layer.output
        if "float" in str(current.dtype):
            return path
    raise ValueError("Cannot find where G turns the labels into a vector (an Embedding or a one-hot "
                     "encoding fed by the label input alone), so it cannot mix two classes.")


def class_interpolation_images(G, noise, start_label, end_label, ts):
    """Images between two classes with the noise fixed: numpy (len(ts), n, ...).

    The label's code (G's label embedding, or one-hot vector) moves in a straight line
    from ``start_label``'s (t = 0) to ``end_label``'s (t = 1) while ``noise`` (n, noise_size)
    stays the same, so the style stays and the class morphs. G is not changed: a copy
    that shares its layers, with the label's code layer replaced by a table of the mixed
    codes, draws the frames.
    """
    import keras
    import tensorflow as tf

    path = _label_code_path(G)
    codes = tf.constant([start_label, end_label], tf.int32)
    for layer in path:
        codes = layer(codes)
    codes = np.asarray(codes, dtype=np.float32).reshape(2, -1)
    ts = np.asarray(ts, dtype=np.float32).reshape(-1)
    table = keras.layers.Embedding(len(ts), codes.shape[1])
    code_layer = path[-1]
    if tuple(table.compute_output_shape(code_layer.input.shape)) != tuple(code_layer.output.shape):
        raise ValueError(f"G's label code has shape {tuple(code_layer.output.shape)}: class interpolation "
                         "needs one vector per label.")
    table.build((None,))
    table.set_weights([(1.0 - ts[:, None]) * codes[0] + ts[:, None] * codes[1]])
    mixer = keras.models.clone_model(G, clone_function=lambda layer: table if layer is code_layer else layer)
    noise = tf.constant(np.atleast_2d(np.asarray(noise, dtype=np.float32)))
    frames = [mixer([noise, tf.fill((noise.shape[0],), index)], training=False) for index in range(len(ts))]
    return np.stack([np.asarray(frame, np.float32) for frame in frames])


class ConditionalExplorer(_View):
    """Two sliders, the class and the noise, and what a conditional generator draws from them.

    ``digit`` picks the label, ``noise`` the seed of one noise vector (``sample_noise``);
    ``image`` shows G([noise, digit]) enlarged, ``row`` the same noise drawn as every class.
    """

    def __init__(self, G, *, digit=0, seed=0, max_seed=99):
        import ipywidgets as w

        self.G = G
        self.noise_size, self.num_classes = _conditional_parts(G)
        self.label = w.HTML()
        self.image = w.Image(value=b"", format="png", layout=w.Layout(width="140px"))
        self.row = w.Image(value=b"", format="png")
        self.digit = w.IntSlider(value=digit, min=0, max=self.num_classes - 1, description="class")
        self.noise = w.IntSlider(value=seed, min=0, max=max_seed, description="noise")
        for slider in (self.digit, self.noise):
            slider.observe(self._show, names="value")
        self._show()
        self.widget = w.VBox([self.label, w.HBox([self.image, self.row]), self.digit, self.noise])

    def _show(self, change=None):
        from gan_helpers.ops import sample_noise

        z = np.asarray(sample_noise(1, self.noise_size, seed=int(self.noise.value)))
        every_class = same_noise_images(self.G, z)[0]
        self.image.value = grid_png(every_class[self.digit.value: self.digit.value + 1], width=140)
        self.row.value = grid_png(every_class, ncols=self.num_classes, width=GRID_DISPLAY_WIDTH * 2)
        self.label.value = (f"<b>G([noise #{self.noise.value}, {self.digit.value}])</b>; right: the same noise, "
                            f"every class 0 to {self.num_classes - 1}")


def conditional_explorer(G, *, digit=0, seed=0, max_seed=99, static_rows=4):
    """Pick a class and a noise vector and see what a conditional generator draws.

    A notebook with widgets shows :class:`ConditionalExplorer` (a slider for the class,
    one for the noise). Without widgets, a grid: ``static_rows`` noise vectors (seeds
    ``seed``, ``seed + 1``, ...), one per row, each drawn as every class.
    """
    if widget_frontend():
        show_widget(ConditionalExplorer(G, digit=digit, seed=seed, max_seed=max_seed).widget)
        return
    from gan_helpers.ops import sample_noise

    noise_size, num_classes = _conditional_parts(G)
    noise = np.concatenate([np.asarray(sample_noise(1, noise_size, seed=seed + row)) for row in range(static_rows)])
    images = same_noise_images(G, noise)
    viz.show_images(images.reshape((-1,) + images.shape[2:]), ncols=num_classes,
                    title=f"noise #{seed} to #{seed + static_rows - 1} (rows), classes 0 to {num_classes - 1} (columns)")
