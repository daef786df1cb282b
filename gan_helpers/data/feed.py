"""The data a GAN trains on, as one ``tf.data`` pipeline of steps for ``fit``: real images, labels, noise.

``GanFeed`` turns what ``run_a_gan`` is given (None for MNIST, an array of images, a pair
of arrays ``(images, labels)``, or a ``tf.data.Dataset`` of image batches or of
``(images, labels)`` batches) into steps. With ``d_steps=1`` a step is a dict
``{"real", "z_d", "z_g"}``: ``real`` float32 in [-1, 1] of shape (B, *data_shape),
``z_d`` and ``z_g`` uniform noise in [-1, 1] of shape (B, noise_size); a conditional
GAN's adds ``"labels"``, int32 (B,). With ``d_steps`` > 1 a step takes ``d_steps``
consecutive batches, stacked along axis 1: ``real`` (B, d_steps, ...), ``z_d``
(B, d_steps, noise_size), ``labels`` (B, d_steps), and ``"valid"`` (B, d_steps), int32 1
where an image is, 0 where a batch is shorter than B (the end of an epoch, which may also leave a step fewer
batches: those are all 0; int32, not bool, so that ``fit`` can average a batch over replicas). Every tensor of a step shares its first dimension, so a
``tf.distribute`` strategy hands each replica its slice of every batch.

Arrays (MNIST included) are shuffled each epoch in an order that depends on ``(seed,
epoch)`` only, and batched by gathering rows. The noise is drawn statelessly from
``(seed, epoch, step)``. So a run resumed in a fresh kernel sees the same data and noise
as an uninterrupted one. ``steps(start_epoch, num_epochs, skip)`` is every remaining
epoch in one pipeline (``fit`` reads ``steps_per_epoch`` of them per epoch); a resumed
epoch's first ``skip`` steps, already trained, are empty steps (no images).
"""

import math

import numpy as np
import tensorflow as tf

from gan_helpers import settings
from gan_helpers.data.mnist import load_mnist
from gan_helpers.ops import scale_pixels


# The pipeline's functions hold no Python control flow on tensors: traced as they are, without AutoGraph.
_plain = tf.autograph.experimental.do_not_convert


class GanFeed:
    """The steps of a GAN's training (see the module docstring), checked once when made.

    ``steps_per_epoch`` is always known: a ``tf.data.Dataset`` whose length TensorFlow
    cannot tell is counted once. ``largest_label`` is the largest label of labels given
    as an array (None otherwise), for telling how many classes a conditional GAN has.
    """

    def __init__(self, dataset, data_shape, batch_size, noise_size, seed, *, d_steps=1, conditional=False):
        self.data_shape = tuple(data_shape)
        self.batch_size, self.noise_size, self.seed = batch_size, noise_size, seed
        self.d_steps, self.conditional = d_steps, conditional
        self.largest_label = None
        self._epoch = self._make_source(dataset)
        self.steps_per_epoch = self._count_steps(self._epoch(tf.constant(0, tf.int64)))

    def steps(self, start_epoch, num_epochs, skip=0):
        """Every step of epochs ``start_epoch`` .. ``num_epochs - 1``, the first epoch's first ``skip`` empty."""
        first = self._with_noise(tf.constant(start_epoch, tf.int64), skip)
        if skip:
            first = self._empty_steps(first.element_spec, skip).concatenate(first)
        later = tf.data.Dataset.range(start_epoch + 1, num_epochs).flat_map(_plain(self._with_noise))
        return first.concatenate(later).prefetch(tf.data.AUTOTUNE)

    # ------------------------------------------------------------ the source: an epoch's steps as dicts

    def _make_source(self, dataset):
        """``epoch -> dataset`` of an epoch's steps ``{"real", ["labels"], ["valid"]}`` (before the noise)."""
        if dataset is None:
            if math.prod(self.data_shape) != 28 * 28:
                raise ValueError(f"D takes images of shape {self.data_shape}, but MNIST images are 28x28. "
                                 "Pass your images with dataset=...")
            (images, labels), _ = load_mnist()  # uint8 (60000, 28, 28), rescaled below
            count = settings.quick_limit(len(images))
            dataset = (images[:count], labels[:count]) if self.conditional else images[:count]
        if isinstance(dataset, tf.data.Dataset):
            batches = self._named_parts(dataset)
            if self._is_unbatched(batches):
                batches = batches.batch(self.batch_size)
            batches = batches.map(_plain(self._as_model_input))
            self._check_first(batches)
            steps = self._grouped(batches)
            return lambda epoch: steps
        images, labels = self._arrays(dataset)
        count = int(images.shape[0])
        self._check_first(tf.data.Dataset.from_tensors(self._as_model_input(self._gathered(
            images, labels, tf.range(min(count, self.batch_size))))))

        def gather(step):
            rest = {name: value for name, value in step.items() if name != "index"}
            return self._as_model_input(self._gathered(images, labels, step["index"], **rest))

        def order(epoch):  # from (seed, epoch) only, not TensorFlow's global seed: the same in a fresh kernel
            return np.random.default_rng([self.seed, int(epoch)]).permutation(count)

        def shuffled(epoch):
            indices = tf.py_function(order, [epoch], tf.int64)
            indices.set_shape([count])
            batches = tf.data.Dataset.from_tensor_slices(indices).batch(self.batch_size)
            return self._grouped(batches.map(_plain(lambda index: {"index": index}))).map(_plain(gather))

        return shuffled

    @staticmethod
    def _gathered(images, labels, index, **rest):
        """``{"real", ["labels"]}`` at ``index`` (any shape; -1 marks padding, read as row 0), plus ``rest``."""
        safe = tf.maximum(index, 0)
        parts = {"real": tf.gather(images, safe), **rest}
        if labels is not None:
            parts["labels"] = tf.gather(labels, safe)
        return parts

    def _arrays(self, dataset):
        """``(images, labels)`` tensors from an array or a pair of arrays; labels None unless conditional."""
        labels = None
        if isinstance(dataset, (tuple, list)) and len(dataset) == 2 and all(
                isinstance(part, (np.ndarray, tf.Tensor)) for part in dataset):
            dataset, labels = dataset
        if not isinstance(dataset, (np.ndarray, tf.Tensor)):
            raise TypeError("dataset must be None (MNIST), a tf.data.Dataset of image batches, an array of images "
                            f"(N, ...) or a pair of arrays (images, labels); got {type(dataset).__name__}.")
        count = int(dataset.shape[0])
        if count == 0:
            raise ValueError("dataset holds no images.")
        if not self.conditional:
            return tf.convert_to_tensor(dataset), None
        if labels is None:
            raise ValueError("The models are conditional (they take [noise, labels] and [images, labels]), so "
                             "run_a_gan needs the labels too: dataset=(images, labels), or a tf.data.Dataset of "
                             "(images, labels) batches.")
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu" or labels.size != count:
            raise ValueError(f"dataset's labels must be integers, one per image ({count}); got {labels.dtype.name} "
                             f"of shape {labels.shape}.")
        labels = labels.reshape(count).astype(np.int32)
        if labels.min() < 0:
            raise ValueError(f"dataset's labels must be class numbers 0, 1, ...; the smallest is {labels.min()}.")
        self.largest_label = int(labels.max())
        return tf.convert_to_tensor(dataset), tf.convert_to_tensor(labels)

    def _named_parts(self, dataset):
        """A dataset's elements as ``{"real", ["labels"]}``: images alone, or images and labels when conditional."""
        spec = dataset.element_spec
        if isinstance(spec, dict):
            raise ValueError("dataset yields dictionaries; give run_a_gan a dataset of image batches (or of "
                             "(images, labels) batches), e.g. dataset.map(lambda d: (d['image'], d['label'])).")
        if isinstance(spec, (tuple, list)):
            if self.conditional:
                if len(spec) < 2:
                    raise ValueError("The models are conditional, so the dataset must yield (images, labels).")
                if not spec[1].dtype.is_integer:
                    raise ValueError(f"dataset's labels are {spec[1].dtype.name}; they must be integers (class numbers).")
                return dataset.map(_plain(lambda *parts: {"real": parts[0], "labels": parts[1]}))
            return dataset.map(_plain(lambda *parts: {"real": parts[0]}))
        if self.conditional:
            raise ValueError("The models are conditional (they take [noise, labels] and [images, labels]), so the "
                             "dataset must yield (images, labels), not images alone.")
        return dataset.map(_plain(lambda images: {"real": images}))

    def _is_unbatched(self, batches):
        shape = batches.element_spec["real"].shape
        return shape.rank == len(self.data_shape) or math.prod(self.data_shape) == shape.num_elements()

    def _as_model_input(self, parts):
        """``parts`` with images cast to float32 in [-1, 1] (uint8 0..255 is rescaled) and shaped as D's input,
        labels as int32; any leading axes (batch, and critic update with ``d_steps``) are kept."""
        images = parts["real"]
        if not (images.dtype.is_floating or images.dtype == tf.uint8):
            raise ValueError(f"dataset holds {images.dtype.name} images; give floats in [-1, 1] (or uint8 in 0..255).")
        leading = 2 if "valid" in parts else 1
        per_image = images.shape[leading:]
        if per_image.num_elements() is not None and per_image.num_elements() != math.prod(self.data_shape):
            raise ValueError(f"dataset images have shape {tuple(per_image)} but D takes {self.data_shape}.")
        images = scale_pixels(images) if images.dtype == tf.uint8 else tf.cast(images, tf.float32)
        parts = {**parts, "real": tf.reshape(images, tf.concat([tf.shape(images)[:leading], self.data_shape], 0))}
        if "labels" in parts:
            parts["labels"] = tf.reshape(tf.cast(parts["labels"], tf.int32), tf.shape(images)[:leading])
        return parts

    @staticmethod
    def _check_first(batches):
        first = next(iter(batches.take(1)), None)
        if first is None or tf.size(first["real"]) == 0:
            raise ValueError("dataset holds no images.")
        low, high = float(tf.reduce_min(first["real"])), float(tf.reduce_max(first["real"]))
        if low < -1.01 or high > 1.01:
            raise ValueError(f"dataset images range over [{low:.3g}, {high:.3g}]; a tanh generator makes [-1, 1]. "
                             "Scale them: images / 127.5 - 1 for 0..255, or ops.preprocess_img for [0, 1].")
        if low >= 0.0 and high > 0.5:
            print(f"Note: dataset images range over [{low:.3g}, {high:.3g}], but the generator's tanh makes "
                  "[-1, 1]; use ops.preprocess_img to map [0, 1] to [-1, 1].")
        if "labels" in first and tf.size(first["labels"]) and int(tf.reduce_min(first["labels"])) < 0:
            raise ValueError("dataset's labels must be class numbers 0, 1, ...; its first batch has a negative one.")

    def _grouped(self, batches):
        """With ``d_steps`` > 1, every ``d_steps`` consecutive batches as one step, stacked along axis 1.

        A batch shorter than the first is padded (``"valid"`` 0 there, index -1 for
        indices), and so is a missing batch at the end of an epoch.
        """
        d_steps = self.d_steps
        if d_steps == 1:
            return batches

        def rows(parts):
            return tf.shape(parts["index"] if "index" in parts else parts["real"])

        def stack(group):
            size = rows(group)[:2]  # (batches, longest batch)
            missing = d_steps - size[0]
            valid = tf.pad(tf.sequence_mask(group.pop("rows"), size[1], dtype=tf.int32), [[0, missing], [0, 0]])
            stacked = {"valid": tf.transpose(valid)}
            for name, value in group.items():
                fill = -1 if name == "index" else 0
                padding = [[0, missing]] + [[0, 0]] * (value.shape.rank - 1)
                value = tf.pad(value, padding, constant_values=tf.cast(fill, value.dtype))
                stacked[name] = tf.transpose(value, [1, 0, *range(2, value.shape.rank)])
            return stacked

        batches = batches.map(_plain(lambda parts: {**parts, "rows": rows(parts)[0]}))
        padding = {name: tf.constant(-1 if name == "index" else 0, spec.dtype)
                   for name, spec in batches.element_spec.items()}
        return batches.padded_batch(d_steps, padding_values=padding).map(_plain(stack))

    @staticmethod
    def _count_steps(steps):
        count = int(steps.cardinality())
        if count == tf.data.INFINITE_CARDINALITY:
            raise ValueError("dataset repeats forever; give one epoch of data (no .repeat()) and set num_epochs.")
        if count < 0:  # a length TensorFlow cannot tell (e.g. after filter): count once
            count = int(steps.reduce(0, lambda counted, _: counted + 1))
        if count == 0:
            raise ValueError("dataset holds no images.")
        return count

    # ------------------------------------------------------------ noise, and the steps a resumed epoch skips

    def _with_noise(self, epoch, skip=0):
        """Epoch ``epoch``'s steps (a tensor), noise added, without the first ``skip``."""
        seed = tf.constant(self.seed, tf.int64)
        noise_size, d_steps = self.noise_size, self.d_steps

        def add_noise(index, step):
            batch = tf.shape(step["real"])[0]
            # (B, noise_size), or (B, d_steps, noise_size): one noise vector per real image
            d_shape = (batch, noise_size) if "valid" not in step else (batch, d_steps, noise_size)
            counter = epoch * (1 << 24) + index
            z_d = tf.random.stateless_uniform(d_shape, seed=tf.stack([seed, 2 * counter]), minval=-1.0, maxval=1.0)
            z_g = tf.random.stateless_uniform((batch, noise_size), seed=tf.stack([seed, 2 * counter + 1]),
                                              minval=-1.0, maxval=1.0)
            return {**step, "z_d": z_d, "z_g": z_g}

        return self._epoch(epoch).enumerate().skip(skip).map(_plain(add_noise), num_parallel_calls=tf.data.AUTOTUNE)

    @staticmethod
    def _empty_steps(spec, count):
        """``count`` steps of the shape of ``spec`` with no images in them."""
        empty = {name: tf.zeros([0, *part.shape[1:]], part.dtype) for name, part in spec.items()}
        return tf.data.Dataset.from_tensors(empty).repeat(count)
