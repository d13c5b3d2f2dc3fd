"""`keras-seq serve`: a trained run's predictions over HTTP (needs `keras-seq[serve]`)."""

import dataclasses
import sys
import time

from keras_seq.commands.arguments import positive_int

HELP = "serve a run's predictions over HTTP (POST /predict) until Ctrl-C"

ADDRESS_IN_USE = 4  # exit status when --host:--port is taken (1: bad input, 3: diverged)

# Limits field -> (option, help).
_LIMITS = {
    "max_records": ("--max-records", "records in one request"),
    "max_tokens": ("--max-tokens", "tokens (or time steps) in one record"),
    "max_body_bytes": ("--max-body-bytes", "size of one request body"),
    "max_batch_size": ("--max-batch-size", "records per model call; 1 turns batching off"),
    "max_wait_ms": ("--max-wait-ms", "how long a request waits for others to share a batch"),
    "body_timeout_s": ("--body-timeout", "seconds from a request's headers to its body's end"),
}


def _port(text):
    """argparse type: a TCP port number, 0 to 65535."""
    import argparse

    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return int(text)


def _non_negative(text):
    """argparse type: a finite number >= 0."""
    return _number(text, lambda value: value >= 0, ">= 0")


def _positive(text):
    """argparse type: a finite number > 0."""
    return _number(text, lambda value: value > 0, "> 0")


def _number(text, allowed, words):
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not allowed(value):
        raise argparse.ArgumentTypeError(f"must be a number {words}, got {text!r}")
    return value


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN", help="a run folder or a model.keras file")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=_port, default=8000, help="0 takes a free port (default: %(default)s)"
    )
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    for name, (option, text) in _LIMITS.items():
        kind = {"max_wait_ms": _non_negative, "body_timeout_s": _positive}.get(name, positive_int)
        parser.add_argument(option, dest=name, type=kind, metavar="N", help=text)
    parser.add_argument(
        "--header-timeout",
        type=_positive,
        default=10.0,
        metavar="N",
        help="seconds for a request's headers to arrive (default: %(default)g)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=_positive,
        default=30.0,
        metavar="N",
        help="seconds the requests in flight get to finish at shut-down (default: %(default)g)",
    )


def run(args):
    try:
        from keras_seq import serving
    except ImportError as error:
        print(
            f"keras-seq serve needs {error.name}: pip install 'keras-seq[serve]'", file=sys.stderr
        )
        return 1
    import keras

    from keras_seq.progress import duration
    from keras_seq.tasks import load

    try:
        sock = serving.listen(args.host, args.port)  # before loading: a taken port fails at once
    except serving.AddressInUse as error:
        print(f"keras-seq serve: {error}", file=sys.stderr)
        return ADDRESS_IN_USE
    with sock:
        given = {name: getattr(args, name) for name in _LIMITS if getattr(args, name) is not None}
        limits = dataclasses.replace(serving.Limits(), **given)
        started = time.monotonic()
        print(f"keras-seq serve: loading {args.run_dir} ...", file=sys.stderr, flush=True)
        task = load(args.run_dir)
        print(
            f"keras-seq serve: loaded in {duration(time.monotonic() - started)} on "
            f"{keras.backend.backend()}",
            file=sys.stderr,
            flush=True,
        )
        app = serving.create_app(task, limits)
        return serving.run(
            app,
            sock=sock,
            access_log=not args.no_access_log,
            drain_seconds=args.drain_timeout,
            header_timeout=args.header_timeout,
        )
