"""`run`: serve an application with uvicorn until Ctrl-C or SIGTERM, then drain and return;
`listen`: the socket it serves on, bound first so that a taken address fails at once."""

import errno
import functools
import json
import logging
import signal
import socket

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger("uvicorn.error")


class CannotListen(OSError):
    """The address cannot be bound; the message names it and the fix."""


class AddressInUse(CannotListen):
    """Another process listens on the address already."""


def listen(host, port):
    """A TCP socket bound to `host:port` (port 0: a free one), not yet listening.

    Raises `AddressInUse` when another process holds the address, `CannotListen` for any other
    reason (a host name that does not resolve or is not this machine's, a port under 1024).
    """
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise CannotListen(
            f"cannot listen on {where}: {error.strerror}. Fix: pass --host with an address of "
            "this machine (127.0.0.1, or 0.0.0.0 for every interface)"
        ) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise AddressInUse(
                f"cannot listen on {where}: the address is already in use (another server "
                "runs there). Fix: stop it, or pass another --port (--port 0 takes a free one)"
            ) from None
        fix = (
            "pass a --port from 1024 up (lower ones need root)"
            if error.errno == errno.EACCES
            else "pass --host with an address of this machine (127.0.0.1, or 0.0.0.0)"
        )
        raise CannotListen(f"cannot listen on {where}: {error.strerror}. Fix: {fix}") from None
    return sock


class _HeaderTimeout(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, answering 408 and closing a connection whose request
    headers began but did not end within `header_timeout` seconds (of the connection, or of
    the previous response); a connection that sent nothing is closed silently."""

    def __init__(self, *args, header_timeout, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.header_timer = None
        self.header_started = False

    def connection_made(self, transport):
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc):
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data):
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # the headers are not complete yet
            self.header_started = self.header_started or bool(data)
        else:
            self._disarm()

    def on_response_complete(self):
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def _arm(self):
        self._disarm()
        self.header_started = False
        self.header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self):
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _expired(self):
        self.header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.header_started:
            message = f"did not arrive within {self.header_timeout:g} s"
            problem = {"field": "headers", "message": message, "limit": self.header_timeout}
            body = json.dumps({"error": f"headers: {message}", "problems": [problem]}).encode()
            head = (
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
        self.transport.close()


class _Server(uvicorn.Server):
    """uvicorn's server on a socket bound beforehand, which tells the application (its
    `state.stopping` event) when shut-down begins, before the drain."""

    def __init__(self, config, app):
        super().__init__(config)
        self.app = app

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        if self.started:  # uvicorn names the address only for sockets it bound itself
            host, port = sockets[0].getsockname()[:2]
            host = f"[{host}]" if ":" in host else host
            logger.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", host, port)

    async def shutdown(self, sockets=None):
        stopping = getattr(getattr(self.app, "state", None), "stopping", None)
        if stopping is not None:
            stopping.set()
        await super().shutdown(sockets=sockets)


class _Stopped(Exception):
    pass


def _stopped(signum, frame):
    raise _Stopped


def run(
    app,
    host="127.0.0.1",
    port=8000,
    *,
    sock=None,
    access_log=True,
    drain_seconds=30,
    header_timeout=10.0,
):
    """Serves `app` on `host:port` (or on `sock`, from `listen`) until SIGINT or SIGTERM;
    returns 0 once it has stopped.

    On a signal uvicorn stops accepting connections, lets the requests in flight finish (for
    at most `drain_seconds`), then runs the application's shut-down (the micro-batcher finishes
    what it holds). Port 0 takes a free port; the log line `Uvicorn running on http://HOST:PORT`
    names it. A connection whose request headers take more than `header_timeout` seconds is
    answered 408 and closed.
    """
    sock = sock if sock is not None else listen(host, port)
    config = uvicorn.Config(
        app,
        http=functools.partial(_HeaderTimeout, header_timeout=header_timeout),
        access_log=access_log,
        timeout_graceful_shutdown=drain_seconds,
    )
    server = _Server(config, app)
    # uvicorn handles the signal, shuts down, then raises it again for the handler it found
    # installed: this one ends the run quietly instead of with a traceback or a signal status.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    return 0
