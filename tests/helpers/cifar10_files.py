"""Small CIFAR-10 batches in the original pickle format, for the loader's and the command line's tests."""

import pickle

import numpy as np

from gan_helpers.data import cifar10

PER_BATCH = 20


def batch_bytes(images, labels, numpy1_names=True):
    """A batch as the original files hold it: a protocol-2 pickle of {b'data': (N, 3072), b'labels': [...]}."""
    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    raw = pickle.dumps({b"batch_label": b"test", b"labels": [int(v) for v in labels], b"data": data}, protocol=2)
    # Files made by numpy 1 name its module numpy.core; keep the loader honest about both spellings.
    return raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray") if numpy1_names else raw


def make_batches(folder, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    made = {}
    for index, name in enumerate(cifar10.TRAIN_BATCHES + (cifar10.TEST_BATCH,)):
        images = rng.integers(0, 256, size=(PER_BATCH, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=PER_BATCH)
        (folder / name).write_bytes(batch_bytes(images, labels, numpy1_names=index % 2 == 0))
        made[name] = (images, labels)
    return made
