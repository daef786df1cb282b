"""Train the metrics' MNIST classifier: ``python -m gan_course train-classifier`` (about 95 s on 2 cores).

    python -m gan_course train-classifier              # rewrites gan_helpers/reference/mnist_classifier.*
    python -m gan_course train-classifier --output x.weights.h5

The classifier's architecture and its use live in ``gan_helpers.metrics``; this
maintainers' tool makes the weights the package ships, and the JSON beside them.
"""

import json
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_helpers import data, metrics, ops


def train_classifier(epochs=4, batch_size=128, seed=0, weights_path=metrics.CLASSIFIER_WEIGHTS, verbose=1):
    """Train the metrics classifier on MNIST's training set and save its weights.

    Seeded and with deterministic ops, so the same TensorFlow on the same kind of
    machine gives the same weights. Small random shifts (up to 2 pixels) make it
    robust to the imperfect centring of generated digits. Writes the weights and,
    next to them, a JSON file with the test accuracy and the command that made it.

    Returns:
        dict with 'test_accuracy', 'test_loss', 'epochs', 'seed', 'seconds', 'parameters'.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    x_train = metrics.as_classifier_input(ops.scale_pixels(x_train))
    x_test = metrics.as_classifier_input(ops.scale_pixels(x_test))

    model = metrics.build_classifier()
    steps_per_epoch = int(np.ceil(len(x_train) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=epochs * steps_per_epoch, alpha=0.02)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    shift = keras.layers.RandomTranslation(2 / 28, 2 / 28, fill_mode="constant", fill_value=-1.0, seed=seed)
    train = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=seed)
        .batch(batch_size)
        .map(lambda x, y: (shift(x, training=True), y))
        .prefetch(tf.data.AUTOTUNE)
    )
    start = time.perf_counter()
    model.fit(train, epochs=epochs, verbose=verbose)
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)

    weights_path = Path(weights_path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    inference_copy = metrics.build_classifier()  # saves the weights without the optimizer's state
    inference_copy.set_weights(model.get_weights())
    inference_copy.save_weights(weights_path)
    info = {
        "test_accuracy": round(float(test_accuracy), 4),
        "test_loss": round(float(test_loss), 4),
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "seconds": round(seconds, 1),
        "parameters": model.count_params(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "command": metrics.TRAIN_COMMAND,
    }
    weights_path.with_name(weights_path.name.replace(".weights.h5", ".json")).write_text(json.dumps(info, indent=2) + "\n")
    metrics.load_classifier.cache_clear()
    metrics._mnist_features.cache_clear()
    return info


# ----------------------------------------------------------------------------------------
# Command line


def add_arguments(parser):
    parser.add_argument("--epochs", type=int, default=4, help="passes over MNIST's training set (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--output", type=Path, default=None, help="weights file to write (default: the shipped one)")


def run(args):
    output = args.output or metrics.CLASSIFIER_WEIGHTS
    try:
        info = train_classifier(epochs=args.epochs, seed=args.seed, weights_path=output, verbose=2)
    except OSError as error:
        print(f"train-classifier: {error}", file=sys.stderr)
        return 2
    print(f"Test accuracy {info['test_accuracy']:.2%} after {info['epochs']} epochs ({info['seconds']} s); "
          f"weights in {output}")
    return 0
