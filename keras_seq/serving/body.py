"""`BodyReader`: an ASGI middleware that reads each request body whole, within a size and a
time, before the application parses it; and answers what is still waiting at shut-down."""

import asyncio
import logging
import time

from starlette.responses import JSONResponse

logger = logging.getLogger("keras_seq.serving")


class BodyReader:
    """Reads each request body before the application sees it, and refuses it with a JSON error:

    - 413 when the declared `Content-Length` passes `max_bytes` (before reading a byte of it),
      or when a body without one (chunked) passes it while being read;
    - 408 when the whole body has not arrived `timeout` seconds after the request's headers;
    - 503 when the server begins to stop (`stopping()` is set) while the body is still arriving,
      or stops a request still running after its drain time (uvicorn cancels it).

    Each refusal closes the connection (`Connection: close`), so the client's unread body is
    never read. A body read in full is handed on unchanged.

    Args:
        app: the ASGI application to protect.
        max_bytes: int. Largest body passed on.
        timeout: float. Seconds from the request's headers to the end of its body.
        stopping: callable, optional. Gives the `asyncio.Event` set when the server begins to
            stop (or None); called per request, since the event belongs to the running loop.

    A client that stalls mid-body would otherwise hold its connection (and, at shut-down, the
    whole drain) for good, and one that declares 10 GB would be read until the limit.
    """

    def __init__(self, app, max_bytes, timeout, stopping=None):
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.stopping = stopping

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message):
            nonlocal started
            started = True
            await send(message)

        try:
            body = await self._read(scope, receive, send)
            if body is None:
                return
            await self.app(scope, _replay(body, receive), tracked_send)
        except asyncio.CancelledError:  # uvicorn's drain time ran out: answer, end quietly
            logger.warning("%s %s stopped at shut-down", scope["method"], scope["path"])
            if not started:
                await _refuse(send, 503, "server", "the server is shutting down; send it again")

    async def _read(self, scope, receive, send):
        """The whole body, or None once the request has been answered (or has gone)."""
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._too_large(send, f"Content-Length is {declared} bytes")
            return None
        chunks, size, more = [], 0, True
        deadline = time.monotonic() + self.timeout
        while more:
            stopping = self.stopping() if self.stopping else None
            message = await _receive(receive, deadline, stopping)
            if message is None:
                if stopping is not None and stopping.is_set():
                    await _refuse(send, 503, "server", "the server is shutting down; send it again")
                else:
                    message = f"did not arrive within {self.timeout:g} s"
                    await _refuse(send, 408, "body", message, self.timeout)
                return None
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                await self._too_large(send, f"the body has more than {self.max_bytes} bytes")
                return None
        return b"".join(chunks)

    async def _too_large(self, send, found):
        message = f"{found}; the limit is {self.max_bytes}"
        await _refuse(send, 413, "body", message, self.max_bytes)


async def _receive(receive, deadline, stopping):
    """The next message, or None at the deadline or once `stopping` is set."""
    waits = [asyncio.ensure_future(receive())]
    if stopping is not None:
        waits.append(asyncio.ensure_future(stopping.wait()))
    try:
        done, _ = await asyncio.wait(
            waits, timeout=max(0.0, deadline - time.monotonic()), return_when="FIRST_COMPLETED"
        )
    finally:
        for wait in waits:
            wait.cancel()
    return waits[0].result() if waits[0] in done else None


def _content_length(scope):
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None  # none given, or one the HTTP layer has already refused


def error_response(status, problems, close=False):
    """The JSON answer to a refused request: `{"error": "FIELD: MESSAGE", "problems": [...]}`."""
    first = problems[0]
    summary = f"{first['field']}: {first['message']}"
    headers = {"connection": "close"} if close else None
    return JSONResponse({"error": summary, "problems": problems}, status, headers=headers)


async def _refuse(send, status, field, message, limit=None):
    """Answers with one problem and closes the connection (its unread body is never read)."""
    problem = {"field": field, "message": message}
    if limit is not None:
        problem["limit"] = limit
    await error_response(status, [problem], close=True)({"type": "http"}, None, send)


def _replay(body, receive):
    """A `receive` that gives `body` once, then waits on the real one (for a disconnect)."""
    replayed = False

    async def replay():
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
