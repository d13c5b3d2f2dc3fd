"""`JSONRoute`: FastAPI routes whose JSON bodies are parsed strictly, each fault named.

The body must be UTF-8 (RFC 8259), valid JSON, nest at most as deep as Python's parser goes,
give each key once per object (the data readers' rule: `json` would keep the last silently),
and hold no lone UTF-16 surrogate (`"\\ud800"`), which no UTF-8 answer could echo. Anything
else is answered 400 with a message saying which, where FastAPI says "There was an error
parsing the body".
"""

import json
import re

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request

from keras_seq.data.readers import DuplicateKey, unique_keys

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse(body):
    """The JSON value of `body` (bytes), or an `HTTPException(400)` saying what is wrong.

    >>> parse(b'{"records": ["a man"]}')
    {'records': ['a man']}
    >>> parse(b'{"a": 1, "a": 2}')
    Traceback (most recent call last):
    ...
    starlette.exceptions.HTTPException: 400: the key 'a' appears twice in one object; give it once
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        _refuse(f"the body is not UTF-8 (byte {body[error.start]:#04x} at offset {error.start})")
    try:
        value = json.loads(text, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as error:
        _refuse(f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})")
    except DuplicateKey as error:
        _refuse(f"the key {error.key!r} appears twice in one object; give it once")
    except RecursionError:
        _refuse('the JSON nests too deeply to read; the body is {"records": [...]}')
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        _refuse(f"unreadable JSON value: {error}")
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(value):
        _refuse("a string holds a lone UTF-16 surrogate (\\ud800 to \\udfff); send valid text")
    return value


def _refuse(message):
    raise HTTPException(400, message) from None


def _has_lone_surrogate(value):
    """Whether a string anywhere in `value` cannot be written as UTF-8 (walked without
    recursion: the value may nest as deep as the parser allowed)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class _StrictRequest(Request):
    async def json(self):
        if not hasattr(self, "_json"):
            self._json = parse(await self.body())
        return self._json


class JSONRoute(APIRoute):
    """An `APIRoute` whose request body is read by `parse` (set `router.route_class`)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict_handler(request):
            return await handler(_StrictRequest(request.scope, request.receive))

        return strict_handler
