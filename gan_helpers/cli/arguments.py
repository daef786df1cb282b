"""What the commands share: argparse types that say what is wrong, exit codes, error lines."""

import argparse
import sys

# Exit status after Ctrl-C, as shells report it (128 + SIGINT).
INTERRUPTED = 130
# Exit status for a command line that cannot work (as argparse uses).
USAGE = 2


def positive_int(text):
    """argparse type: an integer >= 1, with a message that says so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None


def positive_float(text):
    """argparse type: a float > 0."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {value}")
    return value


def decay(text):
    """argparse type: a number strictly between 0 and 1 (a moving average's decay)."""
    value = _number(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, such as 0.999, not {value:g}")
    return value


def error(message, status=1):
    print(f"error: {message}", file=sys.stderr)
    return status
