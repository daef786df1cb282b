"""The checks of notebook 12's exercises (conditional generator and discriminator): every right design
passes (one-hot or embedding; concatenation or projection), each plausible mistake fails with its hint."""

import keras
import pytest
import tensorflow as tf
from keras import layers

from check_helpers import fails_with, stub
from gan_helpers import checks, models
from gan_helpers.checks import conditional

NOISE = models.NOISE_DIM


def labels_input(shape=()):
    return keras.Input(shape=shape, dtype="int32")


class OneHot(layers.Layer):
    """A learner's one-hot layer (tf.one_hot inside a layer of their own)."""

    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, labels):
        return tf.one_hot(labels, self.depth)


class AsNumber(layers.Layer):
    """The label as a float number, shape (N, 1): the mistake of treating classes as ordered."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, labels):
        return tf.cast(labels, tf.float32)[:, None] * self.scale


class Broadcast(layers.Layer):
    """(N, C) vectors -> (N, size, size, C) constant maps."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, vectors):
        return tf.tile(vectors[:, None, None, :], [1, self.size, self.size, 1])


# ---------------------------------------------------------------- generators


def generator(label_code, *, join=None, body_input=None, labels_shape=(), tanh=True):
    """A conditional generator: ``label_code(labels, num_classes)`` -> the label's vector, joined to the noise."""

    def build(noise_dim=NOISE, num_classes=10):
        noise, labels = keras.Input((noise_dim,)), labels_input(labels_shape)
        code = label_code(labels, num_classes)
        joined = (join or layers.Concatenate())([noise, code])
        size = joined.shape[-1]
        h = joined if body_input is None else body_input(noise, joined)
        h = layers.Dense(7 * 7 * 16)(h)
        h = layers.BatchNormalization()(h)
        h = layers.ReLU()(h)
        h = layers.Reshape((7, 7, 16))(h)
        h = layers.Conv2DTranspose(8, 4, strides=2, padding="same", activation="relu")(h)
        images = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh" if tanh else None)(h)
        del size
        return keras.Model([noise, labels], images)

    return build


def embedding(dim=50):
    return lambda labels, num_classes: layers.Embedding(num_classes, dim)(labels)


def one_hot(labels, num_classes):
    return OneHot(num_classes)(labels)


def test_right_generators_pass(capsys):
    checks.test_conditional_generator(models.conditional_generator)
    checks.test_conditional_generator(generator(embedding(10)))
    checks.test_conditional_generator(generator(one_hot))
    checks.test_conditional_generator(
        generator(lambda labels, n: layers.CategoryEncoding(n, output_mode="one_hot")(labels)))
    checks.test_conditional_generator(
        generator(lambda labels, n: layers.Flatten()(layers.Embedding(n, 16)(labels)), labels_shape=(1,)))

    def reference_body(noise_dim=NOISE, num_classes=10):
        noise, labels = keras.Input((noise_dim,)), labels_input()
        joined = layers.Concatenate()([noise, layers.Embedding(num_classes, 32)(labels)])
        return keras.Model([noise, labels], models.dc_generator(noise_dim + 32)(joined))

    checks.test_conditional_generator(reference_body)
    assert capsys.readouterr().out.count("test_conditional_generator passed") == 6


def test_one_hot_lambda_layers_pass_when_keras_can_infer_their_shape(capsys):
    checks.test_conditional_generator(
        generator(lambda labels, n: layers.Lambda(lambda t: keras.ops.one_hot(t, n))(labels)))
    checks.test_conditional_generator(
        generator(lambda labels, n: layers.Lambda(lambda t: tf.one_hot(t, n), output_shape=(n,))(labels)))
    assert capsys.readouterr().out.count("test_conditional_generator passed") == 2


def test_keras_own_not_implemented_error_is_reported_as_the_error_it_is():
    """A Lambda around tf.one_hot makes Keras raise NotImplementedError: the exercise is written, the layer is wrong."""
    error = fails_with(checks.test_conditional_generator,
                       generator(lambda labels, n: layers.Lambda(lambda t: tf.one_hot(t, n))(labels)),
                       match=r"(?s)your conditional_generator\(\) raised NotImplementedError: We could not "
                             r"automatically infer the shape of the Lambda's output.*"
                             r"In your code: .*layers\.Lambda\(lambda t: tf\.one_hot\(t, n\)\).*"
                             r"Hint: .*output_shape=\(num_classes,\).*keras\.ops\.one_hot")
    assert "not implemented yet" not in str(error)


GENERATOR_MISTAKES = [
    (generator(embedding(), body_input=lambda noise, joined: noise), "the label is ignored"),
    (generator(lambda labels, n: AsNumber()(labels)), "the label enters as a number"),
    (generator(lambda labels, n: AsNumber(1 / 9)(labels)), "the label enters as a number"),
    (generator(embedding(), labels_shape=(1,)), r"(?s)raised.*different ranks: .*Flatten"),
    (generator(embedding(NOISE), join=layers.Concatenate(axis=0)), "joined along the batch axis"),
    (generator(embedding(), join=layers.Concatenate(axis=0)), r"(?s)raised.*Hint: join along the last axis"),
    (generator(embedding(), tanh=False), r"outside \[-1, 1\]"),
    (generator(lambda labels, n: OneHot(10)(labels)), "num_classes=12, your conditional_generator draws labels 10 and 11 the same"),
    (generator(lambda labels, n: layers.Embedding(10, 8)(labels)), r"(?s)num_classes=12.*(Embedding|num_classes)"),
    (lambda noise_dim=NOISE, num_classes=10: models.dc_generator(noise_dim), "takes one input"),
    (lambda noise_dim=NOISE, num_classes=10: None, "returned None"),
    (models.conditional_generator(), "pass the function itself"),
    (stub, r"conditional_generator\(\) is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", GENERATOR_MISTAKES)
def test_generator_mistakes_fail_with_their_hint(wrong, hint):
    fails_with(checks.test_conditional_generator, wrong, match=hint)


class Jitter(layers.Layer):
    """Random noise drawn inside the model, even at inference."""

    def call(self, x):
        return x + tf.random.normal(tf.shape(x))


def test_randomness_inside_the_model_is_caught():
    fails_with(checks.test_conditional_generator,
               generator(embedding(), join=lambda tensors: Jitter()(layers.Concatenate()(tensors))),
               match="different outputs on two calls")


def test_generator_with_a_fixed_noise_size_is_caught():
    def fixed(noise_dim=NOISE, num_classes=10):
        return generator(embedding())(NOISE, num_classes)

    fails_with(checks.test_conditional_generator, fixed, match=r"noise_dim=8.*\n.*noise_dim as the size")


# ---------------------------------------------------------------- discriminators


def features(x, channels=(16, 32)):
    for filters in channels:
        x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    return layers.Flatten()(x)


def projection(code_dim=None, activation=None, labels_shape=()):
    def build(num_classes=10):
        images, labels = keras.Input((28, 28, 1)), labels_input(labels_shape)
        phi = features(images)
        vectors = layers.Embedding(num_classes, code_dim or phi.shape[-1])(labels)
        logits = layers.Add()([layers.Dense(1)(phi), layers.Dot(axes=-1)([vectors, phi])])
        if activation:
            logits = layers.Activation(activation)(logits)
        return keras.Model([images, labels], logits)

    return build


def concatenation(where="image", label_code=one_hot):
    def build(num_classes=10):
        images, labels = keras.Input((28, 28, 1)), labels_input()
        code = label_code(labels, num_classes)
        if where == "image":
            phi = features(layers.Concatenate()([images, Broadcast(28)(code)]))
        else:
            phi = layers.Concatenate()([features(images), code])
            phi = layers.LeakyReLU(negative_slope=0.2)(layers.Dense(64)(phi))
        return keras.Model([images, labels], layers.Dense(1)(phi))

    return build


def test_right_discriminators_pass(capsys):
    checks.test_conditional_discriminator(models.conditional_discriminator)
    checks.test_conditional_discriminator(projection())
    checks.test_conditional_discriminator(concatenation("image"))
    checks.test_conditional_discriminator(concatenation("features"))
    checks.test_conditional_discriminator(concatenation("image", embedding(8)))

    checks.test_conditional_discriminator(multiply_then_dense())
    checks.test_conditional_discriminator(projection(labels_shape=(1,)))  # Dot reduces the (N, 1, d) embedding too
    assert capsys.readouterr().out.count("test_conditional_discriminator passed") == 7


def multiply_then_dense(labels_shape=()):
    """phi(x) and phi(x) * v_y side by side, then Dense(1): a right answer when the embedding is (N, d)."""

    def build(num_classes=10):
        images, labels = keras.Input((28, 28, 1)), labels_input(labels_shape)
        phi = features(images)
        joined = layers.Multiply()([phi, layers.Embedding(num_classes, phi.shape[-1])(labels)])
        return keras.Model([images, labels], layers.Dense(1)(joined))

    return build


def label_bias_only(num_classes=10):
    images, labels = keras.Input((28, 28, 1)), labels_input()
    score = layers.Dense(1)(features(images))
    return keras.Model([images, labels], layers.Add()([score, layers.Embedding(num_classes, 1)(labels)]))


def ignores_label(num_classes=10):
    images, labels = keras.Input((28, 28, 1)), labels_input()
    return keras.Model([images, labels], layers.Dense(1)(features(images)))


DISCRIMINATOR_MISTAKES = [
    (projection(activation="sigmoid"), "a sigmoid on the output"),
    (projection(activation="tanh"), "a tanh on the output"),
    (ignores_label, "the label is ignored"),
    (label_bias_only, "only shifts the score"),
    (concatenation("image", lambda labels, n: AsNumber()(labels)), "the label enters as a number"),
    (concatenation("features", lambda labels, n: AsNumber()(labels)), "the label enters as a number"),
    (multiply_then_dense(labels_shape=(1,)), "one dimension too many.*Flatten"),
    (concatenation("image", lambda labels, n: OneHot(10)(labels)), "num_classes=12"),
    (lambda num_classes=10: models.dc_discriminator(), "takes one input"),
    (stub, r"conditional_discriminator\(\) is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", DISCRIMINATOR_MISTAKES)
def test_discriminator_mistakes_fail_with_their_hint(wrong, hint):
    fails_with(checks.test_conditional_discriminator, wrong, match=hint)


def test_fixed_weights_make_the_check_independent_of_keras_initial_weights():
    first, second = models.conditional_discriminator(), models.conditional_discriminator()
    conditional.set_fixed_weights(first)
    conditional.set_fixed_weights(second)
    for a, b in zip(first.weights, second.weights):
        assert (a.numpy() == b.numpy()).all()
