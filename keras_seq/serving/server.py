"""`run`: serve an application with uvicorn until Ctrl-C or SIGTERM, then drain and return."""

import signal

import uvicorn


class _Stopped(Exception):
    pass


def _stopped(signum, frame):
    raise _Stopped


def run(app, host="127.0.0.1", port=8000, *, access_log=True, drain_seconds=30):
    """Serves `app` on `host:port` until SIGINT or SIGTERM; returns 0 once it has stopped.

    On a signal uvicorn stops accepting connections, lets the requests in flight finish (for
    at most `drain_seconds`), then runs the application's shut-down (the micro-batcher finishes
    what it holds). Port 0 takes a free port; the log line `Uvicorn running on http://HOST:PORT`
    names it.
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=access_log,
        timeout_graceful_shutdown=drain_seconds,
    )
    server = uvicorn.Server(config)
    # uvicorn handles the signal, shuts down, then raises it again for the handler it found
    # installed: this one ends the run quietly instead of with a traceback or a signal status.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
