"""The course's networks, as plain ``keras.Model`` builders.

The MLP GAN on flattened MNIST (Goodfellow et al., 2014, in the form of the
CS231n assignment): images are vectors of 784 values in [-1, 1], noise vectors
are uniform in [-1, 1]. Every discriminator returns *logits* (unbounded scores);
the losses apply the sigmoid themselves, stably.
"""

import keras
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


# Side of the dog images: 64x64 RGB in [-1, 1].
DOG_IMAGE_SIZE = 64


def dog_discriminator(width=32, spectral_norm=False):
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
    (see :func:`spectral_normalized`).
    """
    return _strided_discriminator((DOG_IMAGE_SIZE, DOG_IMAGE_SIZE, 3), (width, 2 * width, 4 * width, 8 * width),
                                  name="dog_discriminator", spectral_norm=spectral_norm)


def dog_generator(noise_dim=NOISE_DIM, width=32):
    """The DCGAN generator for 64x64 colour images (dogs): project, then four stride-2 up-convolutions.

    (N, noise_dim) -> Dense 4*4*8*width -> batch norm -> ReLU -> reshape   (N, 4, 4, 8*width)
                   -> ConvTranspose 4*width 4x4 s2 -> batch norm -> ReLU   (N, 8, 8, 4*width)
                   -> ConvTranspose 2*width 4x4 s2 -> batch norm -> ReLU   (N, 16, 16, 2*width)
                   -> ConvTranspose width   4x4 s2 -> batch norm -> ReLU   (N, 32, 32, width)
                   -> ConvTranspose 3       4x4 s2 -> tanh                 (N, 64, 64, 3)

    Input: noise (N, noise_dim), float32. Output: images (N, 64, 64, 3) in [-1, 1].
    Parameters for noise_dim=96, width=32: 397,312 + 16,384 [batch norm] + 524,416 + 512
    + 131,136 + 256 + 32,800 + 128 + 1,539 = 1,104,483 (8,640 of them batch-norm moving statistics).
    """
    return _upconv_generator(noise_dim, (8 * width, 4 * width, 2 * width, width), out_channels=3,
                             name="dog_generator")


# ---------------------------------------------------------------------------
# The DCGAN for CIFAR-10: 32x32 colour images.
# ---------------------------------------------------------------------------

# Side of the CIFAR-10 images: 32x32 RGB in [-1, 1].
CIFAR_IMAGE_SIZE = 32


def cifar_discriminator(width=32, spectral_norm=False):
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
    (see :func:`spectral_normalized`).
    """
    return _strided_discriminator((CIFAR_IMAGE_SIZE, CIFAR_IMAGE_SIZE, 3), (width, 2 * width, 4 * width),
                                  name="cifar_discriminator", spectral_norm=spectral_norm)


def cifar_generator(noise_dim=NOISE_DIM, width=32):
    """The DCGAN generator for 32x32 colour images (CIFAR-10): project, then three up-convolutions.

    (N, noise_dim) -> Dense 4*4*4*width -> batch norm -> ReLU -> reshape   (N, 4, 4, 4*width)
                   -> ConvTranspose 2*width 4x4 s2 -> batch norm -> ReLU   (N, 8, 8, 2*width)
                   -> ConvTranspose width   4x4 s2 -> batch norm -> ReLU   (N, 16, 16, width)
                   -> ConvTranspose 3       4x4 s2 -> tanh                 (N, 32, 32, 3)

    Input: noise (N, noise_dim), float32. Output: images (N, 32, 32, 3) in [-1, 1].
    Parameters for noise_dim=96, width=32: 198,656 + 8,192 [batch norm] + 131,136 + 256
    + 32,800 + 128 + 1,539 = 372,707 (4,288 of them batch-norm moving statistics).
    """
    return _upconv_generator(noise_dim, (4 * width, 2 * width, width), out_channels=3, name="cifar_generator")


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


def _strided_discriminator(image_shape, channels, name, spectral_norm=False):
    """A DCGAN discriminator: one 4x4 stride-2 convolution + leaky ReLU 0.2 per entry of ``channels``.

    Each convolution halves the side of the (N, H, W, C) images; then Flatten and
    Dense 1 give (N, 1) logits. Layer names ``conv_1``, ``leaky_relu_1``, ...
    ``spectral_norm``: wrap every Conv2D and the Dense in :func:`spectral_normalized`.
    """
    wrap = spectral_normalized if spectral_norm else (lambda layer: layer)
    convs = []
    for index, filters in enumerate(channels, start=1):
        convs += [
            wrap(layers.Conv2D(filters, 4, strides=2, padding="same", name=f"conv_{index}")),
            layers.LeakyReLU(negative_slope=DC_LEAKY_SLOPE, name=f"leaky_relu_{index}"),
        ]
    return keras.Sequential(
        [keras.Input(shape=image_shape, name="image")]
        + convs
        + [layers.Flatten(name="flatten"), wrap(layers.Dense(1, name="logits"))],
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
