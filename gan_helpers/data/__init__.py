"""Data sets for the course and their tf.data pipelines (MNIST, CIFAR-10, dogs, any folder of images, stand-ins).

The names imported here are the package's: ``from gan_helpers.data import load_mnist``.
"""

from gan_helpers.data.cifar10 import (
    CLASS_NAMES as CIFAR10_CLASSES,
    load_cifar10,
    load_cifar10_images,
    load_cifar10_or_standin,
)
from gan_helpers.data.dogs import (
    DogsReport,
    augment_images,
    dogs_dataset,
    find_dogs,
    load_dogs,
    load_dogs_or_standin,
)
from gan_helpers.data.folder import FolderReport, load_image_folder
from gan_helpers.data.mnist import (
    CorruptDatasetError,
    DatasetNotFoundError,
    find_mnist,
    load_mnist,
    load_mnist_split,
    mnist_dataset,
)
from gan_helpers.data.standin import LoadedImages, make_standin_dogs

