"""Reading TensorBoard event files back without TensorBoard, for the tests of the logs."""

from pathlib import Path

import tensorflow as tf


def read_events(log_dir):
    """Every summary value in the event files under ``log_dir``, as ``(tag, step, plugin, tensor)`` tuples.

    ``tensor`` is a numpy value: a float for scalars, the byte strings of an image record.
    """
    found = []
    for path in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor)
                found.append((value.tag, int(event.step), value.metadata.plugin_data.plugin_name, tensor))
    return found
