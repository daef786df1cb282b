"""The check of notebook 09's Frechet distance: right formulas pass, each known mistake fails with its hint."""

import numpy as np
import pytest
import tensorflow as tf

from check_helpers import fails_with, stub
from gan_helpers import checks, metrics
from gan_helpers.checks import evaluation
from gan_helpers.checks import values as check_values


def sqrt_psd(matrix):
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


def means_term(mu1, mu2):
    return np.sum((mu1 - mu2) ** 2)


def from_eigenvalues(mu1, sigma1, mu2, sigma2):
    """The product's eigenvalues: real parts, clipped at 0."""
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2)
    root = np.sum(np.sqrt(np.clip(eigenvalues.real, 0, None)))
    return means_term(mu1, mu2) + np.trace(sigma1) + np.trace(sigma2) - 2 * root


def from_complex_square_roots(mu1, sigma1, mu2, sigma2):
    """Complex square roots of the eigenvalues, the real part taken at the end (as scipy.linalg.sqrtm users do)."""
    root = np.sum(np.sqrt(np.linalg.eigvals(sigma1 @ sigma2).astype(complex)))
    return float((means_term(mu1, mu2) + np.trace(sigma1 + sigma2) - 2 * root).real)


def from_full_matrix_root(mu1, sigma1, mu2, sigma2):
    """The whole matrix square root V diag(sqrt(lambda)) V^-1 of the (non-symmetric) product."""
    eigenvalues, vectors = np.linalg.eig(sigma1 @ sigma2)
    root = vectors @ np.diag(np.sqrt(eigenvalues.astype(complex))) @ np.linalg.inv(vectors)
    return np.real(np.linalg.norm(mu1 - mu2) ** 2 + np.trace(sigma1 + sigma2 - 2 * root))


def from_singular_values(mu1, sigma1, mu2, sigma2):
    """Tr((S1 S2)^(1/2)) is the sum of the singular values of S1^(1/2) S2^(1/2)."""
    root = np.linalg.svd(sqrt_psd(sigma1) @ sqrt_psd(sigma2), compute_uv=False).sum()
    return np.dot(mu1 - mu2, mu1 - mu2) + np.trace(sigma1) + np.trace(sigma2) - 2 * root


def from_nuclear_norm_clipped(mu1, sigma1, mu2, sigma2):
    distance = means_term(mu1, mu2) + np.trace(sigma1 + sigma2) - 2 * np.linalg.norm(sqrt_psd(sigma1) @ sqrt_psd(sigma2), "nuc")
    return max(distance, 0.0)


def symmetric_middle(mu1, sigma1, mu2, sigma2):
    """Tr((S1^(1/2) S2 S1^(1/2))^(1/2)), a symmetric matrix's square root, as a 0-d array."""
    root1 = sqrt_psd(sigma1)
    return np.asarray(means_term(mu1, mu2) + np.trace(sigma1 + sigma2 - 2 * sqrt_psd(root1 @ sigma2 @ root1)))


def in_tensorflow(mu1, sigma1, mu2, sigma2):
    """TensorFlow in float64, returning a scalar tensor."""
    mu1, sigma1, mu2, sigma2 = (tf.constant(x, tf.float64) for x in (mu1, sigma1, mu2, sigma2))
    eigenvalues = tf.math.real(tf.linalg.eigvals(sigma1 @ sigma2))
    root = tf.reduce_sum(tf.sqrt(tf.maximum(eigenvalues, 0.0)))
    return tf.reduce_sum((mu1 - mu2) ** 2) + tf.linalg.trace(sigma1) + tf.linalg.trace(sigma2) - 2 * root


RIGHT_ANSWERS = [
    metrics.frechet_distance,
    from_eigenvalues,
    from_complex_square_roots,
    from_full_matrix_root,
    from_singular_values,
    from_nuclear_norm_clipped,
    symmetric_middle,
    in_tensorflow,
]


def test_right_formulas_pass(capsys):
    for right in RIGHT_ANSWERS:
        checks.test_frechet_distance(right)
    assert capsys.readouterr().out.count("test_frechet_distance passed") == len(RIGHT_ANSWERS)


def with_root(root):
    """A distance whose only difference from FID is how Tr((S1 S2)^(1/2)) is computed."""
    return lambda mu1, sigma1, mu2, sigma2: means_term(mu1, mu2) + np.trace(sigma1) + np.trace(sigma2) - 2 * root(sigma1, sigma2)


def right_root(sigma1, sigma2):
    return np.sum(np.sqrt(np.clip(np.linalg.eigvals(sigma1 @ sigma2).real, 0, None)))


def trace_term(sigma1, sigma2):
    return np.trace(sigma1) + np.trace(sigma2) - 2 * right_root(sigma1, sigma2)


def clears_in_place(mu1, sigma1, mu2, sigma2):
    sigma1 += 1e-6 * np.eye(len(sigma1))
    return metrics.frechet_distance(mu1, sigma1, mu2, sigma2)


MISTAKES = [
    (lambda mu1, sigma1, mu2, sigma2: means_term(mu1, mu2), "the trace term is missing"),
    (lambda mu1, sigma1, mu2, sigma2: trace_term(sigma1, sigma2), "the means' term is missing"),
    (lambda mu1, sigma1, mu2, sigma2: np.linalg.norm(mu1 - mu2) + trace_term(sigma1, sigma2),
     r"the means' term is not squared.*np.linalg.norm gives"),
    (lambda mu1, sigma1, mu2, sigma2: np.sum(mu1 - mu2) + trace_term(sigma1, sigma2), "the means' term is not squared"),
    (lambda mu1, sigma1, mu2, sigma2: np.sum(np.abs(mu1 - mu2)) + trace_term(sigma1, sigma2),
     "the means' term is not squared.*not of absolute values"),
    (with_root(lambda s1, s2: np.trace(np.sqrt(s1 @ s2))), r"np.sqrt takes the square root of each entry of S1 @ S2"),
    (with_root(lambda s1, s2: np.trace(np.sqrt(s1) @ np.sqrt(s2))),
     r"returned nan on two Gaussians in 6 dimensions.*np.sqrt of a matrix takes the square root of each entry"),
    (with_root(lambda s1, s2: np.trace(sqrt_psd(s1) @ sqrt_psd(s2))), r"\(S1 S2\)\^\(1/2\) is not S1\^\(1/2\) S2\^\(1/2\)"),
    (with_root(lambda s1, s2: np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(s1 @ s2), 0, None)))),
     "np.linalg.eigvalsh is for symmetric matrices"),
    (with_root(lambda s1, s2: np.sqrt(np.trace(s1 @ s2))), "the square root of the trace is not the trace of the square root"),
    (with_root(lambda s1, s2: np.trace(s1 @ s2)), "the square root of S1 S2 is missing"),
    (with_root(lambda s1, s2: right_root(s1, s2) / 2), "the factor 2 is missing"),
    (with_root(lambda s1, s2: -right_root(s1, s2)), "the sign of the cross term is flipped"),
    (lambda mu1, sigma1, mu2, sigma2: means_term(mu1, mu2) - trace_term(sigma1, sigma2), "the trace term is subtracted"),
    (lambda mu1, sigma1, mu2, sigma2: -means_term(mu1, mu2) + trace_term(sigma1, sigma2), "the means' term is subtracted"),
    (lambda *arguments: np.sqrt(metrics.frechet_distance(*arguments)), "looks like the square root of FID"),
    # the imaginary part kept: complex square roots of the eigenvalues, no .real
    (with_root(lambda s1, s2: np.sum(np.sqrt(np.linalg.eigvals(s1 @ s2).astype(complex)))),
     r"returned a complex number.*the imaginary part is kept.*keep the real part \(.real\)"),
    # scipy.linalg.sqrtm-style: the trace of a complex matrix root, kept complex
    (lambda mu1, sigma1, mu2, sigma2: from_full_matrix_root(mu1, sigma1, mu2, sigma2) + 0j, "the imaginary part is kept"),
    # rounding: eigenvalues of a singular product that come out slightly negative, not clipped
    (with_root(lambda s1, s2: np.sum(np.sqrt(np.linalg.eigvals(s1 @ s2).real))),
     r"returned nan on two Gaussians in 8 dimensions whose covariances come from 4 and 5 samples.*clip them at 0"),
    (with_root(lambda s1, s2: float(tf.linalg.trace(tf.linalg.sqrtm(tf.constant(s1 @ s2))))),
     r"returned nan on .* from 4 and 5 samples.*tf.linalg.sqrtm.*clip them at 0"),
    (clears_in_place, "frechet_distance changed the arrays it was given"),
    (lambda mu1, sigma1, mu2, sigma2: np.sum((mu1 - mu2) ** 2, keepdims=True) + np.diag(sigma1 + sigma2), "expected one number"),
    (lambda mu1, sigma1, mu2, sigma2: None, "returned None"),
    (stub, "frechet_distance is not implemented yet"),
]


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
@pytest.mark.parametrize("wrong, hint", MISTAKES)
def test_mistakes_fail_with_their_hint(wrong, hint):
    fails_with(checks.test_frechet_distance, wrong, match=f"(?s){hint}")


def test_known_mistakes_are_far_from_the_distance_and_from_each_other():
    """On the first pair of Gaussians, where every mistake fails, with room to spare either way."""
    expected = check_values.load_expected()
    case = check_values.FID_CASES[0]
    arguments = [expected[f"fid_{case}_{name}"] for name in ("mu1", "sigma1", "mu2", "sigma2")]
    scale = evaluation._scale(*arguments)
    wrong = [value for _, value in evaluation._fid_mistakes(*arguments) if np.isfinite(value)]
    assert len(wrong) == len(evaluation._fid_mistakes(*arguments)) - 1  # np.sqrt(S1) @ np.sqrt(S2) is nan here
    margin = 100 * evaluation.FID_TOLERANCE
    assert min(evaluation.fid_error(value, float(expected[f"fid_{case}"]), scale) for value in wrong) > margin
    for i, a in enumerate(wrong):
        assert all(evaluation.fid_error(a, b, scale) > margin for b in wrong[i + 1 :])


def test_the_stored_distances_are_the_librarys_and_the_singular_cases_are_singular():
    expected = check_values.load_expected()
    for case in check_values.FID_CASES:
        arguments = [expected[f"fid_{case}_{name}"] for name in ("mu1", "sigma1", "mu2", "sigma2")]
        assert float(expected[f"fid_{case}"]) == pytest.approx(metrics.frechet_distance(*arguments), rel=1e-12, abs=1e-12)
    assert np.linalg.matrix_rank(expected["fid_singular_sigma1"]) == 3 < len(expected["fid_singular_sigma1"])
    assert float(expected["fid_same"]) == 0.0
