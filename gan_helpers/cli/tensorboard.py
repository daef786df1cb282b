"""TensorBoard logs of a training run: losses, speed and sample grids, as a ``GanCallback``.

    run_a_gan(..., callbacks=[TensorBoardCallback("runs/my_run/logs")])
    tensorboard --logdir runs/my_run/logs        # (pip install tensorboard)

The event files are written with TensorFlow alone: ``tf.summary.scalar`` and
``tf.summary.image`` need the ``tensorboard`` package installed, so this module
writes the same records through ``tf.summary.write`` with the metadata that
TensorBoard's scalar and image dashboards look for. Only *viewing* the logs needs
TensorBoard.

Tags: ``loss/discriminator``, ``loss/generator`` and ``speed/images_per_sec``
every ``print_every`` steps; ``epoch/loss_discriminator`` and
``epoch/loss_generator`` (epoch means) at every epoch end; ``samples``, a grid of
the generator's images from fixed noise, whenever ``run_a_gan`` draws them.
"""

from pathlib import Path

import numpy as np
import tensorflow as tf

from gan_helpers.training import GanCallback
from gan_helpers.viz import image_grid


def _metadata(plugin_name):
    metadata = tf.compat.v1.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin_name
    # content stays empty: version 0 of the plugins' data, as TensorBoard writes it
    return metadata


SCALAR_METADATA = _metadata("scalars")
IMAGE_METADATA = _metadata("images")
# run_a_gan's logs -> tags; the penalty (WGAN-GP's, part of the discriminator's loss) only where there is one.
LOG_TAGS = {"d_loss": "loss/discriminator", "g_loss": "loss/generator", "penalty": "loss/penalty",
            "images_per_sec": "speed/images_per_sec"}


def write_scalar(tag, value, step):
    """A scalar record for TensorBoard's scalars dashboard, in the default writer."""
    return tf.summary.write(tag, tf.constant(float(value), tf.float32), step=int(step), metadata=SCALAR_METADATA)


def write_image(tag, picture, step):
    """One picture (uint8 (H, W) or (H, W, 3)) for TensorBoard's images dashboard, as PNG."""
    picture = np.asarray(picture, dtype=np.uint8)
    if picture.ndim == 2:
        picture = picture[..., None]
    height, width = picture.shape[:2]
    encoded = tf.io.encode_png(picture)
    tensor = tf.stack([tf.as_string(width), tf.as_string(height), encoded])
    return tf.summary.write(tag, tensor, step=int(step), metadata=IMAGE_METADATA)


class TensorBoardCallback(GanCallback):
    """Writes losses, speed and sample grids of a ``run_a_gan`` call into ``log_dir``.

    A resumed run appends new event files to the same folder; TensorBoard shows
    them as one run. Nothing is written on the screen.
    """

    def __init__(self, log_dir):
        self.log_dir = Path(log_dir)
        self.writer = None

    def on_train_begin(self, run):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.writer = tf.summary.create_file_writer(str(self.log_dir))

    def _write(self, step, scalars, picture=None):
        """Scalars ({tag: value}) and a picture of samples at ``step``; nothing before training begins."""
        if self.writer is None:
            return
        with self.writer.as_default():
            for tag, value in scalars.items():
                write_scalar(tag, value, step)
            if picture is not None:
                write_image("samples", picture, step)

    def on_log(self, step, logs):
        self._write(step, {tag: logs[key] for key, tag in LOG_TAGS.items() if key in logs})

    def on_samples(self, step, images):
        self._write(step, {}, image_grid(images, value_range=(-1.0, 1.0)))

    def on_epoch_end(self, epoch, logs):
        self._write(logs["step"], {"epoch/loss_discriminator": logs["d_loss"],
                                   "epoch/loss_generator": logs["g_loss"]})
        self.writer.flush()

    def on_train_end(self, history):
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
            self.writer = None

