"""The `keras-seq` command line: one module per command in `keras_seq.commands`.

Run `keras-seq --help`, or `keras-seq COMMAND --help` for one command.

Each command module defines `HELP` (one line), `add_arguments(parser)` and `run(args)`, and
imports nothing heavy at its top: `--help`, `validate`, `show` and `schema` start without
Keras or any backend; the commands that need them import them inside `run`.
"""

import argparse
import errno
import importlib
import logging
import os
import signal
import sys
import traceback
import warnings

from keras_seq import stopping
from keras_seq.allocator import keep_freed_memory

# Command name -> module in keras_seq.commands, in the order `--help` lists them.
COMMANDS = {
    "validate": "validate",
    "debug-data": "debug_data",
    "show": "show",
    "schema": "schema",
    "train": "train",
    "ensemble": "ensemble",
    "evaluate": "evaluate",
    "predict": "predict",
    "explain": "explain",
    "check-backends": "check_backends",
    "init": "init",
    "backtest": "backtest",
    "serve": "serve",
    "export": "export",
    "tune": "tune",
}
# Commands that run a model: they take --backend (re-run in a process with that backend).
_BACKEND_COMMANDS = (
    "train",
    "ensemble",
    "evaluate",
    "predict",
    "explain",
    "backtest",
    "serve",
    "export",
    "tune",
)
# Commands that import a backend: quiet unless -v (see `_quiet_backends`).
_HEAVY_COMMANDS = (*_BACKEND_COMMANDS, "check-backends")


def _add_verbose(parser, default):
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log more detail"
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-seq",
        description="Define, train and move recurrent sequence models between Keras backends.",
    )
    _add_verbose(parser, False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"keras_seq.commands.{module_name}")
        command = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        if name in _BACKEND_COMMANDS:
            command.add_argument("--backend", choices=["tensorflow", "jax", "torch"])
        _add_verbose(command, argparse.SUPPRESS)  # -v before or after the command
        command.set_defaults(run=module.run)
    return parser


def _quiet_backends():
    """Silences backend start-up chatter: the C++ logs TensorFlow and XLA write straight to
    file descriptor 2 go to /dev/null, while Python's `sys.stderr` (our errors, log records)
    keeps the real standard error; Python warnings are ignored."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    real = os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    os.close(quiet)
    sys.stderr = os.fdopen(real, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    warnings.simplefilter("ignore")


def _out_of_memory(error):
    """Whether `error` is an allocation that failed (NumPy's MemoryError, a backend's
    RuntimeError saying so), not a bug to show in full."""
    text = str(error).lower()
    return isinstance(error, MemoryError) or any(
        words in text for words in ("out of memory", "not enough memory", "can't allocate")
    )


# What to do when the file system refuses, by errno.
_OS_FIXES = {
    errno.ENOSPC: "free space on that disk, or give an --output on another one",
    errno.EDQUOT: "free space within your quota, or give an --output on another disk",
    errno.EROFS: "give an --output on a writable file system",
    errno.EACCES: "give an --output in a folder you may write, or change its permissions",
    errno.EPERM: "give an --output in a folder you may write, or change its permissions",
}


def _os_error_message(error):
    """One line for an `OSError`: the file it names (`error.filename`), what the system said
    and, for a full disk or a read-only or forbidden folder, the fix. Messages our own code
    wrote (no errno) are kept as they are; a file name of 5000 characters is cut to 200.

    >>> import errno
    >>> print(_os_error_message(OSError(errno.EROFS, "Read-only file system", "r/spec.yaml")))
    r/spec.yaml: Read-only file system. Fix: give an --output on a writable file system
    """
    if error.errno is None or not error.strerror:
        text = str(error)
    else:
        where = "a file (unnamed by the library)" if error.filename is None else error.filename
        where = str(where) if len(str(where)) <= 200 else f"{str(where)[:197]}..."
        text = f"{where}: {error.strerror}"
        if error.errno in _OS_FIXES:
            text = f"{text}. Fix: {_OS_FIXES[error.errno]}"
    return text if len(text) <= 300 else f"{text[:297]}..."


def main(argv=None):
    args = build_parser().parse_args(argv)
    backend = getattr(args, "backend", None)
    if backend and os.environ.get("KERAS_BACKEND") != backend:
        # Keras reads KERAS_BACKEND once, at import: run the command again in a fresh process
        # (before standard error is quietened: the new process inherits file descriptor 2).
        env = {**os.environ, "KERAS_BACKEND": backend}
        argv = sys.argv[1:] if argv is None else list(argv)
        os.execve(sys.executable, [sys.executable, "-m", "keras_seq.cli", *argv], env)
    if args.command in _HEAVY_COMMANDS and argv is None:
        keep_freed_memory()  # the command's process: a training step reuses its pages
    if args.command in _HEAVY_COMMANDS and not args.verbose and argv is None:
        _quiet_backends()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from keras_seq.errors import DataError, SpecError

    try:
        with stopping.on_signals():
            return args.run(args)
    except (SpecError, DataError, FileExistsError) as error:
        print(error, file=sys.stderr)
        return 1
    except (MemoryError, RuntimeError) as error:
        if not _out_of_memory(error):
            raise
        print(
            f"keras-seq {args.command}: out of memory ({str(error).splitlines()[0][:200]}). "
            "Fix: make the model or the batches smaller (encoder.units, input.embedding_dim, "
            "input.vocab_size, training.batch_size, input.max_length)",
            file=sys.stderr,
        )
        return 1
    except OSError as error:  # the file system refused: permissions, a full disk, ...
        if args.verbose:
            traceback.print_exc()
        print(f"keras-seq {args.command}: {_os_error_message(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"keras-seq {args.command}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as stop:
        if stop.code == 128 + signal.SIGTERM:
            print(f"keras-seq {args.command}: terminated", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(main())
