"""metrics: the shipped classifier, FID, class coverage, precision/recall, on real MNIST."""

import json

import keras
import numpy as np
import pytest

from gan_helpers import losses, metrics, models, settings, training
from gan_helpers.data import load_mnist

N = 2000  # images per scored set: enough for stable scores, quick on a CPU


def scaled(images):
    """uint8 MNIST images -> float32 in [-1, 1]."""
    return images.astype(np.float32) / 127.5 - 1.0


@pytest.fixture(scope="module")
def mnist():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    return scaled(x_train[:N]), y_train[:N], scaled(x_test), y_test


@pytest.fixture(scope="module")
def real_scores(mnist):
    return metrics.evaluate_images(mnist[0])


# ---------------------------------------------------------------- the classifier


def test_shipped_classifier_is_small_and_records_at_least_99_percent():
    assert metrics.CLASSIFIER_WEIGHTS.stat().st_size < 1_000_000
    info = json.loads(metrics.CLASSIFIER_INFO.read_text())
    assert info["test_accuracy"] >= 0.99
    assert info["command"] == metrics.TRAIN_COMMAND == "python -m gan_course train-classifier"


def test_shipped_classifier_classifies_mnist_test_digits(mnist):
    _, _, x_test, y_test = mnist
    features, probabilities = metrics.classify(x_test[:N])
    assert features.shape == (N, metrics.FEATURE_DIM)
    assert probabilities.shape == (N, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert np.mean(probabilities.argmax(axis=1) == y_test[:N]) >= 0.985


def test_missing_weights_name_the_command_that_makes_them(tmp_path):
    with pytest.raises(metrics.ClassifierNotFoundError, match="python -m gan_course train-classifier"):
        metrics.load_classifier(tmp_path / "nothing.weights.h5")


def test_train_classifier_is_a_command_of_the_course_tools():
    from gan_course.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["train-classifier", "--help"])
    assert exit_info.value.code == 0


# ---------------------------------------------------------------- images in


@pytest.mark.parametrize("shape", [(-1, 784), (-1, 28, 28), (-1, 28, 28, 1)], ids=["flat", "NHW", "NHW1"])
def test_every_accepted_shape_gives_the_same_features(mnist, shape):
    images = mnist[2][:64]
    expected, _ = metrics.classify(images)
    features, _ = metrics.classify(images.reshape(shape))
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((4, 32, 32)), r"\(N, 784\), \(N, 28, 28\) or \(N, 28, 28, 1\)"),
        (np.zeros((0, 784)), "No images"),
        (np.full((4, 784), np.nan), "NaN"),
        (np.full((4, 784), 255.0), "x / 127.5 - 1"),
    ],
    ids=["wrong-shape", "empty", "nan", "0-255"],
)
def test_bad_images_are_refused_with_the_fix(images, message):
    with pytest.raises(ValueError, match=message):
        metrics.as_classifier_input(images)


def test_images_in_zero_one_draw_a_warning(mnist):
    with pytest.warns(UserWarning, match="2 \\* x - 1"):
        metrics.as_classifier_input((mnist[2][:8] + 1) / 2)


# ---------------------------------------------------------------- Frechet distance


def random_covariance(rng, dim, rank=None):
    factor = rng.normal(size=(dim, rank or dim))
    return factor @ factor.T / dim


def test_frechet_distance_of_diagonal_gaussians_has_its_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    var1, var2 = rng.uniform(0.1, 2, size=5), rng.uniform(0.1, 2, size=5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_matches_the_eigenvalues_of_the_covariance_product():
    rng = np.random.default_rng(1)
    cov1, cov2 = random_covariance(rng, 20), random_covariance(rng, 20)
    mu1, mu2 = rng.normal(size=20), rng.normal(size=20)
    trace_sqrt = np.sum(np.sqrt(np.linalg.eigvals(cov1 @ cov2).real.clip(0)))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt
    assert metrics.frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-7)
    assert metrics.frechet_distance(mu2, cov2, mu1, cov1) == pytest.approx(expected, rel=1e-7)


def test_frechet_distance_is_stable_for_singular_covariances():
    rng = np.random.default_rng(2)
    cov = random_covariance(rng, 50, rank=3)
    assert metrics.frechet_distance(np.zeros(50), cov, np.zeros(50), cov) == pytest.approx(0.0, abs=1e-6)
    other = random_covariance(rng, 50, rank=2)
    distance = metrics.frechet_distance(np.zeros(50), cov, np.zeros(50), other)
    assert np.isfinite(distance) and distance > 0.1


# ---------------------------------------------------------------- precision and recall


def test_precision_and_recall_of_a_set_against_itself_are_one():
    points = np.random.default_rng(3).normal(size=(300, 8))
    assert metrics.precision_recall(points, points) == (1.0, 1.0)


def test_precision_and_recall_of_far_apart_sets_are_zero():
    rng = np.random.default_rng(4)
    assert metrics.precision_recall(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 100) == (0.0, 0.0)


def test_collapsed_samples_keep_precision_but_lose_recall():
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(10, 8)) * 10
    real = np.concatenate([centre + rng.normal(size=(100, 8)) for centre in centres])
    collapsed = centres[0] + rng.normal(size=(1000, 8)) * 0.5
    precision, recall = metrics.precision_recall(real, collapsed)
    assert precision > 0.95
    assert recall < 0.15  # only the real points near one of ten clusters are covered


# ---------------------------------------------------------------- sanity on MNIST


def test_real_images_score_like_the_data(real_scores):
    assert real_scores.num_samples == N
    # 2,000 training digits against the test set: FID is not 0 only by finite-sample bias
    assert real_scores.fid < 2.5
    assert real_scores.digits_covered == 10
    assert max(real_scores.class_shares) < 0.15
    assert real_scores.precision > 0.85
    assert real_scores.recall > 0.85


def test_a_single_repeated_digit_covers_one_digit_and_scores_badly(mnist, real_scores):
    _, _, x_test, y_test = mnist
    ones = x_test[y_test == 1][:1000]
    scores = metrics.evaluate_images(ones)
    assert scores.digits_covered == 1
    assert scores.class_shares[1] > 0.98
    assert scores.fid > 20 * max(real_scores.fid, 0.1)
    assert scores.recall < 0.3


def test_noise_scores_far_worse_than_any_digit(mnist, real_scores):
    noise = np.random.default_rng(6).uniform(-1, 1, size=(1000, 784)).astype(np.float32)
    scores = metrics.evaluate_images(noise)
    assert scores.fid > 100 * max(real_scores.fid, 0.1)
    assert scores.precision < 0.05
    assert scores.recall < 0.05


def test_class_coverage_counts_digits_above_the_minimum_share():
    predicted = np.array([0] * 90 + [1] * 9 + [2])
    shares, covered = metrics.class_coverage(predicted, min_share=0.05)
    np.testing.assert_allclose(shares[:3], [0.9, 0.09, 0.01])
    assert covered == 2


# ---------------------------------------------------------------- generators and training


def test_evaluate_generator_samples_an_untrained_generator():
    G = models.generator()
    scores = metrics.evaluate_generator(G, num_samples=500, seed=1)
    assert scores.num_samples == 500
    assert len(scores.class_shares) == 10 and sum(scores.class_shares) == pytest.approx(1.0, abs=1e-3)
    assert scores.fid > 10
    same = metrics.evaluate_generator(G, num_samples=500, seed=1)
    assert same.fid == pytest.approx(scores.fid)


class LogRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epoch_logs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_logs.append(dict(logs))


def test_metrics_callback_scores_every_epoch_into_logs_and_history(mnist):
    D, G = models.discriminator(), models.generator()
    D_solver, G_solver = training.get_solvers()
    scorer, recorder = metrics.MetricsCallback(every_epochs=1, num_samples=300, verbose=False), LogRecorder()
    history = training.run_a_gan(
        D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss, batch_size=128, num_epochs=2,
        dataset=mnist[0][:256].reshape(-1, 784), seed=0, callbacks=[scorer, recorder],
    )
    assert [record["epoch"] for record in history.metrics] == [1, 2]
    assert [record["step"] for record in history.metrics] == [2, 4]
    assert all(np.isfinite(record["fid"]) for record in history.metrics)
    assert [logs["fid"] for logs in recorder.epoch_logs] == [record["fid"] for record in history.metrics]



# ---------------------------------------------------------------- is it copying? (notebook 09)


def brute_force_nearest(queries, pool, k):
    distances = np.sqrt(((queries[:, None, :].astype(np.float64) - pool[None, :, :]) ** 2).sum(axis=2))
    order = np.argsort(distances, axis=1)[:, :k]
    return order, np.take_along_axis(distances, order, axis=1)


def test_nearest_neighbours_in_pixels_match_brute_force_and_find_copies():
    (x_train, y_train), _ = load_mnist()
    pool = scaled(x_train[:1000]).reshape(-1, 784)
    copies = pool[[5, 321]]
    others = np.random.default_rng(8).permutation(scaled(x_train[5000:5006]).reshape(-1, 784))
    queries = np.concatenate([copies, others])
    found = metrics.nearest_neighbours(queries.reshape(-1, 28, 28, 1), k=4, limit=1000)
    assert found.space == "pixels" and found.searched == 1000
    assert found.indices.shape == found.distances.shape == found.labels.shape == (8, 4)
    assert found.images.shape == (8, 4, 28, 28)
    expected_indices, expected_distances = brute_force_nearest(queries, pool, 4)
    np.testing.assert_array_equal(found.indices, expected_indices)
    np.testing.assert_allclose(found.distances, expected_distances, rtol=1e-6, atol=1e-6)
    assert list(found.indices[:2, 0]) == [5, 321] and np.all(found.distances[:2, 0] == 0)
    np.testing.assert_array_equal(found.labels, y_train[found.indices])
    np.testing.assert_allclose(found.images[0, 0], pool[5].reshape(28, 28))


def test_nearest_neighbours_in_features_find_the_image_itself():
    (x_train, _), _ = load_mnist()
    queries = scaled(x_train[[10, 20, 30]])
    found = metrics.nearest_neighbours(queries, k=2, space="features", limit=500)
    assert found.space == "features" and found.searched == 500
    np.testing.assert_array_equal(found.indices[:, 0], [10, 20, 30])
    assert np.all(found.distances[:, 0] < 1e-3)
    assert np.all(found.distances[:, 1] > found.distances[:, 0])


def test_nearest_neighbours_search_is_capped_in_quick_mode(monkeypatch):
    monkeypatch.setenv("GAN_COURSE_QUICK", "1")
    found = metrics.nearest_neighbours(np.zeros((1, 784), np.float32), k=1, split="test")
    assert found.searched == settings.QUICK_MAX_NEIGHBOUR_POOL


@pytest.mark.parametrize(
    "kwargs, message",
    [({"space": "cosine"}, "'pixels' or 'features'"), ({"split": "validation"}, "'train' or 'test'"),
     ({"k": 0}, "k must be an integer from 1"), ({"k": 11, "limit": 10}, r"number of images searched \(10\)")],
)
def test_nearest_neighbours_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.nearest_neighbours(np.zeros((2, 784), np.float32), **kwargs)


def test_plot_class_shares_draws_one_bar_per_class_and_set(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from gan_helpers import viz

    shares = {"even": [0.1] * 10, "collapsed": [0, 0.5, 0, 0, 0, 0, 0, 0.5, 0, 0]}
    path = viz.plot_class_shares(shares, min_share=metrics.MIN_CLASS_SHARE, path=tmp_path / "shares.png")
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="same, non-zero number of classes"):
        viz.plot_class_shares({"a": [0.5, 0.5], "b": [1.0]})


# The checks notebook 09's exercises call (gan_helpers.checks.test_interpolate / test_nearest_neighbours).


def right_interpolate(z0, z1, steps):
    return z0 + np.linspace(0, 1, steps)[:, None] * (z1 - z0)


def right_nearest(queries, pool, k):
    squared = (queries**2).sum(1)[:, None] - 2 * queries @ pool.T + (pool**2).sum(1)[None, :]
    return np.argsort(squared, axis=1)[:, :k]


def test_notebook_09_checks_pass_right_answers(capsys):
    from gan_helpers import checks

    checks.test_interpolate(right_interpolate)
    checks.test_nearest_neighbours(right_nearest)
    assert capsys.readouterr().out.count("passed") == 2


@pytest.mark.parametrize(
    "check, wrong, hint",
    [
        ("test_interpolate", lambda z0, z1, steps: z0 + np.arange(steps)[:, None] / steps * (z1 - z0), "z1 itself"),
        ("test_interpolate", lambda z0, z1, steps: right_interpolate(z1, z0, steps), "wrong way"),
        ("test_interpolate", lambda z0, z1, steps: right_interpolate(z0, z1, steps).T, "swapped"),
        ("test_nearest_neighbours", lambda q, p, k: right_nearest(q, p, k)[:, ::-1], "farthest first"),
        ("test_nearest_neighbours", lambda q, p, k: np.argsort(-q @ p.T, axis=1)[:, :k], "dot product"),
        ("test_nearest_neighbours", lambda q, p, k: right_nearest(q, p, k) + 1, "count from 0"),
        ("test_nearest_neighbours", lambda q, p, k: np.sort(q @ p.T, axis=1)[:, :k], "not their distances"),
    ],
    ids=["no-end", "reversed", "transposed", "reversed-order", "dot-product", "off-by-one", "distances"],
)
def test_notebook_09_checks_name_the_mistake(check, wrong, hint):
    from gan_helpers import checks

    with pytest.raises(AssertionError, match=hint):
        getattr(checks, check)(wrong)
