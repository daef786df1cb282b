"""gan_helpers: the library behind the GAN course. This file only hands names on."""

from gan_helpers import settings
from gan_helpers.data import load_mnist, mnist_dataset
from gan_helpers.ops import deprocess_img, leaky_relu, preprocess_img, sample_noise
from gan_helpers.models import NOISE_DIM, discriminator, generator
from gan_helpers.losses import (
    discriminator_loss,
    generator_loss,
    ls_discriminator_loss,
    ls_generator_loss,
)
from gan_helpers.viz import image_grid, make_gif, plot_losses, save_image_grid, show_images
from gan_helpers.widgets import LiveTraining, browse_samples, latent_walk

__all__ = [
    "settings",
    "load_mnist",
    "mnist_dataset",
    "deprocess_img",
    "leaky_relu",
    "preprocess_img",
    "sample_noise",
    "NOISE_DIM",
    "discriminator",
    "generator",
    "discriminator_loss",
    "generator_loss",
    "ls_discriminator_loss",
    "ls_generator_loss",
    "image_grid",
    "make_gif",
    "plot_losses",
    "save_image_grid",
    "show_images",
    "LiveTraining",
    "browse_samples",
    "latent_walk",
]
