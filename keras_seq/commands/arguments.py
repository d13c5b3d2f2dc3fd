"""Argument types the commands share."""

import argparse


def positive_int(text):
    """argparse type: a whole number >= 1 (`--epochs`, `--folds`, `--length`), else a usage
    error naming the value.

    Examples:

    >>> from keras_seq.commands.arguments import positive_int
    >>> positive_int("3")
    3
    >>> positive_int("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be a whole number >= 1, got '0'
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value
