"""The model checks (MLP, DCGAN, dogs): other right models pass, plausible mistakes fail with the right hint.

The references themselves: test_references.py.
"""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from check_helpers import fails_with, stub
from gan_helpers import checks, models, ops
from gan_helpers.checks import engine
from gan_helpers.checks import models as model_checks
from gan_helpers.checks import values as check_values


# ---------------------------------------------------------------- the MLP GAN (notebooks 02, 03)


def test_other_correct_mlp_models_pass(capsys):
    def functional_discriminator():
        x = keras.Input((784,))
        h = layers.Dense(256, activation=lambda t: ops.leaky_relu(t, 0.01))(x)
        h = layers.Dense(256)(h)
        h = layers.LeakyReLU(negative_slope=0.01)(h)
        return keras.Model(x, layers.Dense(1)(h))

    def generator_built_on_first_call(noise_dim=models.NOISE_DIM):
        return keras.Sequential([layers.Dense(1024, activation="relu"), layers.Dense(1024), layers.ReLU(),
                                 layers.Dense(784, activation="tanh")])

    checks.test_discriminator(functional_discriminator)
    checks.test_generator(generator_built_on_first_call)
    assert capsys.readouterr().out.count("passed") == 2


def leaky(slope=0.2):
    return layers.LeakyReLU(negative_slope=slope)


def mlp(widths, activations, input_dim, use_bias=True, extra=None):
    """A Sequential of Dense layers; activations[i] follows Dense i (a layer, a name or None)."""

    def build(*args):
        stack = [keras.Input((input_dim,))]
        for index, (width, activation) in enumerate(zip(widths, activations)):
            if isinstance(activation, str) or activation is None:
                stack.append(layers.Dense(width, activation=activation, use_bias=use_bias))
            else:
                stack += [layers.Dense(width, use_bias=use_bias), activation]
            if extra is not None and index == 0:
                stack.append(extra())
        return keras.Sequential(stack)

    return build


DISCRIMINATOR_MISTAKES = [
    (mlp([256, 1], [leaky(0.01), None], 784), "missing a layer: your Dense layers go 784 -> 256 -> 1"),
    (mlp([256, 256, 256, 1], [leaky(0.01), leaky(0.01), leaky(0.01), None], 784), "a layer too many"),
    (mlp([128, 256, 1], [leaky(0.01), leaky(0.01), None], 784), "wrong width: Dense layer 1 has 128 units"),
    (mlp([256, 256, 1], [leaky(0.01), None, None], 784), "missing activation after the second Dense layer"),
    (mlp([256, 256, 1], [leaky(0.3), leaky(0.3), None], 784), "slope 0.3 .*Keras's LeakyReLU default, the course uses 0.01"),
    (mlp([256, 256, 1], ["leaky_relu", "leaky_relu", None], 784), "slope 0.2"),
    (mlp([256, 256, 1], ["relu", "relu", None], 784), "plain ReLU after the first Dense layer"),
    (mlp([256, 256, 1], [leaky(0.01), leaky(0.01), "sigmoid"], 784), "sigmoid on the output: the discriminator returns logits"),
    (mlp([256, 256, 1], [leaky(0.01), leaky(0.01), None], 784, use_bias=False), r"Dense without bias \(use_bias=False\): keep the biases"),
    (mlp([256, 256, 1], [leaky(0.01), leaky(0.01), None], 784, extra=layers.BatchNormalization), "other than Dense"),
    (mlp([256, 256, 1], [leaky(0.01), leaky(0.01), None], 28), r"(?s)raised ValueError.*inputs of shape \(batch, 784\)"),
    (lambda: None, "returned None"),
    (lambda: "a model", "expected a keras.Model"),
    (models.discriminator(), "pass the function itself"),
    (stub, r"discriminator\(\) is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", DISCRIMINATOR_MISTAKES)
def test_discriminator_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_discriminator, wrong, match=hint)


def generator_mlp(widths, activations, fixed_input=None, **kwargs):
    return lambda noise_dim=models.NOISE_DIM: mlp(widths, activations, fixed_input or noise_dim, **kwargs)()


GENERATOR_MISTAKES = [
    (generator_mlp([1024, 1024, 784], ["relu", "relu", None]), r"no tanh on the output: outputs fall outside \[-1, 1\], forgot tanh"),
    (generator_mlp([1024, 1024, 784], ["relu", "relu", "sigmoid"]), "sigmoid on the output"),
    (generator_mlp([1024, 784], ["relu", "tanh"]), "missing a layer"),
    (generator_mlp([512, 1024, 784], ["relu", "relu", "tanh"]), "wrong width: Dense layer 1 has 512 units"),
    (generator_mlp([1024, 1024, 784], ["relu", None, "tanh"]), "missing activation after the second Dense layer: add the ReLU"),
    (generator_mlp([1024, 1024, 784], ["relu", "relu", "tanh"], fixed_input=96), "use noise_dim as the input size"),
    (generator_mlp([1024, 1024, 784], ["relu", "relu", "tanh"], use_bias=False), r"Dense without bias \(use_bias=False\): keep the biases"),
    (lambda: models.generator(), r"raised TypeError"),
    (stub, "not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", GENERATOR_MISTAKES)
def test_generator_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_generator, wrong, match=hint)


def test_model_failures_describe_the_students_layers():
    error = fails_with(checks.test_discriminator, mlp([256, 256, 1], [leaky(0.3), leaky(0.01), None], 784), match="slope 0.3")
    assert "Dense(256) -> LeakyReLU(0.3) -> Dense(256) -> LeakyReLU(0.01) -> Dense(1)" in str(error)


def test_an_unrecognised_model_mistake_still_fails_clearly():
    wrong = mlp([256, 256, 1], [layers.Activation("softplus"), leaky(0.01), None], 784)
    fails_with(checks.test_discriminator, wrong, match="(?s)outputs differ from the expected ones.*check the activations")


# ---------------------------------------------------------------- the DCGAN (notebook 07)


# ---------------------------------------------------------------- the reference models


def documented_parameters(builder):
    """The parameter count a builder's docstring states ('... = 36,513.')."""
    match = re.search(r"= ([\d,]+)\s*(?:\(|\.)", builder.__doc__.split("Parameters")[1])
    return int(match.group(1).replace(",", ""))


@pytest.mark.parametrize(
    "builder, input_shape, output_shape",
    [
        (models.dc_discriminator, (28, 28, 1), (1,)),
        (models.dc_generator, (models.NOISE_DIM,), (28, 28, 1)),
        (models.dog_discriminator, (64, 64, 3), (1,)),
        (models.dog_generator, (models.NOISE_DIM,), (64, 64, 3)),
    ],
)
def test_dcgan_builders_match_their_docstrings(builder, input_shape, output_shape):
    model = builder()
    assert isinstance(model, keras.Model)
    assert model.count_params() == documented_parameters(builder)
    assert model.input_shape == (None, *input_shape)
    out = model(tf.zeros((2, *input_shape)), training=False)
    assert tuple(out.shape) == (2, *output_shape) and out.dtype == tf.float32
    assert not any("Pool" in type(layer).__name__ for layer in model.layers)


def test_dc_generator_makes_images_in_minus_one_one_and_d_returns_unbounded_logits():
    G, D = models.dc_generator(), models.dc_discriminator()
    z = tf.random.stateless_uniform((8, models.NOISE_DIM), seed=(1, 2), minval=-1, maxval=1)
    kernel, bias = G.layers[-1].get_weights()
    G.layers[-1].set_weights([kernel * 1000, bias])  # drive the tanh into saturation
    images = G(z, training=False).numpy()
    assert images.min() >= -1.0 and images.max() <= 1.0 and np.abs(images).max() > 0.99
    kernel, bias = D.layers[-1].get_weights()
    D.layers[-1].set_weights([kernel * 1000, bias])
    assert np.abs(D(tf.constant(images), training=False).numpy()).max() > 1.0
    assert [type(layer).__name__ for layer in G.layers].count("BatchNormalization") == 2
    assert [type(layer).__name__ for layer in D.layers].count("BatchNormalization") == 0


def dc_d(convs=((32, 4, 2), (64, 4, 2)), act=leaky, out=None, pool=None, batch_norm=False, padding="same",
         head=True, input_shape=(28, 28, 1), use_bias=True, dense_units=1):
    """A DCGAN discriminator builder with the given variations (act is a layer factory or an activation name)."""

    def build():
        stack = [keras.Input(input_shape)]
        for filters, kernel, stride in convs:
            stack.append(layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=use_bias))
            if batch_norm:
                stack.append(layers.BatchNormalization())
            if act is not None:
                stack.append(layers.Activation(act) if isinstance(act, str) else act())
            if pool is not None:
                stack.append(pool())
        if head:
            stack += [layers.Flatten(), layers.Dense(dense_units, activation=out)]
        return keras.Sequential(stack)

    return build


def test_other_correct_discriminators_pass(capsys):
    def functional():
        x = keras.Input((28, 28, 1))
        h = layers.Conv2D(32, (4, 4), strides=(2, 2), padding="same", activation="leaky_relu")(x)  # Keras: slope 0.2
        h = layers.Conv2D(64, 4, strides=2, padding="same")(h)
        h = layers.LeakyReLU(negative_slope=0.2)(h)
        return keras.Model(x, layers.Dense(1)(layers.Flatten()(h)))

    checks.test_dc_discriminator(functional)
    checks.test_dc_discriminator(dc_d(act=lambda: layers.Activation(lambda t: tf.nn.leaky_relu(t, 0.2))))
    assert capsys.readouterr().out.count("passed") == 2


DC_DISCRIMINATOR_MISTAKES = [
    (dc_d(convs=((32, 4, 1), (64, 4, 1)), pool=layers.MaxPooling2D), "MaxPooling2D.*strided convolutions.*no pooling"),
    (dc_d(convs=((32, 4, 1), (64, 4, 1)), pool=lambda: layers.AveragePooling2D(2)), "AveragePooling2D.*strided convolutions"),
    (dc_d(convs=((32, 4, 1), (64, 4, 1))), "stride 1, expected 2"),
    (dc_d(convs=((32, 4, 2), (64, 4, 1))), r"convolution 2 \(Conv2D\) has stride 1"),
    (dc_d(out="sigmoid"), "sigmoid on the output: the discriminator returns logits"),
    (dc_d(out="tanh"), "a tanh on the output: the discriminator returns logits"),
    (dc_d(convs=((64, 5, 2), (128, 5, 2))), r"wrong channels: convolution 1 \(Conv2D\) has 64 filters, expected 32"),
    (dc_d(convs=((32, 4, 2), (32, 4, 2))), "wrong channels: convolution 2 .*has 32 filters, expected 64"),
    (dc_d(convs=((32, 5, 2), (64, 5, 2))), "5x5 kernel, expected 4x4"),
    (dc_d(convs=((32, 4, 2), (64, 4, 2), (128, 4, 2))), "3 convolution layers, expected 2"),
    (dc_d(convs=((32, 4, 2),)), "1 convolution layers, expected 2"),
    (dc_d(act=lambda: layers.LeakyReLU()), "slope 0.3 after the first convolution: Keras's LeakyReLU default.*uses 0.2"),
    (dc_d(act=lambda: leaky(0.01)), "slope 0.01 after the first convolution: that is the MLP GAN's slope"),
    (dc_d(act="relu"), "plain ReLU after the first convolution: the DCGAN discriminator uses leaky ReLU"),
    (dc_d(act=None), "missing activation after the first convolution"),
    (dc_d(batch_norm=True), "has 2 batch-norm layers, expected 0.*has no batch norm"),
    (dc_d(padding="valid"), "padding 'valid': use padding='same'"),
    (dc_d(head=False), r"returned shape \(16, 7, 7, 64\).*end with Flatten\(\) and Dense\(1\)"),
    (dc_d(dense_units=2), "the last Dense layer has 2 units"),
    (dc_d(use_bias=False), "36,417 parameters, expected 36,513.*without bias"),
    (dc_d(input_shape=(784,)), r"dc_discriminator\(\) raised ValueError.*expected min_ndim=4"),
    (dc_d(input_shape=(28, 28, 3)), r"(?s)raised ValueError.*keras.Input\(shape=\(28, 28, 1\)\)"),
    (lambda: None, "returned None"),
    (models.dc_discriminator(), "pass the function itself"),
    (stub, r"dc_discriminator\(\) is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", DC_DISCRIMINATOR_MISTAKES)
def test_dc_discriminator_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_dc_discriminator, wrong, match=f"(?s){hint}")


@pytest.mark.parametrize(
    "check, wrong, declared",
    [
        (checks.test_dc_discriminator, dc_d(input_shape=(28, 28, 3)), "(batch, 28, 28, 3)"),
        (checks.test_dog_discriminator, dc_d(), "(batch, 28, 28, 1)"),
        (checks.test_discriminator, mlp([256, 256, 1], [leaky(0.01), leaky(0.01), None], 28), "(batch, 28)"),
    ],
)
def test_a_model_with_the_wrong_input_shape_gets_a_short_message(check, wrong, declared):
    message = str(fails_with(check, wrong, match="raised ValueError"))
    assert "Arguments received" not in message and "tf.Tensor" not in message
    assert len(message.splitlines()) == 2 and len(message) < 450, message
    assert message.endswith(f"Yours takes {declared}.")


def test_a_discriminator_failure_lists_the_students_layers():
    error = fails_with(checks.test_dc_discriminator, dc_d(act=lambda: layers.LeakyReLU()), match="slope 0.3")
    assert "Conv2D(32, 4x4, stride 2) -> LeakyReLU(0.3) -> Conv2D(64, 4x4, stride 2) -> LeakyReLU(0.3)" in str(error)


def dc_g(project=(7, 7, 64), deconvs=((32, 4, 2), (1, 4, 2)), act="relu", out="tanh", batch_norm=(True, True),
         norm_last=False, bn_after_act=False, upsample=False, fixed_input=None, use_bias=True, flatten=False,
         epsilon=1e-3):
    """A DCGAN generator builder (noise_dim -> images) with the given variations."""

    def activation():
        if act is None:
            return []
        return [layers.Activation(act) if isinstance(act, str) else act()]

    def normalised(use_norm):
        norm = [layers.BatchNormalization(epsilon=epsilon)] if use_norm else []
        return activation() + norm if bn_after_act else norm + activation()

    def build(noise_dim=models.NOISE_DIM):
        stack = [keras.Input((fixed_input or noise_dim,)),
                 layers.Dense(int(np.prod(project)), use_bias=use_bias)]
        stack += normalised(batch_norm[0]) + [layers.Reshape(project)]
        for index, (filters, kernel, stride) in enumerate(deconvs):
            last = index == len(deconvs) - 1
            if upsample:
                stack += [layers.UpSampling2D(stride), layers.Conv2D(filters, kernel, padding="same")]
            else:
                stack.append(layers.Conv2DTranspose(filters, kernel, strides=stride, padding="same"))
            if not last:
                stack += normalised(batch_norm[index + 1])
        if norm_last:
            stack.append(layers.BatchNormalization())
        if out is not None:
            stack.append(layers.Activation(out))
        if flatten:
            stack.append(layers.Flatten())
        return keras.Sequential(stack)

    return build


def test_other_correct_generators_pass(capsys):
    checks.test_dc_generator(dc_g())
    checks.test_dc_generator(dc_g(epsilon=1e-5))  # TensorFlow's batch-norm epsilon instead of Keras's
    assert capsys.readouterr().out.count("passed") == 2


DC_GENERATOR_MISTAKES = [
    (dc_g(upsample=True), "UpSampling2D.*transposed convolutions"),
    (dc_g(batch_norm=(False, False)), "no batch norm: the DCGAN generator normalises"),
    (dc_g(batch_norm=(True, False)), "1 BatchNormalization layers, expected 2"),
    (dc_g(norm_last=True), "3 BatchNormalization layers, expected 2.*none on the output"),
    (dc_g(bn_after_act=True), "batch norm comes after the ReLU"),
    (dc_g(out="sigmoid"), r"sigmoid on the output gives values in \(0, 1\)"),
    (dc_g(out=None), "tanh"),
    (dc_g(out="relu"), "ReLU on the output gives no negative values"),
    (dc_g(act=lambda: layers.LeakyReLU(negative_slope=0.2)), "leaky ReLU after the first batch norm.*uses plain ReLU"),
    (dc_g(act=lambda: layers.LeakyReLU()), "leaky ReLU .*the DCGAN generator uses plain ReLU"),
    (dc_g(act="tanh"), "tanh after the first batch norm.*hidden layers use ReLU"),
    (dc_g(act=None), "missing activation after the first batch norm"),
    (dc_g(deconvs=((32, 4, 2), (3, 4, 2))), r"wrong channels: your images have 3.*1 channel \(greyscale\)"),
    (dc_g(deconvs=((64, 4, 2), (1, 4, 2))), r"wrong channels: convolution 1 \(Conv2DTranspose\) has 64 filters"),
    (dc_g(deconvs=((32, 5, 2), (1, 5, 2))), "5x5 kernel, expected 4x4"),
    (dc_g(project=(14, 14, 64), deconvs=((32, 4, 1), (1, 4, 2))), "stride 1, expected 2"),
    (dc_g(deconvs=((32, 4, 1), (1, 4, 2))), "images are too small"),
    (dc_g(project=(7, 7, 128)), "wrong width: Dense layer 1 has 6272 units, expected 3136"),
    (dc_g(use_bias=False), "without bias.*keep the biases"),
    (dc_g(flatten=True), "the images come out flat"),
    (dc_g(fixed_input=96), "use noise_dim as the input size"),
    (lambda: models.dc_generator(), "raised TypeError"),
    (lambda noise_dim: None, "returned None"),
    (stub, r"dc_generator\(\) is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", DC_GENERATOR_MISTAKES)
def test_dc_generator_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_dc_generator, wrong, match=f"(?s){hint}")


def test_an_unrecognised_generator_mistake_still_fails_clearly():
    wrong = dc_g(act="softplus")
    fails_with(checks.test_dc_generator, wrong, match="(?s)outputs differ from the expected ones.*check the activations")


# ---------------------------------------------------------------- dogs


def dog_d(width=32, act=leaky, out=None, honour_width=True):
    def build(width=width):
        used = width if honour_width else 32
        return dc_d(convs=[(used * m, 4, 2) for m in (1, 2, 4, 8)], act=act, out=out, input_shape=(64, 64, 3))()

    return build


def dog_g(width=32, batch_norm=True, channels=3, act="relu"):
    def activation():
        return layers.Activation(act) if isinstance(act, str) else act()

    def build(noise_dim=models.NOISE_DIM, width=width):
        deconvs = [(width * m, 4, 2) for m in (4, 2, 1)] + [(channels, 4, 2)]
        stack = [keras.Input((noise_dim,)), layers.Dense(4 * 4 * 8 * width)]
        stack += ([layers.BatchNormalization()] if batch_norm else []) + [activation()]
        stack.append(layers.Reshape((4, 4, 8 * width)))
        for filters, kernel, stride in deconvs[:-1]:
            stack += [layers.Conv2DTranspose(filters, kernel, strides=stride, padding="same")]
            stack += ([layers.BatchNormalization()] if batch_norm else []) + [activation()]
        stack.append(layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh"))
        return keras.Sequential(stack)

    return build


def test_other_correct_dog_models_pass(capsys):
    checks.test_dog_discriminator(dog_d())
    checks.test_dog_generator(dog_g())
    assert capsys.readouterr().out.count("passed") == 2


@pytest.mark.parametrize(
    "check, wrong, hint",
    [
        (checks.test_dog_discriminator, dog_d(out="sigmoid"), "sigmoid on the output"),
        (checks.test_dog_discriminator, dog_d(out="relu"), "ReLU on the output"),
        (checks.test_dog_discriminator, dog_d(act=lambda: layers.LeakyReLU()), "slope 0.3 .*uses 0.2"),
        (checks.test_dog_discriminator, dog_d(width=64), "wrong channels: convolution 1 .*has 64 filters, expected 32"),
        (checks.test_dog_discriminator, dog_d(honour_width=False), r"width=8.*has 32 filters, expected 8"),
        (checks.test_dog_discriminator, dc_d(), r"raised ValueError.*\(batch, 64, 64, 3\)"),
        (checks.test_dog_generator, dog_g(batch_norm=False), "no batch norm"),
        (checks.test_dog_generator, dog_g(channels=1), r"wrong channels: your images have 1.*3 channels \(RGB\)"),
        (checks.test_dog_generator, dog_g(act=lambda: layers.LeakyReLU(negative_slope=0.2)), "uses plain ReLU"),
        (checks.test_dog_generator, dc_g(), r"returned shape \(4, 28, 28, 1\), expected \(4, 64, 64, 3\)"),
    ],
)
def test_dog_model_mistakes_fail_with_hint(check, wrong, hint):
    fails_with(check, wrong, match=f"(?s){hint}")


# ---------------------------------------------------------------- margins


@pytest.mark.parametrize(
    "reference",
    [model_checks.discriminator_reference, model_checks.generator_reference,
     model_checks.dc_discriminator_reference, model_checks.dc_generator_reference,
     model_checks.dog_discriminator_reference, model_checks.dog_generator_reference],
)
def test_wrong_activations_are_far_from_the_reference_and_the_forward_pass_matches(reference):
    ref = reference()
    weights = check_values.fixed_weights(ref.plan)
    with check_values.full_float32_matmuls():
        right = ref.compare(model_checks.forward(ref.plan, weights, ref.x, ref.correct))
        # The stored outputs are Keras's float32 ones, which move by about 1e-6 from one CPU to
        # the next (up to 1.3e-4 relative on values near 0): a quarter of the tolerance is margin enough.
        assert engine.scaled_error(right, ref.expected) < engine.MODEL_TOLERANCE / 4
        cache, tried = {}, 0
        for found in model_checks.activation_candidates(ref.correct, ref.slots):
            output = ref.compare(model_checks.forward(ref.plan, weights, ref.x, found, cache=cache))
            assert engine.scaled_error(output, ref.expected) > 20 * engine.MODEL_TOLERANCE, found
            tried += 1
    combinations = int(np.prod([len(options) for options in ref.slots]))
    if combinations <= model_checks.MAX_COMBINATIONS:  # the MLP and MNIST DCGAN models: every combination
        assert tried == combinations - 1
    # the outputs are varied enough that ReLU or sigmoid on a discriminator's output shows
    if ref.role == "discriminator":
        assert ref.expected.min() < -0.1 and ref.expected.max() > 0.1
    else:
        assert ref.expected.min() < -0.5 and ref.expected.max() > 0.5 and np.abs(ref.expected).max() < 1.0
