"""`BodyLimit`: an ASGI middleware that refuses a request body over a size, before any parsing."""

from starlette.responses import JSONResponse


class BodyLimit:
    """Reads each request body, and answers 413 with a JSON error when it passes `max_bytes`.

    The body is read in full before the application sees it (at most `max_bytes` of it is kept;
    the rest of a larger one is read and dropped, so the client can read the answer), then
    handed on unchanged.

    Args:
        app: the ASGI application to protect.
        max_bytes: int. Largest body passed on.
    """

    def __init__(self, app, max_bytes):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            more = message.get("more_body", False)
            if size <= self.max_bytes:
                chunks.append(chunk)
        if size > self.max_bytes:
            message = f"the body has {size} bytes; the limit is {self.max_bytes}"
            problem = {"field": "body", "message": message, "limit": self.max_bytes}
            response = JSONResponse(
                {"error": f"body: {message}", "problems": [problem]}, status_code=413
            )
            await response(scope, receive, send)
            return
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # waits for the client to disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
