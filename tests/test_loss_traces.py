"""The losses run_a_gan produced before the loop moved onto Keras's ``fit``, reproduced.

``loss_traces.json`` (beside this file) holds the per-step losses of short real runs
(``tests/helpers/loss_traces.py``: a few seeds each of the vanilla GAN, the LSGAN, a
WGAN-GP with five critic updates per step, a conditional GAN, a moving average of G's
weights, and DiffAugment), recorded with the course's own training loop at commit
d70c562, before it was replaced by ``keras.Model.fit`` (issue 19). A training loop that
draws the same numbers must reproduce them bit for bit: the same initial weights
(``keras.utils.set_random_seed``), the same data order and noise (``run_a_gan(seed=...)``),
the same operations. The runs are made in a fresh interpreter with the settings that
make that hold (one thread per pool of TensorFlow's, constant folding off: the helper's
docstring says why).

Two of the options draw random numbers inside the step from TensorFlow's global
random state, whose per-operation seeds depend on how the step's graph is built:
the gradient penalty (one interpolation weight per image) and DiffAugment. A rewritten
step draws other numbers there, so those runs are compared in distribution: the mean
loss over several seeds, step by step, must stay within half the seed-to-seed spread of
the recorded mean (root mean square over the steps). Measured by re-running the recorded
loop: other draws (another global seed after the models are built) move it by a quarter
of the spread or less; leaving the penalty out moves D's loss by 0.9 spreads, leaving the
augmentation out by 1.1.

    python tests/helpers/loss_traces.py tests/loss_traces.json    # record with the current loop
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TRACES = Path(__file__).with_name("loss_traces.json")
RUNS = Path(__file__).parent / "helpers" / "loss_traces.py"
RECORDED = json.loads(TRACES.read_text())
EXACT = [("vanilla", 0), ("vanilla", 1), ("lsgan", 0), ("conditional", 0), ("ema", 0)]
IN_DISTRIBUTION = ("wgan_gp", "augment")


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    """Every scenario's traces by today's run_a_gan, computed in a fresh interpreter."""
    out = tmp_path_factory.mktemp("traces") / "traces.json"
    subprocess.run([sys.executable, str(RUNS), str(out)], check=True, timeout=600)
    return json.loads(out.read_text())


def test_the_recorded_scenarios_are_the_ones_run(traces):
    assert set(traces) == set(RECORDED) == {name for name, _ in EXACT} | set(IN_DISTRIBUTION)
    assert all(set(traces[name]) == set(RECORDED[name]) for name in RECORDED)


@pytest.mark.parametrize("name, seed", EXACT, ids=[f"{name}-{seed}" for name, seed in EXACT])
def test_the_same_draws_give_the_recorded_losses(traces, name, seed):
    want, got = RECORDED[name][str(seed)], traces[name][str(seed)]
    assert len(got["d_loss"]) == len(want["d_loss"]) and got["penalty"] == want["penalty"] == []
    for key in ("d_loss", "g_loss", "last_samples_mean", "ema_weights_sum"):
        if key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def seed_to_seed_spread(traces):
    """The root mean square, over steps, of the standard deviation across seeds; traces (seeds, steps)."""
    return float(np.sqrt(np.mean(np.var(traces, axis=0))))


@pytest.mark.parametrize("name", IN_DISTRIBUTION)
def test_other_draws_give_losses_like_the_recorded_ones(traces, name):
    seeds = sorted(RECORDED[name])
    for key in ("d_loss", "g_loss") + (("penalty",) if RECORDED[name][seeds[0]]["penalty"] else ()):
        want = np.array([RECORDED[name][seed][key] for seed in seeds])
        got = np.array([traces[name][seed][key] for seed in seeds])
        assert got.shape == want.shape
        difference = float(np.sqrt(np.mean((got.mean(axis=0) - want.mean(axis=0)) ** 2)))
        spread = seed_to_seed_spread(want)
        assert difference < 0.5 * spread, (f"{key}: the mean over seeds moved by {difference:.4g} (RMS over steps), "
                                           f"the seed-to-seed spread is {spread:.4g}")
