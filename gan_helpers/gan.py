"""GANs as Keras models, trained with ``fit``: ``GAN`` runs notebook 05's step, the later notebooks' variants build on it.

- ``GAN``: per batch of real images, one discriminator update on them and on fakes
  ``G(z_d)``, then one generator update on fresh noise ``z_g`` scored by the just-updated
  ``D``. Two options of notebook 13 are what they are: ``augment``, a differentiable
  function applied to every batch D scores (DiffAugment), and ``ema``, an averaged copy
  of G's weights (``G_ema``) that the step moves after every generator update.
- ``WGANGP`` (notebook 11): ``d_steps`` critic updates per generator update, each on a
  real batch of its own, with a ``penalty`` added to the critic's loss.
- ``ConditionalGAN`` (notebook 12): both networks take the batch's labels;
  ``ConditionalWGANGP`` is both.

Use it as any Keras model::

    gan = GAN(D, G, noise_size=96)
    gan.compile(D_solver, G_solver, discriminator_loss, generator_loss)
    gan.fit(mnist_dataset(), epochs=10)     # batches of images in [-1, 1]; noise drawn in the step

``run_a_gan`` builds one of these and calls ``fit`` with the course's data feed (batches
as dicts ``{"real", "z_d", "z_g", ["labels"], ["valid"]}``, noise drawn in the pipeline
from the run's seed: see ``gan_helpers.data.feed``) and callbacks.

**Only finite updates.** An update is applied only when its loss and gradients are
finite. When the generator's half of a step fails, the discriminator's half is undone
from a copy taken at the start of the step (D, its optimizer and the statistics of G's
batch-norm layers), so the models keep the state of the last finite step; ``step``
counts the steps applied and ``failure`` holds (d_loss, g_loss, D's gradients finite, G's
gradients finite) of the last that was not.

**Distribution.** Under a ``tf.distribute`` strategy each replica computes the losses
of its slice of the batch, weighted by its share of the batch, and the optimizers sum
the gradients, so one step equals one step on one device. Whether an update is applied
is decided once for all replicas, in cross-replica context (``merge_call``).
"""

import keras
import tensorflow as tf

from gan_helpers import models
from gan_helpers.ops import ema_update

SUM = tf.distribute.ReduceOp.SUM


class GAN(keras.Model):
    """D and G, trained by ``fit`` one alternating step per batch (notebook 05).

    Args:
        discriminator: ``D``, images (B, ...) -> logits (B, 1).
        generator: ``G``, noise (B, noise_size) -> images in [-1, 1].
        noise_size: length of the noise vectors (default: G's input size).
        augment: a differentiable function ``images -> images``, random per image, applied
            to the real and the generated batch whenever D scores them (DiffAugment).
        ema: a decay such as 0.999: ``G_ema``, a copy of G, follows the moving average
            of all of G's weights after every generator update (``ema_decay``).
        data_shape: the shape of one image as D takes it (default: D's input shape).
    """

    LOGS = ("d_loss", "g_loss")

    def __init__(self, discriminator, generator, noise_size=None, *, augment=None, ema=None, data_shape=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.D, self.G = discriminator, generator
        self.noise_size = int(noise_size or models.noise_size(generator))
        self.data_shape = tuple(data_shape or _image_shape(discriminator, generator))
        self.augment, self.ema = augment, ema
        self.G_ema = None if ema is None else averaged_copy(generator, self.noise_size)
        only_first = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="gan_step", aggregation=only_first)
        self.failure = tf.Variable(tf.zeros(4), trainable=False, name="gan_failure", aggregation=only_first)
        self.trackers = [keras.metrics.Mean(name=name) for name in self.LOGS]
        self.built = True

    conditional = False

    def compile(self, D_solver, G_solver, discriminator_loss, generator_loss, **keras_options):
        """The two optimizers and the two losses, ``discriminator_loss(logits_real, logits_fake)`` and
        ``generator_loss(logits_fake)``; ``keras_options`` (``jit_compile``, ``steps_per_execution``)
        go to ``keras.Model.compile``."""
        super().compile(optimizer=None, **keras_options)
        self.D_solver, self.G_solver = D_solver, G_solver
        self.discriminator_loss, self.generator_loss = discriminator_loss, generator_loss
        for solver, model in ((D_solver, self.D), (G_solver, self.G)):
            if not solver.built:
                solver.build(model.trainable_variables)
        # What a step changes before it knows whether its generator half is finite, copied at
        # its start: D and its optimizer (updated first) and the statistics G's batch-norm layers
        # keep. G's weights, G_solver and the average change last, only when all is finite.
        self._state = _unique_variables([*self.D.variables, *D_solver.variables, *self.G.non_trainable_variables])
        self._backup = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False, name="gan_backup",
                                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA) for v in self._state]

    @property
    def metrics(self):
        return self.trackers

    @property
    def sampler(self):
        """The generator samples come from: the average with ``ema``, else G."""
        return self.G if self.G_ema is None else self.G_ema

    def call(self, noise, training=False):
        """Images from noise (B, noise_size), by G."""
        return self.G(noise, training=training)

    def generate(self, noise):
        """Images from ``noise`` by ``sampler`` in inference mode, numpy float32 (N, ...) in [-1, 1]."""
        return models.generate(self.sampler, noise)

    # ------------------------------------------------------------ the step

    def train_step(self, batch):
        """One step on a batch of real images (noise drawn here) or on the feed's dict; returns this step's losses.

        The epoch's logs hold their means (the trackers of ``metrics``).
        """
        if not isinstance(batch, dict):
            batch = self._with_noise(batch)
        logs, trained = tf.distribute.get_replica_context().merge_call(self._merged_step, args=(batch,))
        for tracker in self.trackers:
            tracker.update_state(logs[tracker.name], sample_weight=trained)
        return logs

    def _merged_step(self, strategy, batch):
        """The step in cross-replica context: ``(logs, 1.0)``, or zeros and 0.0 for a step without images."""

        def train():
            for copy, variable in zip(self._backup, self._state):
                copy.assign(variable)
            d_loss, penalty, d_ok, (d_failure, d_grads_ok) = self._discriminator_updates(strategy, batch)
            g_loss, _, g_grads_ok, g_grads = _first(strategy, strategy.run(self._generator_replica, args=(batch,)))
            ok = d_ok & tf.math.is_finite(g_loss) & g_grads_ok
            tf.cond(ok, lambda: self._update_generator(strategy, g_grads), self._restore)
            self.failure.assign(tf.where(ok, self.failure, tf.stack([
                tf.where(d_ok, d_loss, d_failure), g_loss, d_grads_ok, tf.cast(g_grads_ok, tf.float32)])))
            self.step.assign_add(tf.cast(ok, tf.int64))
            return self._logs(d_loss, g_loss, penalty), 1.0

        def skip():
            return self._logs(0.0, 0.0, 0.0), 0.0

        return tf.cond(self._has_images(strategy, batch), train, skip)

    def _with_noise(self, real):
        """A batch of images alone (``fit`` on a data set of images) as a step, with uniform noise in [-1, 1]."""
        size = (tf.shape(real)[0], self.noise_size)
        return {"real": tf.cast(real, tf.float32), "z_d": tf.random.uniform(size, -1.0, 1.0),
                "z_g": tf.random.uniform(size, -1.0, 1.0)}

    def _logs(self, d_loss, g_loss, penalty):
        return {"d_loss": tf.convert_to_tensor(d_loss, tf.float32), "g_loss": tf.convert_to_tensor(g_loss, tf.float32)}

    def _has_images(self, strategy, batch):
        """Whether any replica has real images for the step's first update (a resumed run's first steps
        are empty: already trained)."""
        count = strategy.run(lambda step: tf.shape(self._discriminator_batch(step, 0)[0])[0], args=(batch,))
        return strategy.reduce(SUM, count, axis=None) > 0

    def _restore(self):
        for copy, variable in zip(self._backup, self._state):
            variable.assign(copy)

    def _update_generator(self, strategy, grads):
        _apply(strategy, self.G_solver, grads, self.G.trainable_variables)
        if self.G_ema is not None:
            ema_update(self.G_ema.weights, self.G.weights, ema_decay(self.ema, self.step))

    # ------------------------------------------------------------ what D and G see (overridden for labels)

    def _fakes(self, z, labels):
        fake = self.G(z, training=True)
        return tf.cast(tf.reshape(fake, (-1, *self.data_shape)), tf.float32)

    def _scores(self, images, labels):
        return tf.cast(self.D(images, training=True), tf.float32)

    def _seen(self, images):
        """The images as D sees them: through ``augment`` when there is one."""
        return images if self.augment is None else self.augment(images)

    # ------------------------------------------------------------ the discriminator's half (overridden by WGANGP)

    def _discriminator_updates(self, strategy, batch):
        """The step's discriminator update: ``(loss, penalty, ok, (loss, gradients finite) if not ok)``."""
        loss, penalty, grads_ok, grads = _first(strategy, strategy.run(self._discriminator_replica, args=(batch,)))
        ok = tf.math.is_finite(loss) & grads_ok
        tf.cond(ok, lambda: _apply(strategy, self.D_solver, grads, self.D.trainable_variables), lambda: None)
        return loss, penalty, ok, (loss, tf.cast(grads_ok, tf.float32))

    def _discriminator_batch(self, batch, index):
        """``(real, z, labels)`` of discriminator update ``index`` of a step (this replica's slice)."""
        return batch["real"], batch["z_d"], batch.get("labels")

    def _discriminator_loss(self, real, z, labels):
        """``(loss, penalty or None)`` of one discriminator update."""
        logits_real = self._scores(self._seen(real), labels)
        logits_fake = self._scores(self._seen(self._fakes(z, labels)), labels)
        return _scalar_loss(self.discriminator_loss(logits_real, logits_fake), "discriminator_loss"), None

    def _discriminator_replica(self, batch, index=0):
        real, z, labels = self._discriminator_batch(batch, index)
        return _replica_update(lambda: self._discriminator_loss(real, z, labels), real, self.D_solver,
                               self.D.trainable_variables, "discriminator_loss", "D")

    def _generator_replica(self, batch):
        z, labels = batch["z_g"], batch.get("labels")

        def loss():
            logits_fake = self._scores(self._seen(self._fakes(z, labels)), labels)
            return _scalar_loss(self.generator_loss(logits_fake), "generator_loss"), None

        return _replica_update(loss, z, self.G_solver, self.G.trainable_variables, "generator_loss", "G")


class WGANGP(GAN):
    """``d_steps`` critic updates per generator update, and a ``penalty`` on the critic (notebook 11).

    The losses are the ones given to ``compile`` (WGAN-GP's are ``wasserstein_critic_loss``
    and ``wasserstein_generator_loss``). A step's batch stacks ``d_steps`` real batches and
    their noise along axis 1, ``real`` (B, d_steps, ...), ``z_d`` (B, d_steps, noise_size),
    and ``valid`` (B, d_steps): 0 where a batch is shorter than B, or missing at the end
    of an epoch (an update without images is skipped). Update i is applied while all before
    it were finite; the generator update uses fresh noise ``z_g`` and the labels of the
    step's first batch. ``penalty(D, real, fake)`` is added to every critic loss, with the
    batches D scores in that update; the logs' ``d_loss`` is the mean over the step's
    updates, penalty included, and ``penalty`` its mean.
    """

    LOGS = ("d_loss", "g_loss", "penalty")

    def __init__(self, discriminator, generator, noise_size=None, *, d_steps=5, penalty=None, **kwargs):
        super().__init__(discriminator, generator, noise_size, **kwargs)
        self.d_steps, self.penalty = int(d_steps), penalty

    def _logs(self, d_loss, g_loss, penalty):
        return {**super()._logs(d_loss, g_loss, penalty), "penalty": tf.convert_to_tensor(penalty, tf.float32)}

    def _discriminator_updates(self, strategy, batch):
        """The step's ``d_steps`` critic updates, in a ``tf.while_loop``: one update traced, not d_steps."""
        def update(index, ok, failure, sums, updates):
            made, loss, penalty, grads_ok = self._critic_update(strategy, batch, index, ok)
            finite = tf.math.is_finite(loss) & grads_ok
            failure = tuple(tf.where(ok & ~finite, now, before)
                            for now, before in zip((loss, tf.cast(grads_ok, tf.float32)), failure))
            made = tf.cast(made, tf.float32)
            return index + 1, ok & finite, failure, sums + made * tf.stack([loss, penalty]), updates + made

        start = (tf.constant(0), tf.constant(True), (tf.constant(0.0), tf.constant(1.0)), tf.zeros(2),
                 tf.constant(0.0))
        _, ok, failure, sums, updates = tf.while_loop(lambda index, *_: index < self.d_steps, update, start)
        mean_loss, mean_penalty = tf.unstack(sums / tf.maximum(updates, 1.0))
        return mean_loss, mean_penalty, ok, failure

    def _critic_update(self, strategy, batch, index, ok):
        """Critic update ``index``, applied when it is finite and ``ok``: ``(made, loss, penalty, grads finite)``."""
        def update():
            loss, penalty, grads_ok, grads = _first(strategy, strategy.run(self._discriminator_replica,
                                                                            args=(batch, index)))
            tf.cond(ok & tf.math.is_finite(loss) & grads_ok,
                    lambda: _apply(strategy, self.D_solver, grads, self.D.trainable_variables), lambda: None)
            return loss, penalty, grads_ok

        if "valid" not in batch:  # one critic update a step: a batch of its own
            return (tf.constant(True), *update())
        # Not merely wasted: TensorFlow's CPU convolution returns a wrongly shaped result for 0 images.
        count = strategy.run(lambda step: tf.reduce_sum(step["valid"][:, index]), args=(batch,))
        made = strategy.reduce(SUM, count, axis=None) > 0
        return (made, *tf.cond(made, update, lambda: (0.0, 0.0, True)))

    def _discriminator_batch(self, batch, index):
        if "valid" not in batch:
            return super()._discriminator_batch(batch, index)
        valid = batch["valid"][:, index] > 0
        labels = batch.get("labels")
        pick = lambda x: tf.boolean_mask(x[:, index], valid)  # noqa: E731
        return pick(batch["real"]), pick(batch["z_d"]), None if labels is None else pick(labels)

    def _discriminator_loss(self, real, z, labels):
        real_seen, fake_seen = self._seen(real), self._seen(self._fakes(z, labels))
        loss = _scalar_loss(self.discriminator_loss(self._scores(real_seen, labels), self._scores(fake_seen, labels)),
                            "discriminator_loss")
        if self.penalty is None:
            return loss, None
        penalty = _scalar_loss(self.penalty(self._critic(labels), real_seen, fake_seen), "discriminator_penalty")
        return loss + penalty, penalty

    def _critic(self, labels):
        """D as the penalty gets it."""
        return self.D

    def _generator_replica(self, batch):
        if "valid" not in batch:
            return super()._generator_replica(batch)
        valid = batch["valid"][:, 0] > 0
        labels = batch.get("labels")
        first = {"z_g": tf.boolean_mask(batch["z_g"], valid)}
        if labels is not None:
            first["labels"] = tf.boolean_mask(labels[:, 0], valid)
        return super()._generator_replica(first)


class ConditionalGAN(GAN):
    """Both networks take the labels, ``G([noise, labels])`` and ``D([images, labels])`` (notebook 12).

    The fakes of a step are made for the labels of its real batch, so the classes keep
    the data's frequencies. ``num_classes``: the labels are 0 .. num_classes - 1;
    ``generate`` draws class ``i % num_classes`` for row ``i``.
    """

    conditional = True

    def __init__(self, discriminator, generator, noise_size=None, *, num_classes=models.NUM_CLASSES, **kwargs):
        super().__init__(discriminator, generator, noise_size, **kwargs)
        self.num_classes = int(num_classes)

    def call(self, inputs, training=False):
        return self.G(inputs, training=training)

    def generate(self, noise):
        return models.generate(self.sampler, noise, models.cycled_labels(len(noise), self.num_classes))

    def _fakes(self, z, labels):
        fake = self.G([z, labels], training=True)
        return tf.cast(tf.reshape(fake, (-1, *self.data_shape)), tf.float32)

    def _scores(self, images, labels):
        return tf.cast(self.D([images, labels], training=True), tf.float32)

    def _critic(self, labels):
        """D as a penalty gets it: ``images -> D([images, labels])`` with the batch's labels bound."""
        return lambda images, training=None: self.D([images, labels], training=training)


class ConditionalWGANGP(ConditionalGAN, WGANGP):
    """A conditional GAN with critic updates and a penalty (``ConditionalGAN`` and ``WGANGP`` at once)."""


def make_gan(D, G, noise_size, *, d_steps=1, penalty=None, conditional=False, **options):
    """The GAN for these options: ``WGANGP`` with several critic updates or a penalty, conditional with labels."""
    critic = d_steps > 1 or penalty is not None
    extra = {"d_steps": d_steps, "penalty": penalty} if critic else {}
    model = {(False, False): GAN, (False, True): WGANGP, (True, False): ConditionalGAN,
             (True, True): ConditionalWGANGP}[bool(conditional), critic]
    return model(D, G, noise_size, **extra, **options)


# ----------------------------------------------------------------------------
# One network's update, per replica, and its application
# ----------------------------------------------------------------------------


def _replica_update(compute_loss, batch, solver, variables, loss_name, model_name):
    """This replica's part of one network's update: ``(loss, penalty, gradients finite, gradients)``.

    ``compute_loss()`` returns ``(loss, penalty or None)`` on this replica's slice; the
    gradients are of its share of the global batch's mean, which the optimizer sums over
    replicas. Loss, penalty and finiteness are those of the whole batch, on every replica.
    """
    context = tf.distribute.get_replica_context()
    local = tf.cast(tf.shape(batch)[0], tf.float32)
    total = context.all_reduce(SUM, local)
    weight, has_data = local / tf.maximum(total, 1.0), local > 0
    scaling = isinstance(solver, keras.optimizers.LossScaleOptimizer)
    with tf.GradientTape() as tape:
        loss, penalty = compute_loss()
        share = tf.where(has_data, loss * weight, 0.0)
        scaled = solver.scale_loss(share) if scaling else share
    grads = tape.gradient(scaled, variables)
    if all(grad is None for grad in grads):
        raise ValueError(f"{loss_name} does not depend on {model_name}'s weights, so it cannot train {model_name}: "
                         "compute it from the logits it is given, with TensorFlow operations (not numpy).")
    grads_finite = tf.constant(True) if scaling else _all_finite(grads)  # float16 overflow: the scaler's job
    not_finite = context.all_reduce(SUM, 1.0 - tf.cast(grads_finite, tf.float32))
    penalty = tf.constant(0.0) if penalty is None else context.all_reduce(SUM, tf.where(has_data, penalty * weight, 0.0))
    return context.all_reduce(SUM, share), penalty, not_finite < 0.5, grads


def _first(strategy, values):
    """The first replica's copy of each of ``values`` (they agree), the per-replica gradients last as they are."""
    *shared, grads = values
    return (*(strategy.experimental_local_results(value)[0] for value in shared), grads)


def _apply(strategy, solver, grads, variables):
    """Apply per-replica gradients; the optimizer sums them over replicas."""
    strategy.run(lambda replica_grads: solver.apply_gradients(zip(replica_grads, variables)), args=(grads,))


def _scalar_loss(value, name):
    value = tf.convert_to_tensor(value)
    if value.shape.rank != 0:
        raise ValueError(f"{name} must return one number, the mean over the batch; it returned a tensor of "
                         f"shape {tuple(value.shape)}. Use tf.reduce_mean.")
    return tf.cast(value, tf.float32)


def _all_finite(tensors):
    """True when no element of any tensor is NaN or infinite."""
    return tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(t)) for t in tensors if t is not None]))


def _image_shape(D, G):
    """One image as D takes it: D's declared (first) input, else what G makes."""
    for model, shape_of in ((D, "input_shape"), (G, "output_shape")):
        try:
            shape = getattr(model, shape_of)
        except (AttributeError, ValueError):  # a subclassed model without declared shapes
            continue
        shape = shape[0] if isinstance(shape, list) else shape
        if shape and None not in shape[1:]:
            return tuple(shape[1:])
    raise ValueError("Cannot tell the shape of the images D takes: build D with a keras.Input, or pass data_shape.")


def tf_variable_of(variable):
    """The TensorFlow variable behind a Keras one (or the variable itself)."""
    return variable.value if isinstance(variable, keras.Variable) else variable


def _unique_variables(variables):
    """TensorFlow variables under ``variables`` (Keras ones unwrapped), each once, in order."""
    unique = {}
    for variable in map(tf_variable_of, variables):
        unique.setdefault(id(variable), variable)
    return list(unique.values())


# ----------------------------------------------------------------------------
# The moving average of G's weights
# ----------------------------------------------------------------------------


def ema_decay(decay, steps_done):
    """The decay of the average's update after ``steps_done`` earlier ones: ``min(decay, (1 + t) / (10 + t))``.

    The warm-up of TensorFlow's ``ExponentialMovingAverage(decay, num_updates)``: the
    first updates keep little of the starting weights (0.1 of them at the first), so the
    average follows G's early progress instead of staying near its random
    initialisation; from t = (10 decay - 1) / (1 - decay) on (8,990 steps for 0.999,
    890 for 0.99) it is ``decay``.
    """
    steps_done = tf.cast(steps_done, tf.float32)
    return tf.minimum(tf.cast(decay, tf.float32), (1.0 + steps_done) / (10.0 + steps_done))


def averaged_copy(G, noise_size):
    """A copy of G (same architecture, same weights now) to hold the moving average of its weights."""
    try:
        copy = keras.models.clone_model(G)
    except Exception as error:  # Keras raises several kinds for models it cannot rebuild
        raise TypeError(f"ema needs a copy of G, and keras.models.clone_model cannot make one "
                        f"({type(error).__name__}: {str(error).strip().splitlines()[0]}). Build G as a "
                        "keras.Sequential or functional model (or give its class a get_config).") from None
    if not copy.built or len(copy.weights) != len(G.weights):
        noise = tf.zeros((1, noise_size))
        copy([noise, tf.zeros((1,), tf.int32)] if models.is_conditional(G) else noise, training=False)
    if [tuple(w.shape) for w in copy.weights] != [tuple(w.shape) for w in G.weights]:
        raise TypeError("ema needs a copy of G, but keras.models.clone_model made a model with other weights.")
    copy.set_weights(G.get_weights())
    return copy
