"""How good is a generator? Sample-quality scores for MNIST GANs.

Every score here looks at images through a small MNIST classifier that the course
trains itself (``python -m gan_course train-classifier``; its weights ship in
``gan_helpers/reference/``). Its penultimate layer maps an image to a 128-number
feature vector; its last layer says which digit it sees. On those:

- **FID** (Frechet Inception Distance, Heusel et al. 2017, here with this
  classifier in place of Inception): fit a Gaussian to the features of generated
  and of real images and measure the distance between the two Gaussians. 0 means
  the same mean and covariance; lower is better.
- **Class coverage**: the share of samples the classifier puts in each digit, and
  how many digits get a fair share. A generator that draws only 1s scores 1 of 10:
  this is how mode collapse shows.
- **Precision and recall** (Kynkaanniemi et al. 2019): precision is the share of
  generated samples that fall inside the real data's manifold (estimated with
  k-nearest-neighbour balls), i.e. how many samples look real; recall is the share
  of real images that fall inside the generated manifold, i.e. how much of the data
  the generator can draw.
- **Class agreement** (conditional generators, notebook 12): ask for each digit and
  count how often the classifier sees the digit asked for.

Images go in as (N, 784), (N, 28, 28) or (N, 28, 28, 1), float in [-1, 1], the
range of the course's tanh generators.
"""

import dataclasses
import functools
import json
import warnings
from pathlib import Path

import numpy as np

import keras

from gan_helpers import models, settings
from gan_helpers.data import load_mnist_split
from gan_helpers.models import NUM_CLASSES
from gan_helpers.ops import sample_noise, scale_pixels

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
CLASSIFIER_WEIGHTS = REFERENCE_DIR / "mnist_classifier.weights.h5"
CLASSIFIER_INFO = REFERENCE_DIR / "mnist_classifier.json"
TRAIN_COMMAND = "python -m gan_course train-classifier"  # the maintainers' tool that makes the weights

FEATURE_DIM = 128
# A digit counts as covered when it gets at least this share of the samples
# (a tenth of the 10% it would get from a generator that draws all digits evenly).
MIN_CLASS_SHARE = 0.01
DEFAULT_K = 3
DEFAULT_NUM_SAMPLES = 5000


class ClassifierNotFoundError(FileNotFoundError):
    """The metrics classifier's weights file is missing."""


# ---------------------------------------------------------------- the classifier


def build_classifier():
    """The metrics classifier: a small CNN, images in [-1, 1] -> digit logits.

    (N, 28, 28, 1) -> Conv 32 5x5 stride 2 -> (14, 14, 32) -> Conv 64 5x5 stride 2
    -> (7, 7, 64) -> Conv 32 3x3 stride 2 -> (4, 4, 32), each with batch norm and ReLU
    -> flatten (512) -> Dropout 0.25 -> Dense 128 ReLU ("features", the penultimate
    layer) -> Dropout 0.25 -> Dense 10 ("logits"). About 138k parameters (the shipped
    weights take about 0.6 MB) and 3 M multiply-adds per image, so it trains on a CPU.
    """
    import keras
    from keras import layers

    def conv_block(x, filters, size, name):
        x = layers.Conv2D(filters, size, strides=2, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    images = keras.Input(shape=(28, 28, 1), name="image")
    x = conv_block(images, 32, 5, "block1")
    x = conv_block(x, 64, 5, "block2")
    x = conv_block(x, 32, 3, "block3")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.25, name="dropout_1")(x)
    features = layers.Dense(FEATURE_DIM, activation="relu", name="features")(x)
    x = layers.Dropout(0.25, name="dropout_2")(features)
    logits = layers.Dense(NUM_CLASSES, name="logits")(x)
    return keras.Model(images, logits, name="mnist_classifier")


@functools.lru_cache(maxsize=2)
def load_classifier(weights_path=CLASSIFIER_WEIGHTS):
    """The trained metrics classifier (cached), as a model image -> (features, logits).

    Output shapes: features (N, 128), logits (N, 10).
    """
    import keras

    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise ClassifierNotFoundError(
            f"The metrics classifier's weights are not at {weights_path}. "
            f"Reinstall the course's package, or train them with `{TRAIN_COMMAND}` (a few minutes on a CPU)."
        )
    model = build_classifier()
    model.load_weights(weights_path)
    return keras.Model(model.input, [model.get_layer("features").output, model.output], name="classifier_features")


def classifier_info():
    """What the shipped classifier's training recorded (test accuracy, command, ...)."""
    return json.loads(CLASSIFIER_INFO.read_text())


# ---------------------------------------------------------------- images in


def as_classifier_input(images):
    """Check generated images and shape them for the classifier.

    Args:
        images: array-like (numpy or tensor), (N, 784), (N, 28, 28) or (N, 28, 28, 1),
            values in [-1, 1].
    Returns:
        numpy float32 array (N, 28, 28, 1).
    Raises:
        ValueError: another shape, non-finite values, or values outside [-1, 1]
            (e.g. raw 0..255 pixels), with what to do about it.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28, 1)
    elif images.ndim == 3 and images.shape[1:] == (28, 28):
        images = images[..., None]
    elif not (images.ndim == 4 and images.shape[1:] == (28, 28, 1)):
        raise ValueError(
            f"MNIST metrics need images of shape (N, 784), (N, 28, 28) or (N, 28, 28, 1); got {images.shape}. "
            "Pass a batch of generated MNIST digits (e.g. G(noise) for the course's generators)."
        )
    if len(images) == 0:
        raise ValueError("No images given: the metrics need at least a few hundred samples.")
    if not np.all(np.isfinite(images)):
        raise ValueError("The images hold NaN or infinite values: the generator has diverged; retrain it.")
    low, high = float(images.min()), float(images.max())
    if low < -1.001 or high > 1.001:
        hint = " They look like 0..255 pixels: use scale_pixels(x), i.e. x / 127.5 - 1." if high > 2 else ""
        raise ValueError(f"Images must be in [-1, 1] (a tanh generator's range); these span [{low:.3g}, {high:.3g}].{hint}")
    if low >= 0.0 and high > 0.5:
        warnings.warn(
            "These images have no negative values: if they are in [0, 1], map them to [-1, 1] with "
            "2 * x - 1 (ops.preprocess_img) first, or the scores will be wrong.",
            stacklevel=3,
        )
    return images


def classify(images, batch_size=1000):
    """Features and digit predictions of images.

    Returns:
        features: numpy float64 (N, 128), the classifier's penultimate layer.
        probabilities: numpy float64 (N, 10), softmax over the digits.
    """
    images = as_classifier_input(images)
    model = load_classifier()
    batches = range(0, len(images), batch_size)
    outputs = [model(images[start : start + batch_size], training=False) for start in batches]
    features = np.concatenate([np.asarray(some_features) for some_features, _ in outputs]).astype(np.float64)
    logits = np.concatenate([np.asarray(some_logits) for _, some_logits in outputs]).astype(np.float64)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return features, probabilities


@functools.lru_cache(maxsize=4)
def _mnist_features(split):
    images, labels = load_mnist_split(split)
    features, probabilities = classify(scale_pixels(images))
    for array in (features, probabilities):
        array.setflags(write=False)
    return features, probabilities, labels


def mnist_features(split="test", limit=None):
    """Classifier features of real MNIST images (computed once per process).

    Returns:
        features (N, 128) float64, read-only; N = 10000 for 'test', 60000 for 'train',
        or ``limit``.
    """
    features = _mnist_features(split)[0]
    return features if limit is None else features[:limit]


# ---------------------------------------------------------------- the scores


def frechet_distance(mu1, cov1, mu2, cov2):
    """Frechet distance between the Gaussians N(mu1, cov1) and N(mu2, cov2).

    d^2 = |mu1 - mu2|^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^(1/2)).

    The trace of the matrix square root is computed without scipy and without a
    non-symmetric square root: tr((C1 C2)^(1/2)) = tr((S C2 S)^(1/2)) with S = C1^(1/2),
    and S C2 S is symmetric positive semi-definite, so its square root's trace is the
    sum of the square roots of its eigenvalues (tiny negative rounding clipped to 0).
    Stable for singular covariances (dead ReLU features, few samples).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (mu1.size, mu1.size):
        raise ValueError(f"Shapes do not match: mu {mu1.shape} vs {mu2.shape}, cov {cov1.shape} vs {cov2.shape}.")
    values, vectors = np.linalg.eigh((cov1 + cov1.T) / 2)
    sqrt_cov1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = sqrt_cov1 @ cov2 @ sqrt_cov1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    distance = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt
    return float(max(distance, 0.0))


def fid_from_features(features_a, features_b):
    """FID between two sets of feature vectors, (N, D) and (M, D); N, M >= 2."""
    features_a, features_b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if len(features_a) < 2 or len(features_b) < 2:
        raise ValueError("FID needs at least 2 samples on each side (in practice thousands).")
    return frechet_distance(
        features_a.mean(axis=0), np.cov(features_a, rowvar=False), features_b.mean(axis=0), np.cov(features_b, rowvar=False)
    )


def class_coverage(probabilities, min_share=MIN_CLASS_SHARE):
    """How the samples spread over the ten digits.

    Args:
        probabilities: (N, 10) classifier probabilities (or (N,) predicted digits).
        min_share: a digit is covered when at least this share of samples is it.
    Returns:
        (shares, digits_covered): shares is a numpy (10,) array summing to 1, the share
        of samples predicted as each digit; digits_covered an int in 0..10.
    """
    probabilities = np.asarray(probabilities)
    predicted = probabilities if probabilities.ndim == 1 else probabilities.argmax(axis=1)
    shares = np.bincount(predicted.astype(np.int64), minlength=NUM_CLASSES) / len(predicted)
    return shares, int(np.sum(shares >= min_share))


def _squared_distances(points, others, chunk=2000):
    """Squared Euclidean distances of ``points`` (N, D) to ``others`` (M, D), in blocks of (chunk, M)."""
    other_norms = np.sum(others**2, axis=1)
    for start in range(0, len(points), chunk):
        rows = points[start : start + chunk]
        yield np.sum(rows**2, axis=1)[:, None] - 2 * rows @ others.T + other_norms[None, :]


def _kth_neighbour_radii(features, k):
    """Distance from each row of ``features`` to its k-th nearest other row (the row itself is its 0th)."""
    blocks = _squared_distances(features, features)
    return np.concatenate([np.sqrt(np.clip(np.partition(d2, k, axis=1)[:, k], 0, None)) for d2 in blocks])


def _share_inside_balls(points, centres, radii):
    """Share of ``points`` that lie within radius[j] of some centre j."""
    inside = sum(int(np.sum(np.any(d2 <= radii**2, axis=1))) for d2 in _squared_distances(points, centres))
    return inside / len(points)


def precision_recall(real_features, fake_features, k=DEFAULT_K):
    """Improved precision and recall (Kynkaanniemi et al. 2019) of generated features.

    Each real feature vector gets a ball reaching to its k-th nearest real neighbour;
    their union estimates the real manifold. Precision is the share of fake vectors
    inside it. Recall swaps the roles: the share of real vectors inside the balls
    around the fake ones. Both lie in [0, 1]; use equally many real and fake samples,
    as the ball sizes depend on the counts.

    Returns:
        (precision, recall) as floats.
    """
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"Precision and recall with k={k} need more than {k} samples on each side.")
    precision = _share_inside_balls(fake, real, _kth_neighbour_radii(real, k))
    recall = _share_inside_balls(real, fake, _kth_neighbour_radii(fake, k))
    return precision, recall


@dataclasses.dataclass
class SampleScores:
    """The scores of one set of generated MNIST images.

    fid: Frechet distance to the MNIST test set in classifier features (lower is better; 0 is best).
    precision, recall: Kynkaanniemi et al. (2019), in [0, 1] (higher is better).
    digits_covered: digits getting at least MIN_CLASS_SHARE of the samples (10 is best).
    class_shares: share of samples per digit 0..9.
    num_samples: how many generated images were scored.
    """

    fid: float
    precision: float
    recall: float
    digits_covered: int
    class_shares: list
    num_samples: int

    def as_logs(self, prefix=""):
        """The scalar scores as a flat dict, e.g. for a training log."""
        return {f"{prefix}{name}": getattr(self, name) for name in ("fid", "precision", "recall", "digits_covered")}

    def __str__(self):
        return (
            f"FID {self.fid:.2f} | precision {self.precision:.3f} | recall {self.recall:.3f} | "
            f"digits covered {self.digits_covered}/10 (N={self.num_samples})"
        )


def evaluate_images(images, k=DEFAULT_K, min_share=MIN_CLASS_SHARE, seed=0):
    """Score generated MNIST images against the MNIST test set.

    FID uses all 10,000 test images. Precision and recall use a random subset of the
    test set (seeded) as large as the generated set, at most 10,000, since the k-NN
    balls shrink as a set grows. Use at least a few thousand images: with fewer, FID
    is biased upwards (it is, for every model alike, so compare at equal N).

    Args:
        images: (N, 784), (N, 28, 28) or (N, 28, 28, 1) in [-1, 1].
    Returns:
        SampleScores.
    """
    features, probabilities = classify(images)
    reference = mnist_features("test")
    subset = np.random.default_rng(seed).permutation(len(reference))[: min(len(features), len(reference))]
    precision, recall = precision_recall(reference[subset], features[: len(subset)], k=k)
    shares, covered = class_coverage(probabilities, min_share)
    return SampleScores(
        fid=fid_from_features(features, reference),
        precision=precision,
        recall=recall,
        digits_covered=covered,
        class_shares=[round(float(s), 4) for s in shares],
        num_samples=len(features),
    )


def generate(G, num_samples=DEFAULT_NUM_SAMPLES, noise_size=None, seed=0, batch_size=500, labels=None):
    """Draw images from a generator: uniform noise in [-1, 1] -> G (inference mode), ``batch_size`` at a time.

    ``noise_size`` defaults to the size of G's (first) input. A conditional generator
    (two inputs, ``G([noise, labels])``) draws the ``labels`` asked for, an int array
    (num_samples,), by default ``models.cycled_labels`` (every class of G equally often).
    Returns numpy float32 images in G's output shape, e.g. (N, 784) or (N, 28, 28, 1).
    """
    noise_size = noise_size or models.noise_size(G)
    if models.is_conditional(G):
        labels = models.cycled_labels(num_samples, models.label_classes(G) or NUM_CLASSES) if labels is None \
            else np.asarray(labels)
        if labels.shape != (num_samples,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {num_samples} integers (one per sample), shape ({num_samples},); "
                             f"got {labels.dtype} of shape {labels.shape}.")
    batches = []
    for index, start in enumerate(range(0, num_samples, batch_size)):
        count = min(batch_size, num_samples - start)
        noise = sample_noise(count, noise_size, seed=None if seed is None else seed * 100003 + index)
        batches.append(models.generate(G, noise, None if labels is None else labels[start : start + count]))
    return np.concatenate(batches)


def evaluate_generator(G, num_samples=DEFAULT_NUM_SAMPLES, noise_size=None, seed=0, k=DEFAULT_K):
    """Sample ``num_samples`` images from G and score them (see ``evaluate_images``).

    In quick mode at most ``settings.QUICK_MAX_SCORED`` (1,000) samples are drawn.
    """
    num_samples = settings.quick_limit(num_samples, most=settings.QUICK_MAX_SCORED)
    return evaluate_images(generate(G, num_samples, noise_size=noise_size, seed=seed), k=k)


@dataclasses.dataclass
class ClassAgreement:
    """How often a conditional generator draws the digit it is asked for.

    overall: the share of samples the metrics classifier puts in the requested class, in [0, 1]
        (a generator that ignores its labels scores about 0.1).
    per_class: that share for each requested label 0..num_classes - 1.
    confusion: numpy int array (num_classes, 10): row = the label asked for, column = the
        digit the classifier sees; each row sums to the samples drawn for that label.
    num_samples: how many images were scored.
    """

    overall: float
    per_class: list
    confusion: np.ndarray
    num_samples: int

    @property
    def worst_class(self):
        """The label drawn right least often."""
        return int(np.argmin(self.per_class))

    def as_logs(self, prefix=""):
        """The overall share and the lowest per-class share, as a flat dict."""
        return {f"{prefix}class_agreement": self.overall, f"{prefix}worst_class_agreement": min(self.per_class)}

    def __str__(self):
        worst = self.worst_class
        return (f"class agreement {self.overall:.1%} (lowest: digit {worst}, {self.per_class[worst]:.1%}; "
                f"N={self.num_samples})")


def class_agreement(G, num_samples=DEFAULT_NUM_SAMPLES, num_classes=NUM_CLASSES, seed=0, noise_size=None):
    """Ask a conditional generator for every digit and count how often it draws the digit asked for.

    Draws ``num_samples`` images ``G([noise, labels])`` with uniform noise and the labels
    0, 1, ..., 9, 0, 1, ... (so ``num_samples / num_classes`` per digit), classifies them
    with the course's MNIST classifier (99.2% on the test set) and compares. In quick
    mode at most ``settings.QUICK_MAX_SCORED`` (1,000) samples are drawn.

    Args:
        G: a conditional generator, noise (N, noise_size) and int labels (N,) -> MNIST
            images in [-1, 1] ((N, 28, 28, 1) or (N, 784)).
        num_classes: the labels asked for are 0 .. num_classes - 1 (at most 10, the digits).
        seed: the noise; the same seed scores the same samples.
    Returns:
        ClassAgreement (overall, per class, confusion matrix).
    """
    if not models.is_conditional(G):
        raise ValueError("class_agreement needs a conditional generator, one that takes [noise, labels] "
                         "(G([noise, labels])); this one takes a single input. For an unconditional "
                         "generator, evaluate_generator(G) reports which digits it draws (class coverage).")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or not 1 <= num_classes <= NUM_CLASSES:
        raise ValueError(f"num_classes must be an integer from 1 to {NUM_CLASSES} (the classifier knows the "
                         f"digits 0-9), not {num_classes!r}.")
    num_samples = settings.quick_limit(int(num_samples), most=settings.QUICK_MAX_SCORED)
    if num_samples < num_classes:
        raise ValueError(f"num_samples must be at least num_classes ({num_classes}), so that every label is "
                         f"asked for; use thousands for a stable share.")
    labels = models.cycled_labels(num_samples, num_classes)
    images = generate(G, num_samples, noise_size=noise_size, seed=seed, labels=labels)
    predicted = classify(images)[1].argmax(axis=1)
    confusion = np.zeros((num_classes, NUM_CLASSES), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = [float(confusion[label, label] / confusion[label].sum()) for label in range(num_classes)]
    return ClassAgreement(overall=float(np.mean(predicted == labels)), per_class=per_class, confusion=confusion,
                          num_samples=num_samples)


# ---------------------------------------------------------------- during training


class MetricsCallback(keras.callbacks.Callback):
    """Score the generator every few epochs while ``run_a_gan`` trains (``callbacks=[MetricsCallback()]``).

    Every ``every_epochs`` epochs (and once more at the end of training if the last
    step was not scored, e.g. in quick mode or after an interrupt), draws
    ``num_samples`` images from the generator samples come from (the average with
    ``ema``) and scores them with ``evaluate_generator``. The scores go into the
    epoch's ``logs`` ('fid', 'precision', 'recall', 'digits_covered'; callbacks listed
    after this one, the display included, see them), into ``self.records`` and, at the
    end, into ``history.metrics``: a list of dicts with 'epoch' (counted from 1),
    'step', the scores and 'class_shares'.

    Scoring 2,000 samples takes a few seconds on a CPU; with ``every_epochs=1`` on a
    short epoch that is a noticeable share of training time.
    """

    def __init__(self, every_epochs=1, num_samples=2000, seed=0, verbose=True):
        super().__init__()
        if every_epochs < 1 or num_samples < 10:
            raise ValueError("every_epochs must be >= 1 and num_samples >= 10 (a few thousand for a stable FID).")
        self.every_epochs = every_epochs
        self.num_samples = num_samples
        self.seed = seed
        self.verbose = verbose
        self.records = []

    def on_train_begin(self, logs=None):
        if self.model.conditional:
            raise ValueError("MetricsCallback scores a generator of noise alone; this run trains a conditional "
                             "GAN. Score its samples after training instead.")

    def _score(self, epoch, step):
        scores = evaluate_generator(self.model.sampler, self.num_samples, noise_size=self.model.noise_size,
                                    seed=self.seed)
        record = {"epoch": epoch, "step": step, **scores.as_logs(), "class_shares": scores.class_shares}
        self.records.append(record)
        if self.verbose:
            print(f"epoch {epoch} step {step}: {scores}")
        return scores

    def on_epoch_end(self, epoch, logs=None):
        history = self.model.history
        if history.epochs_done == epoch + 1 and (epoch + 1) % self.every_epochs == 0:
            logs.update(self._score(epoch + 1, history.steps_done).as_logs())

    def on_train_end(self, logs=None):
        history = self.model.history
        scored = self.records and self.records[-1]["step"] == history.steps_done
        if history.stopped != "nan" and history.steps_done > 0 and not scored:
            self._score(history.epochs_done, history.steps_done)
        history.metrics = list(self.records)


# ---------------------------------------------------------------- is a generator copying?

@dataclasses.dataclass
class Neighbours:
    """The nearest real images to each of a batch of (generated) images.

    indices: (N, k) int, rows of the searched split (``load_mnist()``'s order), nearest first.
    distances: (N, k) float, Euclidean distances in the space searched.
    images: (N, k, 28, 28) float32 in [-1, 1], the neighbours themselves.
    labels: (N, k) int, their digits.
    space: 'pixels' or 'features'.
    searched: how many real images were searched.
    """

    indices: np.ndarray
    distances: np.ndarray
    images: np.ndarray
    labels: np.ndarray
    space: str
    searched: int


@functools.lru_cache(maxsize=4)
def _pool_vectors(space, split, size):
    """The first ``size`` images of a split as float32 vectors (pixels or features), and their squared norms."""
    images = load_mnist_split(split)[0][:size]
    if space == "pixels":
        vectors = scale_pixels(images.reshape(len(images), -1))
    elif size == len(load_mnist_split(split)[0]):
        vectors = mnist_features(split).astype(np.float32)
    else:
        vectors = classify(scale_pixels(images))[0].astype(np.float32)
    vectors.setflags(write=False)
    return vectors, np.sum(vectors.astype(np.float64) ** 2, axis=1)


def nearest_neighbours(images, k=3, space="pixels", split="train", limit=None, chunk=256):
    """The ``k`` real MNIST images nearest to each of ``images``: is a generator copying?

    A generator that memorised its training set would score a perfect FID; what
    gives it away is that its samples sit (almost) on top of training images.
    Compare the distances with those of real *test* digits to the training set:
    samples much closer than unseen real digits are copies.

    Args:
        images: (N, 784), (N, 28, 28) or (N, 28, 28, 1) in [-1, 1].
        k: neighbours per image.
        space: 'pixels' (Euclidean distance between the images, values in [-1, 1])
            or 'features' (between the metrics classifier's features: the same
            digit drawn in the same style, even when shifted by a pixel).
        split: 'train' (the images GANs learn from) or 'test'.
        limit: search only the first ``limit`` images of the split. In quick mode
            at most ``settings.QUICK_MAX_NEIGHBOUR_POOL`` (10,000) are searched.
        chunk: query images per block (memory: chunk x pool size floats).
    Returns:
        Neighbours.
    """
    if space not in ("pixels", "features"):
        raise ValueError(f"space must be 'pixels' or 'features', not {space!r}.")
    pool_images, pool_labels = load_mnist_split(split)
    size = len(pool_images) if limit is None else int(limit)
    size = min(settings.quick_limit(size, most=settings.QUICK_MAX_NEIGHBOUR_POOL), len(pool_images))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= size:
        raise ValueError(f"k must be an integer from 1 to the number of images searched ({size}), not {k!r}.")
    queries = as_classifier_input(images)
    queries = queries.reshape(len(queries), -1) if space == "pixels" else classify(queries)[0]
    queries = queries.astype(np.float32)
    pool, pool_norms = _pool_vectors(space, split, size)
    # Candidates by float32 matrix products, then exact float64 distances for the
    # best few: |a - b|^2 = |a|^2 - 2 a.b + |b|^2 loses digits in float32 near 0.
    candidates = min(size, k + 8)
    indices, distances = np.empty((len(queries), k), np.int64), np.empty((len(queries), k))
    for start in range(0, len(queries), chunk):
        rows = queries[start : start + chunk]
        d2 = pool_norms[None, :].astype(np.float32) - 2 * rows @ pool.T
        best = np.argpartition(d2, candidates - 1, axis=1)[:, :candidates]
        exact = np.sum((rows[:, None, :].astype(np.float64) - pool[best].astype(np.float64)) ** 2, axis=2)
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        indices[start : start + chunk] = np.take_along_axis(best, order, axis=1)
        distances[start : start + chunk] = np.sqrt(np.take_along_axis(exact, order, axis=1))
    neighbour_images = scale_pixels(pool_images[indices])
    return Neighbours(indices, distances, neighbour_images, pool_labels[indices], space, size)
