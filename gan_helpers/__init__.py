"""gan_helpers: the library behind the GAN course. This file only hands names on.

A notebook imports what it needs in one statement::

    from gan_helpers import discriminator, generator, get_solvers, run_a_gan, show_images

The names are looked up lazily (PEP 562), so that ``import gan_helpers`` costs nothing
until a name is used: the command line's ``--help``, ``make-student`` and ``grade``
never import TensorFlow. The checks stay in their own package,
``from gan_helpers.checks import test_...``.
"""

import importlib

# module -> the names it hands to ``gan_helpers``
_EXPORTS = {
    "settings": ["quick_mode", "run_dir"],
    "ops": ["leaky_relu", "sample_noise", "interpolate_noise", "scale_pixels", "preprocess_img", "deprocess_img",
            "ema_update"],
    "losses": ["discriminator_loss", "generator_loss", "ls_discriminator_loss", "ls_generator_loss",
               "wasserstein_critic_loss", "wasserstein_generator_loss", "gradient_penalty",
               "hinge_discriminator_loss", "hinge_generator_loss"],
    "augment": ["diff_augment", "random_brightness", "random_saturation", "random_contrast", "random_translation",
                "random_cutout"],
    "models": [
        "NOISE_DIM", "discriminator", "generator", "dc_discriminator", "dc_generator", "critic",
        "cifar_discriminator", "cifar_generator", "dog_discriminator", "dog_generator",
        "conditional_generator", "conditional_discriminator", "conditional_cifar_generator",
        "conditional_cifar_discriminator",
    ],
    "gan": ["GAN", "WGANGP", "ConditionalGAN", "ConditionalWGANGP"],
    "training": ["get_solvers", "build_gan", "run_a_gan", "gpu_available"],
    "callbacks": ["GanHistory", "EpochGrids", "TensorBoardSteps"],
    "data": [
        "load_mnist", "mnist_dataset", "load_cifar10", "load_cifar10_images", "CIFAR10_CLASSES",
        "load_cifar10_or_standin", "load_dogs", "load_dogs_or_standin", "dogs_dataset", "make_standin_dogs",
        "load_image_folder",
        "DatasetNotFoundError", "CorruptDatasetError",
    ],
    "viz": ["show_images", "image_grid", "save_image_grid", "plot_losses", "make_gif", "plot_class_shares"],
    "display": ["LiveTraining"],
    "widgets": ["browse_samples", "latent_walk", "conditional_explorer", "same_noise_images",
                "class_interpolation_images"],
    "metrics": [
        "evaluate_generator", "evaluate_images", "generate", "classify", "classifier_info", "mnist_features",
        "frechet_distance", "fid_from_features", "nearest_neighbours", "MetricsCallback", "MIN_CLASS_SHARE",
        "class_agreement",
    ],
}  # fmt: skip

_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'gan_helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"gan_helpers.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
