"""Argument types the commands share."""

import argparse


def positive_int(text):
    """argparse type: a whole number >= 1 (`--epochs`, `--folds`, `--length`), else a usage
    error naming the value."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value
