"""Checks of notebook 09's scores: the Frechet distance between two Gaussians, the formula behind FID.

The learner's ``frechet_distance(mu1, sigma1, mu2, sigma2)`` is run on three pairs of
Gaussians (:data:`gan_helpers.checks.values.FID_CASES`), well conditioned first, then
singular, and compared with the library's ``gan_helpers.metrics.frechet_distance`` on
them (stored values). A wrong value is matched against the values of known mistakes,
written out here in float64 numpy, to name the mistake.
"""

import numpy as np

from gan_helpers.checks import values
from gan_helpers.checks.engine import call_student, expected_values, fail, passed

# Pass threshold on |d - expected| / (|expected| + 1% of the sum of the distance's positive
# terms): float64 rounding on the singular cases reaches about 2e-6 (square roots of
# eigenvalues that should be 0); the nearest known mistake is at least 1e-2 away.
FID_TOLERANCE = 1e-4

_CASE_WORDS = {
    "general": "two Gaussians in 6 dimensions",
    "singular": "two Gaussians in 8 dimensions whose covariances come from 4 and 5 samples (ranks 3 and 4)",
    "same": "the same singular Gaussian twice (the distance is 0)",
}
_WELL_CONDITIONED = ("general",)

_MATRIX_ROOT = ("The matrix square root of S1 @ S2 is the matrix A with A @ A = S1 @ S2; its trace is the sum of "
                "the square roots of the eigenvalues of S1 @ S2 (np.linalg.eigvals), which are real and >= 0.")


def _sqrt_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


def _trace_sqrt(sigma1, sigma2):
    return float(np.sum(np.sqrt(np.clip(np.linalg.eigvals(sigma1 @ sigma2).real, 0, None))))


def _fid_mistakes(mu1, sigma1, mu2, sigma2):
    """(hint, value) of the mistakes a learner is likely to make, for one pair of Gaussians."""
    means = float(np.sum((mu1 - mu2) ** 2))
    traces = float(np.trace(sigma1) + np.trace(sigma2))
    root = _trace_sqrt(sigma1, sigma2)
    with np.errstate(invalid="ignore"):
        elementwise_product = float(np.sum(np.sqrt(np.diag(sigma1 @ sigma2))))
        elementwise_each = float(np.trace(np.sqrt(sigma1) @ np.sqrt(sigma2)))
    return [
        ("the trace term is missing: FID adds Tr(S1 + S2 - 2 (S1 S2)^(1/2)) to the means' term; that is what "
         "compares the spreads of the two sets.", means),
        ("the means' term is missing: add |mu1 - mu2|^2, np.sum((mu1 - mu2) ** 2).", traces - 2 * root),
        ("the means' term is not squared: |mu1 - mu2|^2 = np.sum((mu1 - mu2) ** 2) (np.linalg.norm gives "
         "|mu1 - mu2| itself).", float(np.linalg.norm(mu1 - mu2)) + traces - 2 * root),
        ("the means' term is not squared: |mu1 - mu2|^2 = np.sum((mu1 - mu2) ** 2).",
         float(np.sum(mu1 - mu2)) + traces - 2 * root),
        ("the means' term is not squared: |mu1 - mu2|^2 = np.sum((mu1 - mu2) ** 2), a sum of squares, not of "
         "absolute values.", float(np.sum(np.abs(mu1 - mu2))) + traces - 2 * root),
        ("np.sqrt takes the square root of each entry of S1 @ S2: that is not the matrix square root. "
         + _MATRIX_ROOT, means + traces - 2 * elementwise_product),
        ("np.sqrt(S1) @ np.sqrt(S2) takes square roots entry by entry: that is not the matrix square root. "
         + _MATRIX_ROOT, means + traces - 2 * elementwise_each),
        ("np.linalg.eigvalsh is for symmetric matrices (it reads one triangle only), and S1 @ S2 is not symmetric: "
         "use np.linalg.eigvals, or the symmetric matrix S1^(1/2) S2 S1^(1/2), which has the same eigenvalues.",
         means + traces - 2 * float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(sigma1 @ sigma2), 0, None))))),
        ("(S1 S2)^(1/2) is not S1^(1/2) S2^(1/2) (the two are equal only when S1 and S2 commute): take the "
         "square root of the product. " + _MATRIX_ROOT,
         means + traces - 2 * float(np.trace(_sqrt_psd(sigma1) @ _sqrt_psd(sigma2)))),
        ("the square root of the trace is not the trace of the square root: Tr((S1 S2)^(1/2)) is the sum of "
         "the square roots of the eigenvalues of S1 @ S2, not np.sqrt(np.trace(S1 @ S2)).",
         means + traces - 2 * float(np.sqrt(np.trace(sigma1 @ sigma2)))),
        ("the square root of S1 S2 is missing: the cross term is -2 Tr((S1 S2)^(1/2)).",
         means + traces - 2 * float(np.trace(sigma1 @ sigma2))),
        ("the factor 2 is missing: Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)).", means + traces - root),
        ("the sign of the cross term is flipped: Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)), minus.",
         means + traces + 2 * root),
        ("the trace term is subtracted: FID adds the two terms, |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).",
         means - (traces - 2 * root)),
        ("the means' term is subtracted: FID adds the two terms, |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).",
         -means + traces - 2 * root),
        ("this looks like the square root of FID: FID is the squared Frechet distance, d^2 = |mu1 - mu2|^2 + "
         "Tr(S1 + S2 - 2 (S1 S2)^(1/2)), with no square root taken at the end.",
         float(np.sqrt(max(means + traces - 2 * root, 0.0)))),
    ]


def _scale(mu1, sigma1, mu2, sigma2):
    """The sum of the distance's positive terms: what its rounding errors are relative to."""
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2))


def fid_error(actual, expected, scale):
    """|actual - expected| relative to |expected| + 1% of ``scale``."""
    return abs(actual - expected) / (abs(expected) + 0.01 * scale)


def _not_finite_hint(case):
    if case in _WELL_CONDITIONED:
        return ("np.sqrt of a matrix takes the square root of each entry, which is nan where an entry is negative "
                "(and is not the matrix square root anyway). " + _MATRIX_ROOT)
    return ("these covariances are singular, as they are whenever there are fewer samples than features: some "
            "eigenvalues of S1 @ S2 are 0 and come out of rounding slightly negative, or with a tiny imaginary part. "
            "np.sqrt of a negative number is nan, and matrix square-root routines (tf.linalg.sqrtm) can fail there "
            "too. Work with the eigenvalues of S1 @ S2: keep their real parts and clip them at 0 before the square "
            "root, np.sqrt(np.clip(eigenvalues.real, 0, None)).")


def _as_distance(check, output, case):
    """The learner's returned distance as a float; a failure says what came back instead."""
    where = f"on {_CASE_WORDS[case]}"
    if output is None:
        fail(check, "frechet_distance returned None.", "did you forget the `return` statement?")
    try:
        array = np.asarray(output)
    except Exception:
        fail(check, f"frechet_distance returned a {type(output).__name__}, expected a number.")
    if np.iscomplexobj(array):
        shown = array.item() if array.size == 1 else array
        fail(check, f"frechet_distance returned a complex number {where}: {shown}.",
             "the imaginary part is kept: in exact arithmetic the eigenvalues of S1 @ S2 are real and >= 0, and "
             "rounding adds tiny imaginary parts (np.linalg.eigvals returns complex numbers then). FID is a real "
             "number: keep the real part (.real) of the eigenvalues or of the trace.")
    if array.size != 1:
        fail(check, f"frechet_distance returned an array of shape {array.shape} {where}, expected one number.",
             "FID is one number: sum the means' term and take the trace of the matrix term.")
    try:
        value = float(array.reshape(()))
    except (TypeError, ValueError):
        fail(check, f"frechet_distance returned {output!r}, expected a number.")
    if not np.isfinite(value):
        fail(check, f"frechet_distance returned {value} {where}.", _not_finite_hint(case))
    return value


def test_frechet_distance(frechet_distance):
    """Check ``frechet_distance(mu1, sigma1, mu2, sigma2)``: |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    Three pairs of Gaussians, well conditioned first, then covariances of low rank (as
    from fewer samples than features) and two identical Gaussians; compared with the
    library's ``gan_helpers.metrics.frechet_distance`` on them.
    """
    check = "test_frechet_distance"
    expected = expected_values()
    worst = 0.0
    for case in values.FID_CASES:
        arguments = [np.array(expected[f"fid_{case}_{name}"]) for name in ("mu1", "sigma1", "mu2", "sigma2")]
        originals = [argument.copy() for argument in arguments]
        output = call_student(check, "frechet_distance", frechet_distance, *arguments)
        if not all(np.array_equal(a, b) for a, b in zip(arguments, originals)):
            fail(check, "frechet_distance changed the arrays it was given.",
                 "work on copies (np.clip(x, 0, None), x + eps, ...): in-place operations such as sigma1 += ... "
                 "or x[...] = ... change the caller's means and covariances.")
        value = _as_distance(check, output, case)
        want, scale = float(expected[f"fid_{case}"]), _scale(*originals)
        error = fid_error(value, want, scale)
        if error > FID_TOLERANCE:
            hint = next((hint for hint, wrong in _fid_mistakes(*originals)
                         if np.isfinite(wrong) and fid_error(value, wrong, scale) < FID_TOLERANCE), None)
            fail(check, f"on {_CASE_WORDS[case]}, frechet_distance returned {value:.6g}, expected {want:.6g}.",
                 hint or "FID = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)). " + _MATRIX_ROOT)
        worst = max(worst, error)
    passed(check, worst)
