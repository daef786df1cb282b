"""run_a_gan's options for the later notebooks, each shown doing what it says on tiny models.

Several critic updates per generator update (``d_steps``), a penalty added to the
discriminator's loss (``discriminator_penalty``), conditional GANs (labels into both
models), the moving average of G's weights (``ema``), augmentation of what D sees
(``augment``), and the optimizers' new settings (``get_solvers``: ``beta2`` and a
learning rate per network). The models are a few hundred weights each, so that every
test trains for real in seconds.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_helpers import load_mnist, losses, settings
from gan_helpers.training import build_gan, get_solvers, run_a_gan

NOISE = 4
SIDE = 4  # images are SIDE x SIDE x 1
CLASSES = 3


def tiny_discriminator():
    return keras.Sequential([keras.Input(shape=(SIDE, SIDE, 1)), layers.Conv2D(4, 3, strides=2, padding="same"),
                             layers.LeakyReLU(negative_slope=0.2), layers.Flatten(), layers.Dense(1)])


def tiny_generator(batch_norm=False):
    hidden = [layers.Dense(8), layers.BatchNormalization(), layers.ReLU()] if batch_norm else \
        [layers.Dense(8, activation="relu")]
    return keras.Sequential([keras.Input(shape=(NOISE,)), *hidden, layers.Dense(SIDE * SIDE, activation="tanh"),
                             layers.Reshape((SIDE, SIDE, 1))])


def tiny_gan(seed=0, batch_norm=False, **solver_settings):
    keras.utils.set_random_seed(seed)
    return (tiny_discriminator(), tiny_generator(batch_norm), *get_solvers(**solver_settings))


def images(count, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(count, SIDE, SIDE, 1)).astype(np.float32)


def weights(model):
    return [np.array(w) for w in model.get_weights()]


def train(parts, dataset, **options):
    settings_ = {"batch_size": 4, "num_epochs": 1, "print_every": 1, "show_every": 10**6, "noise_size": NOISE,
                 "seed": 0, "verbose": False, **options}
    return run_a_gan(*parts, options.pop("d_loss", losses.discriminator_loss),
                     options.pop("g_loss", losses.generator_loss), dataset=dataset,
                     **{k: v for k, v in settings_.items() if k not in ("d_loss", "g_loss")})


class Weights(keras.callbacks.Callback):
    """G's and D's weights (all of them) before training and after every step applied."""

    def on_train_begin(self, logs=None):
        self.G = [weights(self.model.G)]
        self.D = [weights(self.model.D)]

    def on_train_batch_end(self, batch, logs=None):
        if self.model.history.steps_done == len(self.G) + self.params["start_step"]:
            self.G.append(weights(self.model.G))
            self.D.append(weights(self.model.D))


class Recorder:
    """Graph-side records of what a penalty or augment saw: the batch sizes in call order, and a tally."""

    def __init__(self, size=64):
        self.calls = tf.Variable(0, trainable=False)
        self.sizes = tf.Variable(tf.fill([size], -1), trainable=False)
        self.tally = tf.Variable(tf.zeros([size]), trainable=False)

    def record(self, batch, ids=None):
        self.sizes.scatter_nd_update([[self.calls]], [tf.shape(batch)[0]])
        self.calls.assign_add(1)
        if ids is not None:
            self.tally.scatter_nd_add(ids[:, None], tf.ones_like(ids, tf.float32))

    def batch_sizes(self):
        return [int(size) for size in self.sizes.numpy()[: int(self.calls.numpy())]]


# ----------------------------------------------------------------------------
# Several critic updates per generator update
# ----------------------------------------------------------------------------


def numbered_images(count):
    """Image k is filled with (k + 1) / 64: the penalty below reads which images a critic update took."""
    return np.broadcast_to(((np.arange(count) + 1) / 64.0).astype(np.float32)[:, None, None, None],
                           (count, SIDE, SIDE, 1)).copy()


def reading_penalty(recorder):
    def penalty(D, real, fake):
        ids = tf.cast(tf.round(real[:, 0, 0, 0] * 64.0), tf.int32) - 1
        recorder.record(real, ids)
        return tf.constant(0.0)

    return penalty


def test_d_steps_gives_each_critic_update_its_own_batch_and_counts_generator_steps():
    parts = tiny_gan()
    recorder = Recorder()
    # 22 images in batches of 4: 4, 4, 4, 4, 4, 2; with 4 critic updates per step: two steps an epoch,
    # the second with two batches (the last one short).
    history = train(parts, numbered_images(22), d_steps=4, num_epochs=2, discriminator_penalty=reading_penalty(recorder))
    D, G, D_solver, G_solver = parts
    assert history.steps_done == len(history.d_loss) == len(history.g_loss) == 4 and history.epochs_done == 2
    assert int(G_solver.iterations.numpy()) == 4
    assert int(D_solver.iterations.numpy()) == 12  # one per real batch, none for a step's missing batches
    assert recorder.batch_sizes() == [4, 4, 4, 4, 4, 2] * 2  # a missing batch is no update at all
    assert recorder.tally.numpy()[:22].tolist() == [2.0] * 22  # every image once an epoch
    assert np.all(np.isfinite(history.d_loss + history.g_loss))


# ----------------------------------------------------------------------------
# A penalty on the discriminator
# ----------------------------------------------------------------------------


PENALTY_DATA = images(8)  # one batch: a step's penalty is the penalty on all images, in any order


@pytest.fixture(scope="module")
def without_penalty():
    recorder = Weights()
    return train(tiny_gan(seed=1), PENALTY_DATA, batch_size=8, num_epochs=3, callbacks=[recorder]), recorder


def test_a_constant_penalty_shifts_the_discriminator_loss_and_nothing_else(without_penalty):
    plain, _ = without_penalty
    shifted = train(tiny_gan(seed=1), PENALTY_DATA, batch_size=8, num_epochs=3,
                    discriminator_penalty=lambda D, real, fake: tf.constant(0.25))
    assert plain.penalty == [] and shifted.penalty == [0.25] * 3
    np.testing.assert_allclose(np.array(shifted.d_loss) - 0.25, plain.d_loss, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(shifted.g_loss, plain.g_loss, rtol=1e-6)


def gradient_norm_penalty(D, real, fake):
    """10 * mean((||grad_x D(x)|| - 1)^2) at the real images: a gradient penalty without randomness."""
    with tf.GradientTape() as tape:
        tape.watch(real)
        scores = D(real)
    norms = tf.sqrt(tf.reduce_sum(tf.square(tape.gradient(scores, real)), axis=[1, 2, 3]) + 1e-12)
    return 10.0 * tf.reduce_mean(tf.square(norms - 1.0))


def test_a_gradient_penalty_trains_through_the_critics_gradient(without_penalty):
    plain, plain_weights = without_penalty
    parts = tiny_gan(seed=1)
    expected = float(gradient_norm_penalty(parts[0], tf.constant(PENALTY_DATA), None))
    recorder = Weights()
    history = train(parts, PENALTY_DATA, batch_size=8, num_epochs=3, discriminator_penalty=gradient_norm_penalty,
                    callbacks=[recorder])
    assert history.penalty[0] == pytest.approx(expected, rel=1e-5)
    assert history.d_loss[0] - history.penalty[0] == pytest.approx(plain.d_loss[0], rel=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(recorder.D[0], plain_weights.D[0]))
    assert not np.allclose(recorder.D[1][0], plain_weights.D[1][0])  # the penalty changed D's update
    assert np.all(np.isfinite(history.d_loss + history.penalty))


def nan_after(calls_before_nan):
    calls = tf.Variable(0, trainable=False)

    def penalty(D, real, fake):
        calls.assign_add(1)
        return tf.where(calls > calls_before_nan, tf.constant(np.nan, tf.float32), 0.0)

    return penalty


def test_a_non_finite_critic_update_undoes_the_whole_step():
    parts = tiny_gan()
    D, G, D_solver, G_solver = parts
    recorder = Weights()
    history = train(parts, images(40), d_steps=2, num_epochs=2, discriminator_penalty=nan_after(3),
                    callbacks=[recorder])
    # Step 2's second critic update is not finite: its first update is undone too, and G keeps its weights.
    assert history.stopped == "nan" and history.steps_done == 1
    assert "step 2" in history.message and "discriminator loss is nan" in history.message
    assert int(D_solver.iterations.numpy()) == 2 and int(G_solver.iterations.numpy()) == 1
    for now, then in ((weights(D), recorder.D[1]), (weights(G), recorder.G[1])):
        assert all(np.array_equal(a, b) for a, b in zip(now, then))


# ----------------------------------------------------------------------------
# Conditional GANs
# ----------------------------------------------------------------------------


class LabelTally(layers.Layer):
    """Counts, per class, the real and the fake images a conditional D scores, and label mismatches.

    Real images carry their class c as the value (c + 1) / 8, fakes (from LabelledGenerator) as
    -(c + 1) / 8, so the layer can tell both kinds and their class apart.
    """

    def build(self, input_shape):
        self.real = self.add_weight(shape=(CLASSES,), initializer="zeros", trainable=False, name="real")
        self.fake = self.add_weight(shape=(CLASSES,), initializer="zeros", trainable=False, name="fake")
        self.mismatches = self.add_weight(shape=(), initializer="zeros", trainable=False, name="mismatches")

    def call(self, images, labels):
        value = images[:, 0, 0, 0]
        shown = tf.cast(tf.round(tf.abs(value) * 8.0), tf.int32) - 1
        self.mismatches.assign_add(tf.reduce_sum(tf.cast(shown != labels, tf.float32)))
        real = tf.cast(value > 0, tf.float32)
        one_hot = tf.one_hot(labels, CLASSES)
        self.real.assign_add(tf.reduce_sum(one_hot * real[:, None], axis=0))
        self.fake.assign_add(tf.reduce_sum(one_hot * (1.0 - real[:, None]), axis=0))
        return images


def labelled_discriminator():
    image = keras.Input(shape=(SIDE, SIDE, 1))
    label = keras.Input(shape=(), dtype="int32")
    seen = LabelTally()(image, label)
    features = layers.Dense(8, activation="relu")(layers.Flatten()(seen))
    projection = layers.Dot(axes=1)([layers.Embedding(CLASSES, 8)(label), features])
    return keras.Model([image, label], layers.Add()([layers.Dense(1)(features), projection]))


class ClassImage(layers.Layer):
    """-(label + 1) / 8 everywhere, plus 0 x what the noise makes (so that G has gradients)."""

    def call(self, made, labels):
        marks = -(tf.cast(labels, tf.float32) + 1.0) / 8.0
        return tf.reshape(marks, (-1, 1, 1, 1)) + 0.0 * made


def labelled_generator(embedding=True):
    noise = keras.Input(shape=(NOISE,))
    label = keras.Input(shape=(), dtype="int32")
    inputs = [noise, layers.Flatten()(layers.Embedding(CLASSES, 2)(label))] if embedding else [noise]
    made = layers.Reshape((SIDE, SIDE, 1))(layers.Dense(SIDE * SIDE)(layers.Concatenate()(inputs) if embedding
                                                                     else noise))
    return keras.Model([noise, label], ClassImage()(made, label))


def labelled_images(labels):
    labels = np.asarray(labels, np.int32)
    values = ((labels + 1) / 8.0).astype(np.float32)
    return np.broadcast_to(values[:, None, None, None], (len(labels), SIDE, SIDE, 1)).copy(), labels


def conditional_gan(seed=0, embedding=True):
    keras.utils.set_random_seed(seed)
    return labelled_discriminator(), labelled_generator(embedding), *get_solvers()


def tally(D):
    layer = next(layer for layer in D.layers if isinstance(layer, LabelTally))
    return layer.real.numpy(), layer.fake.numpy(), float(layer.mismatches.numpy())


class ZeroCounts(keras.callbacks.Callback):
    """Sets the counting layers' counts to zero when training begins (run_a_gan scores a few fakes to check D)."""

    def on_train_begin(self, logs=None):
        for variable in self.model.D.non_trainable_variables:
            variable.assign(tf.zeros_like(variable))


@pytest.mark.parametrize("d_steps", [1, 2])
def test_a_conditional_gan_sees_each_image_with_its_label_and_fakes_of_the_same_classes(d_steps):
    labels = [0] * 12 + [1] * 6 + [2] * 2  # uneven classes; 5 batches of 4
    # With d_steps=2, G has no Embedding layer: the number of classes comes from D's.
    D, G, D_solver, G_solver = parts = conditional_gan(embedding=d_steps == 1)
    history = train(parts, labelled_images(labels), d_steps=d_steps, num_epochs=2, callbacks=[ZeroCounts()],
                    show_every=3)
    real, fake, mismatches = tally(D)
    assert mismatches == 0  # every image reached D with its own label, real and fake
    assert real.tolist() == [24.0, 12.0, 4.0]  # each real image once per epoch
    # The critic updates' fakes have their real batch's labels; the generator update's
    # those of its step's first batch (with d_steps=1, the same batch again).
    if d_steps == 1:
        assert history.steps_done == 10
        assert fake.tolist() == [48.0, 24.0, 8.0]
    else:
        assert history.steps_done == 6  # 3 steps an epoch: 2 + 2 + 1 batches
        assert fake.sum() == 40 + 6 * 4 and np.all(fake >= real)
    assert np.all(np.isfinite(history.d_loss + history.g_loss))
    # Sample grids show the classes in turn.
    assert [step for step, _ in history.samples] == [0, 3, 6] + ([9, 10] if d_steps == 1 else [])
    for _, grid in history.samples:
        assert grid.shape == (16, SIDE, SIDE, 1)
        np.testing.assert_allclose(grid[:, 0, 0, 0], -(np.arange(16) % CLASSES + 1) / 8.0, rtol=1e-6)


class LabelCount(layers.Layer):
    """Counts the labels of every batch D scores."""

    def build(self, input_shape):
        self.counts = self.add_weight(shape=(10,), initializer="zeros", trainable=False, name="counts")

    def call(self, images, labels):
        self.counts.assign_add(tf.reduce_sum(tf.one_hot(labels, 10), axis=0))
        return images


def test_a_conditional_gan_on_mnist_trains_on_mnist_labels():
    keras.utils.set_random_seed(0)
    image, label = keras.Input(shape=(784,)), keras.Input(shape=(), dtype="int32")
    count = LabelCount()
    D = keras.Model([image, label], layers.Dense(1)(count(image, label)))
    noise, g_label = keras.Input(shape=(NOISE,)), keras.Input(shape=(), dtype="int32")
    made = layers.Concatenate()([noise, layers.Flatten()(layers.Embedding(10, 2)(g_label))])
    G = keras.Model([noise, g_label], layers.Dense(784, activation="tanh")(made))
    (_, mnist_labels), _ = load_mnist()
    used = mnist_labels[: settings.quick_limit(len(mnist_labels))]
    batch = max(256, -(-len(used) // 16))  # one epoch in at most 16 steps, under quick mode's cap
    history = run_a_gan(D, G, *get_solvers(), losses.discriminator_loss, losses.generator_loss, batch_size=batch,
                        num_epochs=1, noise_size=NOISE, seed=0, verbose=False, show_every=10**6,
                        callbacks=[ZeroCounts()])
    assert history.stopped == "completed" and history.steps_done == -(-len(used) // batch)
    # Each step: the real batch's labels, the fakes' (the same), the generator update's (the same again).
    np.testing.assert_array_equal(count.counts.numpy(), 3 * np.bincount(used, minlength=10))
    assert history.samples[-1][1].shape == (16, 784)


def test_the_number_of_classes_is_checked_against_the_labels_and_the_models():
    data = labelled_images([0, 1, 2, 1] * 2)
    with pytest.raises(ValueError, match="num_classes=5, but the models were built for 3 classes"):
        train(conditional_gan(), data, num_classes=5)
    with pytest.raises(ValueError, match="labels go up to 2, but the models have 2 classes"):
        train(conditional_gan(), data, num_classes=2)
    with pytest.raises(ValueError, match=r"needs the labels too: dataset=\(images, labels\)"):
        train(conditional_gan(), data[0])
    with pytest.raises(ValueError, match=r"must yield \(images, labels\)"):
        train(conditional_gan(), tf.data.Dataset.from_tensor_slices(data[0]).batch(4))
    D, G, D_solver, G_solver = conditional_gan()
    with pytest.raises(ValueError, match="G takes two inputs .* but D takes one"):
        train((tiny_discriminator(), G, D_solver, G_solver), data)
    with pytest.raises(ValueError, match="num_classes=3 is for a conditional GAN"):
        train(tiny_gan(), images(8), num_classes=3)


def test_a_conditional_gan_trains_from_a_tf_data_pipeline_of_uneven_batches_with_d_steps():
    x, y = labelled_images([2, 0, 1, 1, 0, 2, 2, 1, 0, 2])
    pipeline = tf.data.Dataset.from_tensor_slices((x, y.reshape(-1, 1).astype(np.int64))).batch(3)  # 3, 3, 3, 1
    D, G, D_solver, G_solver = parts = conditional_gan()
    history = train(parts, pipeline, d_steps=3, callbacks=[ZeroCounts()])
    real, fake, mismatches = tally(D)
    assert history.steps_done == 2 and int(G_solver.iterations.numpy()) == 2
    assert int(D_solver.iterations.numpy()) == 4  # one per batch, none for the second step's missing two
    assert mismatches == 0 and real.tolist() == [3.0, 3.0, 4.0]
    assert fake.sum() == 10 + 3 + 1  # the generator update of each step: its first batch's labels


# ----------------------------------------------------------------------------
# The moving average of G's weights
# ----------------------------------------------------------------------------


EMA_DATA = images(24)


@pytest.fixture(scope="module")
def averaged():
    """Two epochs of 6 steps with ema=0.5 and batch norm in G; G's weights after every step."""
    parts = tiny_gan(seed=3, batch_norm=True)
    recorder = Weights()
    history = train(parts, EMA_DATA, num_epochs=2, ema=0.5, callbacks=[recorder], show_every=4)
    return history, recorder, parts[1]


def test_ema_is_the_exponential_average_of_gs_weights_after_every_step(averaged):
    history, recorder, G = averaged
    average = recorder.G[0]  # starts at G's weights when the call starts
    for steps_done, after_step in enumerate(recorder.G[1:]):
        decay = min(0.5, (1 + steps_done) / (10 + steps_done))  # warming up for the first 8 updates
        average = [decay * a + (1 - decay) * w for a, w in zip(average, after_step)]
    assert len(recorder.G) == 13
    ema_weights = weights(history.ema_generator)
    assert len(ema_weights) == len(G.weights) == 8  # batch norm's moving statistics included
    for got, want in zip(ema_weights, average):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ema_weights[0], weights(G)[0])
    # The sample grids come from the average.
    noise = tf.random.stateless_uniform((16, NOISE), seed=(0, 7), minval=-1.0, maxval=1.0)
    np.testing.assert_allclose(history.samples[-1][1], history.ema_generator(noise, training=False), rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(history.samples[-1][1], G(noise, training=False))


class Logs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.entries = []

    def on_train_batch_end(self, batch, logs=None):
        self.entries.append(logs)


def test_the_penalty_stays_aligned_with_the_steps_when_a_resumed_run_adds_or_drops_it(tmp_path):
    def penalty(D, real, fake):
        return tf.constant(0.5)

    first = train(tiny_gan(), images(8), num_epochs=1, checkpoint_dir=tmp_path)
    assert first.steps_done == 2 and first.penalty == []
    added = train(tiny_gan(), images(8), num_epochs=2, discriminator_penalty=penalty, checkpoint_dir=tmp_path)
    assert len(added.penalty) == len(added.d_loss) == 4
    assert np.isnan(added.penalty[:2]).all() and added.penalty[2:] == [0.5, 0.5]
    logs = Logs()
    dropped = train(tiny_gan(), images(8), num_epochs=3, checkpoint_dir=tmp_path, callbacks=[logs])
    assert len(dropped.penalty) == len(dropped.d_loss) == 6 and np.isnan(dropped.penalty[4:]).all()
    assert all("penalty" not in entry for entry in logs.entries)


def test_numpy_numbers_are_taken_and_recorded_in_checkpoints(tmp_path):
    history = train(tiny_gan(), images(8), num_epochs=np.int64(1), batch_size=np.int64(4), d_steps=np.int64(2),
                    ema=np.float32(0.5), checkpoint_dir=tmp_path)
    assert history.steps_done == 1 and history.ema_generator is not None
    resumed = train(tiny_gan(), images(8), num_epochs=2, batch_size=4, d_steps=2, ema=0.5, checkpoint_dir=tmp_path)
    assert resumed.steps_done == 2


def test_ema_is_checkpointed_and_a_resumed_run_averages_on(averaged, tmp_path):
    straight = averaged[0]
    first = train(tiny_gan(seed=3, batch_norm=True), EMA_DATA, num_epochs=1, ema=0.5, checkpoint_dir=tmp_path)
    assert first.epochs_done == 1
    resumed = train(tiny_gan(seed=99, batch_norm=True), EMA_DATA, num_epochs=2, ema=0.5, checkpoint_dir=tmp_path)
    assert resumed.steps_done == 12
    for a, b in zip(weights(resumed.ema_generator), weights(straight.ema_generator)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Nothing left to train: the average is restored all the same.
    done = train(tiny_gan(seed=98, batch_norm=True), EMA_DATA, num_epochs=2, ema=0.5, checkpoint_dir=tmp_path)
    for a, b in zip(weights(done.ema_generator), weights(straight.ema_generator)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="trained with ema=0.5, not None"):
        train(tiny_gan(batch_norm=True), EMA_DATA, num_epochs=3, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="trained with d_steps=1, not 2"):
        train(tiny_gan(batch_norm=True), EMA_DATA, num_epochs=3, ema=0.5, d_steps=2, checkpoint_dir=tmp_path)


# ----------------------------------------------------------------------------
# Augmenting what D sees
# ----------------------------------------------------------------------------


def grey_out(counter):
    def augment(images):  # every image becomes the same mid-grey: D cannot tell real from fake
        counter.assign_add(tf.shape(images)[0])
        return images * 0.0 + 0.5

    return augment


def softplus(x):
    return float(np.logaddexp(0.0, x))


def test_augment_reaches_real_and_fake_images_in_both_updates():
    parts = tiny_gan(seed=5)
    recorder = Weights()
    counter = tf.Variable(0, trainable=False)
    history = train(parts, images(8), augment=grey_out(counter), callbacks=[recorder])
    scores = []
    for D_weights in recorder.D[:2]:
        D = tiny_discriminator()
        D.set_weights(D_weights)
        scores.append(float(D(tf.fill((1, SIDE, SIDE, 1), 0.5))[0, 0]))
    # The discriminator update scored grey for the real and for the fake images, with D as it was ...
    assert history.d_loss[0] == pytest.approx(softplus(-scores[0]) + softplus(scores[0]), rel=1e-5)
    # ... and the generator update grey fakes, with D as updated.
    assert history.g_loss[0] == pytest.approx(softplus(-scores[1]), rel=1e-5)
    assert int(counter.numpy()) == 3 * 8  # 2 steps of 4: real and fake, then fake again


def test_augment_with_several_critic_updates_a_penalty_and_quick_mode(monkeypatch):
    monkeypatch.setattr(settings, "quick_mode", lambda: True)
    monkeypatch.setattr(settings, "QUICK_MAX_STEPS", 2)
    counter = tf.Variable(0, trainable=False)
    seen_by_penalty = tf.Variable(0.0, trainable=False)

    def penalty(D, real, fake):
        seen_by_penalty.assign_add(tf.reduce_sum(tf.abs(real - 0.5)) + tf.reduce_sum(tf.abs(fake - 0.5)))
        return tf.constant(0.0)

    D, G, D_solver, G_solver = parts = tiny_gan()
    history = train(parts, images(24), d_steps=2, num_epochs=5, augment=grey_out(counter),
                    discriminator_penalty=penalty)
    # Quick mode's cap counts generator steps: 2 of them, each with two critic updates.
    assert history.steps_done == 2 and int(G_solver.iterations.numpy()) == 2
    assert int(D_solver.iterations.numpy()) == 4
    assert int(counter.numpy()) == 2 * (2 * 2 + 1) * 4  # real and fake in each critic update, fake in G's
    assert float(seen_by_penalty.numpy()) == 0.0  # the penalty got the augmented images


# ----------------------------------------------------------------------------
# Optimizers and bad options
# ----------------------------------------------------------------------------


def test_get_solvers_takes_a_learning_rate_per_network_and_beta2():
    D_solver, G_solver = get_solvers(2e-4, 0.0, beta2=0.9, d_learning_rate=4e-4, g_learning_rate=1e-4)
    assert float(D_solver.learning_rate) == pytest.approx(4e-4) and float(G_solver.learning_rate) == pytest.approx(1e-4)
    assert (D_solver.beta_1, D_solver.beta_2, G_solver.beta_1, G_solver.beta_2) == (0.0, 0.9, 0.0, 0.9)
    D_solver, G_solver = get_solvers(3e-4, g_learning_rate=1e-4)
    assert float(D_solver.learning_rate) == pytest.approx(3e-4) and float(G_solver.learning_rate) == pytest.approx(1e-4)
    assert D_solver.beta_2 == 0.999
    *_, D_solver, G_solver = build_gan(tiny_discriminator, tiny_generator, beta2=0.9, d_learning_rate=4e-4,
                                       g_learning_rate=1e-4)
    assert float(D_solver.learning_rate) == pytest.approx(4e-4) and float(G_solver.learning_rate) == pytest.approx(1e-4)
    assert D_solver.beta_2 == G_solver.beta_2 == 0.9


@pytest.mark.parametrize("options, error, words", [
    ({"d_steps": 0}, ValueError, "d_steps must be an integer >= 1"),
    ({"ema": 1.0}, ValueError, "ema must be None or a decay between 0 and 1"),
    ({"ema": True}, ValueError, "ema must be None"),
    ({"augment": "diffaugment"}, TypeError, "augment must be a function"),
    ({"discriminator_penalty": 10.0}, TypeError, "discriminator_penalty must be a function"),
    ({"discriminator_penalty": lambda real, fake: 0.0}, TypeError, "must take three arguments"),
    ({"discriminator_penalty": lambda D, real, fake: tf.zeros(3)}, ValueError, "must return one number"),
    ({"num_classes": 1}, ValueError, "num_classes must be None or an integer >= 2"),
])
def test_bad_options_get_a_clear_error(options, error, words):
    with pytest.raises(error, match=words):
        train(tiny_gan(), images(8), **options)


# ----------------------------------------------------------------------------
# The order of the data, and mixed precision
# ----------------------------------------------------------------------------


class Sequence:
    """Graph-side record of the ids of the real images, in the order the critic updates take them."""

    def __init__(self, size):
        self.seen = tf.Variable(0, trainable=False)
        self.ids = tf.Variable(tf.fill([size], -1), trainable=False)

    def penalty(self, D, real, fake):
        ids = tf.cast(tf.round(real[:, 0, 0, 0] * 64.0), tf.int32) - 1
        count = tf.shape(ids)[0]
        self.ids.scatter_nd_update(tf.range(self.seen, self.seen + count)[:, None], ids)
        self.seen.assign_add(count)
        return tf.constant(0.0)

    def epochs(self, count):
        return self.ids.numpy().reshape(-1, count).tolist()


def order_of_the_data(seed, count=12, epochs=3):
    sequence = Sequence(count * epochs)
    train(tiny_gan(), numbered_images(count), num_epochs=epochs, seed=seed, discriminator_penalty=sequence.penalty)
    return sequence.epochs(count)


def test_every_epoch_reshuffles_the_data_in_an_order_its_seed_fixes():
    first = order_of_the_data(seed=0)
    assert all(sorted(epoch) == list(range(12)) for epoch in first)  # every image once an epoch
    assert len({tuple(epoch) for epoch in first}) == 3  # a new order every epoch
    assert order_of_the_data(seed=0) == first  # the seed fixes it
    assert order_of_the_data(seed=1) != first


def test_mixed_precision_trains_on_a_cpu_with_loss_scaling():
    keras.utils.set_random_seed(0)
    D, G, D_solver, G_solver = build_gan(tiny_discriminator, tiny_generator, mixed_precision=True)
    assert D.compute_dtype == G.compute_dtype == "float16" and D.variable_dtype == "float32"
    before = weights(D)

    def tiny_discriminator_loss(logits_real, logits_fake):
        # Its gradients (about 1e-10) are zero in float16 unless the loss is scaled up first.
        return 1e-9 * losses.discriminator_loss(logits_real, logits_fake)

    history = train((D, G, D_solver, G_solver), images(8), num_epochs=2, d_loss=tiny_discriminator_loss)
    assert history.stopped == "completed" and history.steps_done == 4
    assert np.all(np.isfinite(history.d_loss + history.g_loss))
    assert int(D_solver.iterations.numpy()) == int(G_solver.iterations.numpy()) == 4
    assert not all(np.array_equal(a, b) for a, b in zip(before, weights(D))), "the scaled loss trained D"
    assert G(tf.zeros((1, NOISE))).dtype == tf.float16
