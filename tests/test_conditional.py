"""Conditional GANs (notebook 12): the models, class agreement, and the tools that explore a conditional generator."""

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_helpers import metrics, models, settings, widgets
from gan_helpers.ops import sample_noise
from gan_helpers.data import load_mnist

matplotlib.use("Agg")

BUILDERS = {
    "mnist": (models.conditional_generator, models.conditional_discriminator, (28, 28, 1), 3136),
    "cifar": (models.conditional_cifar_generator, models.conditional_cifar_discriminator, (32, 32, 3), 2048),
}


def labels(*values):
    return tf.constant(values, tf.int32)


# ---------------------------------------------------------------- the models


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_conditional_models_take_noise_or_images_and_labels(kind):
    make_g, make_d, image_shape, _ = BUILDERS[kind]
    G, D = make_g(), make_d()
    assert G.input_shape == [(None, models.NOISE_DIM), (None,)] and G.output_shape == (None, *image_shape)
    assert D.input_shape == [(None, *image_shape), (None,)] and D.output_shape == (None, 1)
    assert G.inputs[1].dtype == "int32" and D.inputs[1].dtype == "int32"
    images = G([tf.random.uniform((3, models.NOISE_DIM), -1, 1), labels(0, 5, 9)], training=False)
    assert images.shape == (3, *image_shape) and np.all(np.abs(images) <= 1.0)
    assert D([images, labels(0, 5, 9)]).shape == (3, 1)
    assert models.label_classes(G) == models.label_classes(D) == 10
    assert models.label_classes(make_g(num_classes=4)) == models.label_classes(make_d(num_classes=4)) == 4
    assert models.label_classes(models.dc_generator()) is None


def test_conditional_generator_joins_the_label_embedding_to_the_noise():
    G = models.conditional_generator()
    table = G.get_layer("label_embedding")
    assert (table.input_dim, table.output_dim) == (10, models.LABEL_EMBEDDING_DIM)
    body = G.layers[-1]
    assert body.input_shape == (None, models.NOISE_DIM + models.LABEL_EMBEDDING_DIM)
    z = tf.random.uniform((2, models.NOISE_DIM), -1, 1)
    joined = tf.concat([z, tf.gather(table.embeddings, [3, 8])], axis=1)
    np.testing.assert_allclose(G([z, labels(3, 8)], training=False), body(joined, training=False), atol=1e-6)
    assert G.count_params() == 10 * 50 + models.dc_generator(146).count_params() == 507_477


def test_projection_discriminator_adds_the_class_vector_times_the_features():
    D = models.conditional_discriminator()
    assert D.count_params() == models.dc_discriminator().count_params() + 10 * 3136 == 67_873
    for weight in D.weights:  # the trained values would do; random ones test every term
        weight.assign(np.random.default_rng(0).normal(0, 0.05, weight.shape))
    x = tf.random.uniform((4, 28, 28, 1), -1, 1)
    y = labels(1, 1, 7, 0)
    phi = keras.Model(D.inputs[0], D.get_layer("features").output)(x).numpy()
    kernel, bias = D.get_layer("score").get_weights()
    table = D.get_layer("class_embedding").get_weights()[0]
    expected = phi @ kernel + bias + np.sum(table[y.numpy()] * phi, axis=1, keepdims=True)
    np.testing.assert_allclose(D([x, y]), expected, rtol=1e-4, atol=1e-5)


def test_conditional_models_build_in_mixed_precision_and_save_and_load(tmp_path):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        G, D = models.conditional_generator(), models.conditional_discriminator()
        images = G([tf.zeros((2, models.NOISE_DIM)), labels(1, 2)], training=False)
        assert D([images, labels(1, 2)]).shape == (2, 1)
    finally:
        keras.config.set_dtype_policy(previous)
    G = models.conditional_generator()
    G.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    z = tf.random.uniform((2, models.NOISE_DIM), -1, 1)
    np.testing.assert_allclose(loaded([z, labels(4, 6)], training=False), G([z, labels(4, 6)], training=False))


# ---------------------------------------------------------------- class agreement


def well_classified_digits():
    """One test digit per class (the first the metrics classifier gets right), (10, 784) in [-1, 1]."""
    _, (x_test, y_test) = load_mnist()
    images = x_test[:200].reshape(-1, 784).astype(np.float32) / 127.5 - 1.0
    predicted = metrics.classify(images)[1].argmax(axis=1)
    return np.stack([images[np.flatnonzero((y_test[:200] == d) & (predicted == d))[0]] for d in range(10)])


def lookup_generator(table):
    """A 'generator' that draws row ``labels`` of ``table`` (10, 784) whatever the noise: G([z, y]) -> (N, 28, 28, 1)."""
    noise, y = keras.Input((models.NOISE_DIM,)), models.label_input()
    lookup = layers.Embedding(len(table), 784, trainable=False)
    images = layers.Reshape((28, 28, 1))(lookup(y))
    model = keras.Model([noise, y], images)
    lookup.set_weights([table])
    return model


@pytest.fixture(scope="module")
def digits():
    return well_classified_digits()


def test_a_generator_that_draws_what_it_is_asked_agrees_fully(digits):
    agreement = metrics.class_agreement(lookup_generator(digits), num_samples=200)
    assert agreement.overall == 1.0 and agreement.per_class == [1.0] * 10
    np.testing.assert_array_equal(agreement.confusion, 20 * np.eye(10, dtype=int))
    assert agreement.num_samples == 200 and "class agreement 100.0%" in str(agreement)


def test_agreement_per_class_and_confusion_show_which_label_is_drawn_wrong(digits):
    table = digits.copy()
    table[3] = digits[8]  # asked for a 3, it draws an 8
    agreement = metrics.class_agreement(lookup_generator(table), num_samples=100)
    assert agreement.overall == pytest.approx(0.9)
    assert agreement.per_class[3] == 0.0 and agreement.worst_class == 3
    assert agreement.confusion[3, 8] == 10 and agreement.confusion.sum() == 100
    assert agreement.as_logs() == {"class_agreement": pytest.approx(0.9), "worst_class_agreement": 0.0}
    shifted = metrics.class_agreement(lookup_generator(np.roll(digits, 1, axis=0)), num_samples=100)
    assert shifted.overall == 0.0


class Record(layers.Layer):
    """Passes its input on and keeps a copy (the model runs eagerly in the metrics)."""

    def __init__(self, keep, **kwargs):
        super().__init__(**kwargs)
        self.keep = keep

    def call(self, inputs):
        if tf.executing_eagerly():
            self.keep(inputs.numpy())
        return inputs

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, inputs.dtype)


def test_class_agreement_draws_balanced_labels_with_the_seeded_noise(digits):
    noises, drawn = [], []
    noise, y = keras.Input((models.NOISE_DIM,)), models.label_input()
    lookup = layers.Embedding(10, 784)
    images = layers.Reshape((28, 28, 1))(lookup(Record(drawn.append)(y)))
    ignore_noise = layers.Dense(784, use_bias=False, kernel_initializer="zeros")
    G = keras.Model([noise, y], layers.Add()([images, layers.Reshape((28, 28, 1))(ignore_noise(Record(noises.append)(noise)))]))
    lookup.set_weights([digits])
    noises.clear(), drawn.clear()
    assert metrics.class_agreement(G, num_samples=30, num_classes=3, seed=5).overall == 1.0
    np.testing.assert_array_equal(np.concatenate(drawn), np.arange(30) % 3)
    first = np.concatenate(noises)
    assert first.shape == (30, models.NOISE_DIM) and np.all(np.abs(first) <= 1.0)
    noises.clear()
    metrics.class_agreement(G, num_samples=30, num_classes=3, seed=5)
    np.testing.assert_array_equal(first, np.concatenate(noises))


def test_class_agreement_refuses_what_it_cannot_score(digits):
    with pytest.raises(ValueError, match="conditional generator"):
        metrics.class_agreement(models.dc_generator())
    G = lookup_generator(digits)
    with pytest.raises(ValueError, match="num_classes must be an integer from 1 to 10"):
        metrics.class_agreement(G, num_classes=11)
    with pytest.raises(ValueError, match="at least num_classes"):
        metrics.class_agreement(G, num_samples=5)


def test_class_agreement_scores_at_most_the_quick_cap_in_quick_mode(digits, monkeypatch):
    monkeypatch.setenv(settings.QUICK_ENV, "1")
    assert metrics.class_agreement(lookup_generator(digits), num_samples=5000).num_samples == settings.QUICK_MAX_SCORED


def test_generate_and_evaluate_a_conditional_generator(digits):
    G = lookup_generator(digits)
    images = metrics.generate(G, 25)
    assert images.shape == (25, 28, 28, 1)
    np.testing.assert_allclose(images[12].reshape(784), digits[2])  # labels 0, 1, ..., 9, 0, 1, ...
    chosen = metrics.generate(G, 3, labels=[7, 7, 1])
    np.testing.assert_allclose(chosen.reshape(3, 784), digits[[7, 7, 1]])
    with pytest.raises(ValueError, match=r"one per sample"):
        metrics.generate(G, 3, labels=[7, 1])
    assert metrics.evaluate_generator(G, 200).digits_covered == 10


# ---------------------------------------------------------------- exploring a conditional generator


@pytest.fixture(scope="module")
def generator():
    G = models.conditional_generator()
    for index, weight in enumerate(G.weights):  # weights that make every label look different
        if weight.name == "embeddings":
            weight.assign(np.random.default_rng(index).normal(0, 1, weight.shape))
    return G


def test_same_noise_images_draw_every_class_from_each_noise_vector(generator):
    z = np.random.default_rng(0).uniform(-1, 1, (2, models.NOISE_DIM)).astype(np.float32)
    images = widgets.same_noise_images(generator, z)
    assert images.shape == (2, 10, 28, 28, 1)
    np.testing.assert_allclose(images[1, 4], generator([tf.constant(z[1:]), labels(4)], training=False)[0], atol=1e-6)
    np.testing.assert_allclose(models.generate(generator, z, 4), images[:, 4], atol=1e-6)  # one label for all
    with pytest.raises(ValueError, match="conditional generator"):
        widgets.same_noise_images(models.dc_generator(), z)


def test_class_interpolation_runs_from_one_class_to_the_other_with_the_noise_fixed(generator, tmp_path):
    z = np.random.default_rng(1).uniform(-1, 1, (3, models.NOISE_DIM)).astype(np.float32)
    frames = widgets.class_interpolation_images(generator, z, 2, 6, [0.0, 0.5, 1.0])
    assert frames.shape == (3, 3, 28, 28, 1)
    np.testing.assert_allclose(frames[0], models.generate(generator, z, 2), atol=1e-5)
    np.testing.assert_allclose(frames[2], models.generate(generator, z, 6), atol=1e-5)
    table = generator.get_layer("label_embedding").embeddings.numpy()
    body = generator.layers[-1]
    midway = body(np.concatenate([z, np.repeat((table[2:3] + table[6:7]) / 2, 3, axis=0)], axis=1), training=False)
    np.testing.assert_allclose(frames[1], midway, atol=1e-5)
    generator.save(tmp_path / "still_saves.keras")  # the copy that drew the frames left G as it was
    assert len(generator.layers) == 5 and generator.get_layer("label_embedding").input_dim == 10


def test_class_interpolation_also_mixes_one_hot_labels():
    noise, y = keras.Input((4,)), models.label_input()
    code = layers.CategoryEncoding(3, output_mode="one_hot")(y)
    G = keras.Model([noise, y], layers.Dense(5)(layers.Concatenate()([noise, code])))
    z = np.zeros((1, 4), np.float32)
    frames = widgets.class_interpolation_images(G, z, 0, 2, [0.25])
    kernel, bias = G.layers[-1].get_weights()
    np.testing.assert_allclose(frames[0, 0], kernel[4] * 0.75 + kernel[6] * 0.25 + bias, atol=1e-6)


def test_class_interpolation_says_when_it_cannot_find_the_label_vector():
    noise, y = keras.Input((4,)), models.label_input()
    G = keras.Model([noise, y], layers.Dense(2)(noise))
    with pytest.raises(ValueError, match="turns the labels into a vector"):
        widgets.class_interpolation_images(G, np.zeros((1, 4)), 0, 1, [0.5])


def test_explorer_sliders_pick_the_class_and_the_noise(generator):
    view = widgets.ConditionalExplorer(generator, digit=3, seed=2)
    assert (view.digit.max, view.noise.value) == (9, 2)
    first, row = view.image.value, view.row.value
    view.digit.value = 8
    assert view.image.value != first and view.row.value == row and "8]" in view.label.value
    view.noise.value = 5
    assert view.row.value != row and "noise #5" in view.label.value


def test_explorer_without_widgets_draws_a_static_grid(generator, monkeypatch):
    drawn = []
    monkeypatch.setattr(widgets.viz, "show_images", lambda images, **kwargs: drawn.append((images, kwargs)))
    assert not widgets.widget_frontend()
    widgets.conditional_explorer(generator, seed=4, static_rows=2)
    [(images, kwargs)] = drawn
    assert images.shape == (20, 28, 28, 1) and kwargs["ncols"] == 10
    np.testing.assert_allclose(images[:10], widgets.same_noise_images(generator, sample_noise(1, 96, seed=4))[0],
                               atol=1e-6)


def test_run_a_gan_trains_the_conditional_cifar_models():
    """(The MNIST ones train in notebook 12, which the test suite runs.)"""
    from gan_helpers import losses, training

    make_g, make_d, image_shape, _ = BUILDERS["cifar"]
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (64, *image_shape)).astype(np.float32)
    classes = rng.integers(0, 10, 64).astype(np.int32)
    D, G, D_solver, G_solver = training.build_gan(make_d, make_g)
    before = [weight.numpy().copy() for weight in D.trainable_weights + G.trainable_weights]
    history = training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                                 batch_size=32, num_epochs=1, dataset=(images, classes), seed=0, verbose=False,
                                 show_every=1)
    assert history.steps_done == 2 and history.stopped == "completed"
    after = D.trainable_weights + G.trainable_weights
    assert all(not np.array_equal(old, new.numpy()) for old, new in zip(before, after))
    assert history.samples[-1][1].shape == (16, *image_shape)
