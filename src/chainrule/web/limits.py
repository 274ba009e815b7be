"""A cap on the size of a request's body, before anything reads it.

The hiker's largest sensible body (six optimisers, a 500-character formula) is a few
kilobytes; without a cap, a 100 MB body would be read and parsed before pydantic's limits
could refuse it. Bodies over ``max_bytes`` get a 413, whether they announce their length or
arrive in chunks.
"""

from __future__ import annotations

import json

__all__ = ["BodySizeLimit", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 64 * 1024


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes``.

    The body is read here first (it is small, or refused), then handed to the app whole.
    """

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        parts = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            part = message.get("body", b"")
            size += len(part)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            parts.append(part)
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(parts), "more_body": False}
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return whole
            return await receive()  # after the body: a disconnect, when it comes

        await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        message = f"the request body is larger than {self.max_bytes} bytes"
        body = json.dumps({"detail": {"message": message}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
