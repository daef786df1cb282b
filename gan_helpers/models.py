"""The course's networks, as plain ``keras.Model`` builders.

The MLP GAN on flattened MNIST (Goodfellow et al., 2014, in the form of the
CS231n assignment): images are vectors of 784 values in [-1, 1], noise vectors
are uniform in [-1, 1]. The DCGANs for MNIST, CIFAR-10 and the dogs. The
conditional GANs, whose models take two inputs, ``G([noise, labels])`` and
``D([images, labels])``, labels int32 of shape (N,). Every discriminator returns
*logits* (unbounded scores); the losses apply the sigmoid themselves, stably.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

# Length of the generator's noise vector z throughout the course.
NOISE_DIM = 96

# Flattened MNIST image: 28 * 28 values in [-1, 1].
IMAGE_SIZE = 784

# Slope of the leaky ReLU for negative inputs. Keras 3's LeakyReLU layer
# defaults to 0.3, so the course always passes this explicitly.
LEAKY_SLOPE = 0.01


def discriminator():
    """The MLP discriminator D(x): is this flattened image real or generated?

    784 -> Dense 256 -> leaky ReLU (0.01) -> Dense 256 -> leaky ReLU (0.01) -> Dense 1.

    Input: images, shape (N, 784), float32 in [-1, 1].
    Output: logits, shape (N, 1): large positive means "real". No sigmoid here.
    Parameters: 784*256+256 + 256*256+256 + 256+1 = 267,009.
    """
    return keras.Sequential(
        [
            keras.Input(shape=(IMAGE_SIZE,), name="image"),
            layers.Dense(256, name="dense_1"),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="leaky_relu_1"),
            layers.Dense(256, name="dense_2"),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="leaky_relu_2"),
            layers.Dense(1, name="logits"),
        ],
        name="discriminator",
    )


def generator(noise_dim=NOISE_DIM):
    """The MLP generator G(z): turn a noise vector into a flattened image.

    noise_dim -> Dense 1024 ReLU -> Dense 1024 ReLU -> Dense 784 tanh.

    Input: noise, shape (N, noise_dim), float32 (uniform in [-1, 1] in the course).
    Output: images, shape (N, 784), float32 in [-1, 1] (tanh matches the
    range that ``preprocess_img`` maps real images to).
    Parameters for noise_dim=96: 96*1024+1024 + 1024*1024+1024 + 1024*784+784 = 1,952,528.
    """
    return keras.Sequential(
        [
            keras.Input(shape=(noise_dim,), name="noise"),
            layers.Dense(1024, activation="relu", name="dense_1"),
            layers.Dense(1024, activation="relu", name="dense_2"),
            layers.Dense(IMAGE_SIZE, activation="tanh", name="image"),
        ],
        name="generator",
    )


# ---------------------------------------------------------------------------
# The DCGANs (Radford et al., 2016): MNIST 28x28 and dogs 64x64.
# ---------------------------------------------------------------------------

# Slope of the DCGAN discriminator's leaky ReLU (Radford et al., 2016, use 0.2).
DC_LEAKY_SLOPE = 0.2


def dc_discriminator(spectral_norm=False):
    """The DCGAN discriminator for MNIST: strided convolutions, no pooling, logits out.

    (N, 28, 28, 1) -> Conv 32 4x4 stride 2 -> leaky ReLU 0.2     (N, 14, 14, 32)
                   -> Conv 64 4x4 stride 2 -> leaky ReLU 0.2     (N, 7, 7, 64)
                   -> Flatten -> Dense 1                         (N, 1) logits

    Input: images (N, 28, 28, 1), float32 in [-1, 1]. Output: logits (N, 1), no sigmoid.
    Parameters: (4*4*1*32+32) + (4*4*32*64+64) + (7*7*64+1) = 544 + 32,832 + 3,137 = 36,513.
    Chosen for a CPU: 4x4 kernels and 32-64 channels cost a small fraction of the
    TensorFlow tutorial's 5x5, 64-128 discriminator (see benchmarks/bench_dcgan.py).
    ``spectral_norm=True``: every convolution and the Dense layer in spectral normalisation
    (see :func:`spectral_normalized`).
    """
    return _strided_discriminator((28, 28, 1), (32, 64), name="dc_discriminator", spectral_norm=spectral_norm)


def dc_generator(noise_dim=NOISE_DIM):
    """The DCGAN generator for MNIST: project, then two stride-2 transposed convolutions.

    (N, noise_dim) -> Dense 7*7*64 -> batch norm -> ReLU -> reshape  (N, 7, 7, 64)
                   -> ConvTranspose 32 4x4 stride 2 -> batch norm -> ReLU  (N, 14, 14, 32)
                   -> ConvTranspose 1 4x4 stride 2 -> tanh                 (N, 28, 28, 1)

    Input: noise (N, noise_dim), float32. Output: images (N, 28, 28, 1) in [-1, 1].
    Parameters for noise_dim=96: (96*3136+3136) + 4*3136 [batch norm] + (4*4*64*32+32)
    + 4*32 [batch norm] + (4*4*32*1+1) = 304,192 + 12,544 + 32,800 + 128 + 513 = 350,177
    (of which 6,336 are batch-norm moving statistics, not trained).
    """
    return keras.Sequential(
        [
            keras.Input(shape=(noise_dim,), name="noise"),
            layers.Dense(7 * 7 * 64, name="project"),
            layers.BatchNormalization(name="batch_norm_1"),
            layers.ReLU(name="relu_1"),
            layers.Reshape((7, 7, 64), name="reshape"),
            layers.Conv2DTranspose(32, 4, strides=2, padding="same", name="deconv_1"),
            layers.BatchNormalization(name="batch_norm_2"),
            layers.ReLU(name="relu_2"),
            layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", name="image"),
        ],
        name="dc_generator",
    )


def critic(layer_norm=False):
    """The WGAN-GP critic for MNIST: the DCGAN discriminator's layers, scores out, nothing that mixes examples.

    (N, 28, 28, 1) -> Conv 32 4x4 stride 2 -> leaky ReLU 0.2            (N, 14, 14, 32)
                   -> Conv 64 4x4 stride 2 [-> layer norm] -> leaky ReLU 0.2   (N, 7, 7, 64)
                   -> Flatten -> Dense 1                                (N, 1) scores

    A critic's score is a real number, not the logit of a probability: the Wasserstein
    losses use it as it is. The gradient penalty asks for each example's own gradient,
    so the critic must treat each example on its own: no batch normalisation, which
    would make one image's score depend on the rest of its batch (Gulrajani et al., 2017,
    Sec. 4). ``layer_norm=True`` adds the normalisation they recommend instead, over each
    example's (7, 7, 64) features; the course's critic has none, as their own MNIST code
    (and as ``dc_discriminator``). Without it a step is about 13% faster on a CPU; with it,
    one 300-s run each ended at a lower FID (``benchmarks/results/wgan.md``, notebook 11).

    Input: images (N, 28, 28, 1), float32 in [-1, 1]. Output: scores (N, 1).
    Parameters: 36,513 as ``dc_discriminator``; with layer norm 2 * 7 * 7 * 64 = 6,272 more.
    """
    return _strided_discriminator((28, 28, 1), (32, 64), name="critic", layer_norm=layer_norm, output_name="score")


# Side of the dog images: 64x64 RGB in [-1, 1].
DOG_IMAGE_SIZE = 64


def dog_discriminator(width=32, spectral_norm=False, channels=3):
    """The DCGAN discriminator for 64x64 colour images (dogs): four stride-2 convolutions.

    (N, 64, 64, 3) -> Conv width   4x4 s2 -> leaky ReLU 0.2   (N, 32, 32, width)
                   -> Conv 2*width 4x4 s2 -> leaky ReLU 0.2   (N, 16, 16, 2*width)
                   -> Conv 4*width 4x4 s2 -> leaky ReLU 0.2   (N, 8, 8, 4*width)
                   -> Conv 8*width 4x4 s2 -> leaky ReLU 0.2   (N, 4, 4, 8*width)
                   -> Flatten -> Dense 1                      (N, 1) logits

    Input: images (N, 64, 64, 3), float32 in [-1, 1]. Output: logits (N, 1), no sigmoid.
    ``width`` sets the channels (the DCGAN paper's 64 is four times the compute of
    the default 32, which keeps an epoch of the dogs within minutes on a laptop CPU).
    Parameters for width=32: 1,568 + 32,832 + 131,200 + 524,544 + 4,097 = 694,241.
    ``spectral_norm=True``: every convolution and the Dense layer in spectral normalisation
    (see :func:`spectral_normalized`). ``channels=1`` takes greyscale images (N, 64, 64, 1).
    """
    return _strided_discriminator((DOG_IMAGE_SIZE, DOG_IMAGE_SIZE, channels), (width, 2 * width, 4 * width, 8 * width),
                                  name="dog_discriminator", spectral_norm=spectral_norm)


def dog_generator(noise_dim=NOISE_DIM, width=32, channels=3):
    """The DCGAN generator for 64x64 colour images (dogs): project, then four stride-2 up-convolutions.

    (N, noise_dim) -> Dense 4*4*8*width -> batch norm -> ReLU -> reshape   (N, 4, 4, 8*width)
                   -> ConvTranspose 4*width 4x4 s2 -> batch norm -> ReLU   (N, 8, 8, 4*width)
                   -> ConvTranspose 2*width 4x4 s2 -> batch norm -> ReLU   (N, 16, 16, 2*width)
                   -> ConvTranspose width   4x4 s2 -> batch norm -> ReLU   (N, 32, 32, width)
                   -> ConvTranspose 3       4x4 s2 -> tanh                 (N, 64, 64, 3)

    Input: noise (N, noise_dim), float32. Output: images (N, 64, 64, 3) in [-1, 1].
    Parameters for noise_dim=96, width=32: 397,312 + 16,384 [batch norm] + 524,416 + 512
    + 131,136 + 256 + 32,800 + 128 + 1,539 = 1,104,483 (8,640 of them batch-norm moving statistics).
    ``channels=1`` makes greyscale images (N, 64, 64, 1).
    """
    return _upconv_generator(noise_dim, (8 * width, 4 * width, 2 * width, width), out_channels=channels,
                             name="dog_generator")


# ---------------------------------------------------------------------------
# The DCGAN for CIFAR-10: 32x32 colour images.
# ---------------------------------------------------------------------------

# Side of the CIFAR-10 images: 32x32 RGB in [-1, 1].
CIFAR_IMAGE_SIZE = 32


def cifar_discriminator(width=32, spectral_norm=False, channels=3):
    """The DCGAN discriminator for 32x32 colour images (CIFAR-10): three stride-2 convolutions.

    (N, 32, 32, 3) -> Conv width   4x4 s2 -> leaky ReLU 0.2   (N, 16, 16, width)
                   -> Conv 2*width 4x4 s2 -> leaky ReLU 0.2   (N, 8, 8, 2*width)
                   -> Conv 4*width 4x4 s2 -> leaky ReLU 0.2   (N, 4, 4, 4*width)
                   -> Flatten -> Dense 1                      (N, 1) logits

    Input: images (N, 32, 32, 3), float32 in [-1, 1]. Output: logits (N, 1), no sigmoid.
    Strided convolutions instead of pooling, leaky ReLU 0.2, no batch norm (as in the
    course's other discriminators). ``width=32`` keeps it small enough to train on a CPU
    (the DCGAN paper's 64 or 128 cost four to sixteen times as much).
    Parameters for width=32: 1,568 + 32,832 + 131,200 + 2,049 = 167,649.
    ``spectral_norm=True``: every convolution and the Dense layer in spectral normalisation
    (see :func:`spectral_normalized`). ``channels=1`` takes greyscale images (N, 32, 32, 1).
    """
    return _strided_discriminator((CIFAR_IMAGE_SIZE, CIFAR_IMAGE_SIZE, channels), (width, 2 * width, 4 * width),
                                  name="cifar_discriminator", spectral_norm=spectral_norm)


def cifar_generator(noise_dim=NOISE_DIM, width=32, channels=3):
    """The DCGAN generator for 32x32 colour images (CIFAR-10): project, then three up-convolutions.

    (N, noise_dim) -> Dense 4*4*4*width -> batch norm -> ReLU -> reshape   (N, 4, 4, 4*width)
                   -> ConvTranspose 2*width 4x4 s2 -> batch norm -> ReLU   (N, 8, 8, 2*width)
                   -> ConvTranspose width   4x4 s2 -> batch norm -> ReLU   (N, 16, 16, width)
                   -> ConvTranspose 3       4x4 s2 -> tanh                 (N, 32, 32, 3)

    Input: noise (N, noise_dim), float32. Output: images (N, 32, 32, 3) in [-1, 1].
    Parameters for noise_dim=96, width=32: 198,656 + 8,192 [batch norm] + 131,136 + 256
    + 32,800 + 128 + 1,539 = 372,707 (4,288 of them batch-norm moving statistics).
    ``channels=1`` makes greyscale images (N, 32, 32, 1).
    """
    return _upconv_generator(noise_dim, (4 * width, 2 * width, width), out_channels=channels, name="cifar_generator")


def spectral_normalized(layer):
    """``layer`` (a Conv2D or Dense) wrapped in ``keras.layers.SpectralNormalization`` (Miyato et al., 2018).

    Each call with ``training=True`` (as in ``run_a_gan``'s step) runs one step of power iteration
    to estimate the kernel's largest singular value sigma and *writes* kernel / sigma back into
    the layer's kernel, which the layer then uses; the optimizer's next step updates that
    normalised kernel. No gradient flows through sigma (the paper's gradient has that term), and
    calls with ``training=False`` use the kernel as it was last written. The wrapper is named
    ``spectral_norm_<the layer's name>``.
    """
    return layers.SpectralNormalization(layer, power_iterations=1, name=f"spectral_norm_{layer.name}")


def _strided_discriminator(image_shape, channels, name, spectral_norm=False, layer_norm=False, output_name="logits"):
    """A DCGAN discriminator: one 4x4 stride-2 convolution + leaky ReLU 0.2 per entry of ``channels``.

    Each convolution halves the side of the (N, H, W, C) images; then Flatten and
    Dense 1 give (N, 1) outputs. Layer names ``conv_1``, ``leaky_relu_1``, ...
    ``spectral_norm``: wrap every Conv2D and the Dense in :func:`spectral_normalized`.
    ``layer_norm``: a ``LayerNormalization`` over each example's features after every
    convolution but the first (``layer_norm_2``, ...), where DCGANs put batch norm.
    """
    wrap = spectral_normalized if spectral_norm else (lambda layer: layer)
    convs = []
    for index, filters in enumerate(channels, start=1):
        convs.append(wrap(layers.Conv2D(filters, 4, strides=2, padding="same", name=f"conv_{index}")))
        if layer_norm and index > 1:
            convs.append(layers.LayerNormalization(axis=[1, 2, 3], name=f"layer_norm_{index}"))
        convs.append(layers.LeakyReLU(negative_slope=DC_LEAKY_SLOPE, name=f"leaky_relu_{index}"))
    return keras.Sequential(
        [keras.Input(shape=image_shape, name="image")]
        + convs
        + [layers.Flatten(name="flatten"), wrap(layers.Dense(1, name=output_name))],
        name=name,
    )


def _upconv_generator(noise_dim, channels, out_channels, name):
    """A DCGAN generator from 4x4: project the noise to (N, 4, 4, channels[0]), then double the side per stage.

    Each later entry of ``channels`` is a 4x4 stride-2 transposed convolution +
    batch norm + ReLU; a last one to ``out_channels`` with tanh gives images in
    [-1, 1] of side 4 * 2**len(channels). Layer names as in :func:`dc_generator`.
    """
    stages = []
    for index, filters in enumerate(channels[1:], start=1):
        stages += [
            layers.Conv2DTranspose(filters, 4, strides=2, padding="same", name=f"deconv_{index}"),
            layers.BatchNormalization(name=f"batch_norm_{index + 1}"),
            layers.ReLU(name=f"relu_{index + 1}"),
        ]
    return keras.Sequential(
        [
            keras.Input(shape=(noise_dim,), name="noise"),
            layers.Dense(4 * 4 * channels[0], name="project"),
            layers.BatchNormalization(name="batch_norm_1"),
            layers.ReLU(name="relu_1"),
            layers.Reshape((4, 4, channels[0]), name="reshape"),
        ]
        + stages
        + [layers.Conv2DTranspose(out_channels, 4, strides=2, padding="same", activation="tanh", name="image")],
        name=name,
    )


# ---------------------------------------------------------------------------
# Conditional GANs (Mirza & Osindero, 2014): both networks are told the class.
# ---------------------------------------------------------------------------

# Classes of MNIST (digits) and of CIFAR-10.
NUM_CLASSES = 10

# Length of the learned label vector that a conditional generator joins to its noise.
LABEL_EMBEDDING_DIM = 50


def label_input():
    """The label input of a conditional model: class indices, int32, shape (N,)."""
    return keras.Input(shape=(), dtype="int32", name="label")


def label_classes(model):
    """How many classes a conditional model takes, or None when it cannot tell.

    The size of the first ``Embedding`` (its ``input_dim``) or one-hot
    ``CategoryEncoding`` (its ``num_tokens``) among the model's own layers: in the
    course's conditional models, the table the labels are looked up in.
    """
    for layer in getattr(model, "layers", ()):
        if isinstance(layer, layers.Embedding):
            return int(layer.input_dim)
        if isinstance(layer, layers.CategoryEncoding):
            return int(layer.num_tokens)
    return None


def conditional_generator(noise_dim=NOISE_DIM, num_classes=NUM_CLASSES):
    """The conditional DCGAN generator for MNIST: G([z, y]) draws digit y in the style z.

    labels (N,) int32 -> Embedding(num_classes, 50)            (N, 50)   the label's learned vector
    [noise (N, noise_dim), that vector] -> Concatenate         (N, noise_dim + 50)
    -> the DCGAN generator of notebook 07 (``dc_generator(noise_dim + 50)``)  (N, 28, 28, 1) tanh

    An ``Embedding`` row is what a one-hot vector times a weight matrix picks out, so this
    is Mirza and Osindero's "one-hot label joined to the noise" with the matrix learned.
    Inputs: ``[noise, labels]``, noise float32 (N, noise_dim), labels int32 (N,) in
    0..num_classes - 1. Output: images (N, 28, 28, 1) in [-1, 1].
    Parameters for noise_dim=96: 500 (embedding) + 146*3136+3136 + 12,544 + 32,800 + 128
    + 513 = 507,477 (6,336 of them batch-norm moving statistics).
    """
    return _conditional_generator(noise_dim, num_classes, lambda size: dc_generator(size),
                                  name="conditional_generator")


def conditional_discriminator(num_classes=NUM_CLASSES):
    """The conditional DCGAN discriminator for MNIST, a projection discriminator (Miyato & Koyama, 2018).

    images (N, 28, 28, 1) -> the convolutions of ``dc_discriminator`` -> Flatten   phi(x): (N, 3136)
    score  = Dense 1 of phi(x)                                psi(phi(x)): is it a real digit?
    match  = <Embedding(num_classes, 3136)(y), phi(x)>         v_y . phi(x): is it digit y?
    logits = score + match                                    (N, 1), no sigmoid

    Inputs: ``[images, labels]``, images float32 (N, 28, 28, 1) in [-1, 1], labels int32
    (N,). Parameters: 544 + 32,832 + 3,137 + 10*3136 = 67,873.
    """
    return _projection_discriminator((28, 28, 1), (32, 64), num_classes, name="conditional_discriminator")


def conditional_cifar_generator(noise_dim=NOISE_DIM, num_classes=NUM_CLASSES, width=32):
    """The conditional generator for 32x32 colour images (CIFAR-10's classes): G([z, y]).

    The label's learned vector (Embedding(num_classes, 50)) joined to the noise, then
    ``cifar_generator(noise_dim + 50, width)``. Inputs ``[noise, labels]``; output
    images (N, 32, 32, 3) in [-1, 1].
    """
    return _conditional_generator(noise_dim, num_classes, lambda size: cifar_generator(size, width=width),
                                  name="conditional_cifar_generator")


def conditional_cifar_discriminator(num_classes=NUM_CLASSES, width=32):
    """The conditional discriminator for 32x32 colour images: the convolutions of
    ``cifar_discriminator(width)``, then a projection head as in :func:`conditional_discriminator`.

    Inputs ``[images (N, 32, 32, 3), labels (N,)]``; output logits (N, 1).
    """
    return _projection_discriminator((CIFAR_IMAGE_SIZE, CIFAR_IMAGE_SIZE, 3), (width, 2 * width, 4 * width),
                                     num_classes, name="conditional_cifar_discriminator")


def _conditional_generator(noise_dim, num_classes, make_body, name):
    """[noise, labels] -> the label's embedding joined to the noise -> ``make_body(noise_dim + 50)``."""
    noise = keras.Input(shape=(noise_dim,), name="noise")
    labels = label_input()
    label_vectors = layers.Embedding(num_classes, LABEL_EMBEDDING_DIM, name="label_embedding")(labels)
    joined = layers.Concatenate(name="noise_and_label")([noise, label_vectors])
    images = make_body(noise_dim + LABEL_EMBEDDING_DIM)(joined)
    return keras.Model([noise, labels], images, name=name)


def _projection_discriminator(image_shape, channels, num_classes, name):
    """Strided convolutions + leaky ReLU 0.2 (as ``_strided_discriminator``), flattened to phi(x);
    logits = Dense 1 of phi(x) + <class embedding of y, phi(x)>."""
    images = keras.Input(shape=image_shape, name="image")
    labels = label_input()
    h = images
    for index, filters in enumerate(channels, start=1):
        h = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"conv_{index}")(h)
        h = layers.LeakyReLU(negative_slope=DC_LEAKY_SLOPE, name=f"leaky_relu_{index}")(h)
    features = layers.Flatten(name="features")(h)
    score = layers.Dense(1, name="score")(features)
    class_vectors = layers.Embedding(num_classes, features.shape[-1], name="class_embedding")(labels)
    match = layers.Dot(axes=1, name="projection")([class_vectors, features])
    logits = layers.Add(name="logits")([score, match])
    return keras.Model([images, labels], logits, name=name)


# ---------------------------------------------------------------------------
# What a generator is: its inputs, and what it draws
# ---------------------------------------------------------------------------


def input_count(model):
    """How many inputs ``model`` takes (None for a subclassed model not built from inputs)."""
    try:
        return len(model.inputs)
    except (AttributeError, TypeError, ValueError):
        return None


def is_conditional(G):
    """True when ``G`` takes two inputs, ``G([noise, labels])``: a conditional generator (notebook 12)."""
    return input_count(G) == 2


def noise_size(G):
    """The length of the noise vectors ``G`` takes (its first input's size; G must be built)."""
    try:
        shape = G.input_shape
    except (AttributeError, ValueError):
        shape = None
    if isinstance(shape, list):
        shape = shape[0]
    if not shape or shape[-1] is None:
        raise ValueError("Cannot tell how long G's noise vectors are: pass noise_size=..., "
                         "or build G with a keras.Input first.")
    return int(shape[-1])


def cycled_labels(count, num_classes=NUM_CLASSES):
    """Labels ``0, 1, ..., num_classes - 1, 0, 1, ...``: ``count`` of them, int32, every class as often."""
    return np.arange(count, dtype=np.int32) % num_classes


def generate(G, noise, labels=None):
    """``G``'s images of ``noise`` (N, noise_size) in inference mode, numpy float32 (N, ...).

    A conditional generator draws ``labels`` (N integers, or one for all), by default
    ``cycled_labels`` over its classes: class ``i % num_classes`` in row ``i``.
    """
    noise = tf.convert_to_tensor(np.asarray(noise, dtype=np.float32))
    if is_conditional(G):
        if labels is None:
            labels = cycled_labels(len(noise), label_classes(G) or NUM_CLASSES)
        labels = tf.constant(np.broadcast_to(np.asarray(labels, dtype=np.int32), (len(noise),)))
        return np.asarray(G([noise, labels], training=False), dtype=np.float32)
    return np.asarray(G(noise, training=False), dtype=np.float32)
