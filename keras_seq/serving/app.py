"""`create_app`: a FastAPI application that serves a task's predictions over HTTP.

Routes: `POST /predict` (`{"records": [...]}` -> `{"predictions": [...]}`), `POST /explain`
(`{"records": [...]}` -> `{"explanations": [...]}`, see `keras_seq.explain`), `GET /health`,
`GET /metadata`, and FastAPI's generated `/docs` and `/openapi.json`. Every refused request gets
a JSON body `{"error": "...", "problems": [{"field": ..., "message": ..., "limit": ...}]}`:

- 400: the body is not UTF-8, not valid JSON, nests too deeply or gives a key twice;
- 408: the body did not arrive within `Limits.body_timeout_s`;
- 413: the body (or its declared `Content-Length`) is larger than `Limits.max_body_bytes`;
- 415: the Content-Type is not JSON;
- 422: the JSON does not have the request's shape, breaks a limit, or a record cannot be
  predicted (the task's own `DataError` or `ValueError`, naming the record);
- 404 / 405: no such route or method; 503: the server is stopping.
"""

import asyncio
import contextlib
import dataclasses
import json
import logging
import time

import numpy as np
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from keras_seq.backend.threads import model_thread
from keras_seq.data import DataError
from keras_seq.progress import duration
from keras_seq.serving.batcher import MicroBatcher, RecordError, ShuttingDown
from keras_seq.serving.body import BodyReader, error_response
from keras_seq.serving.json_body import JSONRoute
from keras_seq.serving.records import Limits, request_model, sample_record

logger = logging.getLogger("keras_seq.serving")
# Start-up steps are told where uvicorn tells its own (shown without -v).
uvicorn_log = logging.getLogger("uvicorn.error")


def _plain(value):
    """NumPy scalars and arrays as Python numbers and lists, for JSON."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _field(loc):
    """`("body", "records", 2)` -> `records[2]`."""
    name = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name or "body"


def _problem(error):
    context = error.get("ctx") or {}
    if error["type"] == "extra_forbidden":
        message = "unknown field; the body holds only 'records'"
    elif error["type"] == "missing":
        message = "required field is missing"
    elif error["type"] == "too_short":
        message = f"{context['actual_length']} items; give at least {context['min_length']}"
    elif error["type"] == "too_long":
        message = f"{context['actual_length']} items; the limit is {context['max_length']}"
    elif error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        message = 'the body must be a JSON object: {"records": [...]}'
    else:
        message = error["msg"]
    problem = {"field": _field(error["loc"]), "message": message}
    limit = context.get("limit", context.get("max_length", context.get("min_length")))
    if limit is not None:
        problem["limit"] = limit
    return problem


def _is_json(content_type):
    kind = content_type.split(";")[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


async def _invalid_request(request, exc):
    errors = exc.errors()
    content_type = request.headers.get("content-type", "")
    if not _is_json(content_type):
        given = f"got {content_type!r}" if content_type else "none was given"
        problem = {"field": "Content-Type", "message": f"must be application/json; {given}"}
        return error_response(415, [problem])
    return error_response(422, [_problem(error) for error in errors])


async def _http_error(request, exc):
    field = "body" if exc.status_code == 400 else request.url.path  # 400: `json_body.parse`
    problem = {"field": field, "message": str(exc.detail)}
    return error_response(exc.status_code, [problem])


def _metadata(task, limits):
    spec = task.spec
    labels = task.state.get("labels")
    labels = getattr(labels, "tokens", labels)  # a Vocabulary's tokens
    return {
        "task": spec.head.type,
        "input": spec.input.kind,
        "labels": labels,
        "spec": spec.to_dict(),
        "limits": dataclasses.asdict(limits),
    }


def create_app(task, limits=None):
    """A FastAPI application that serves `task.predict` with micro-batching and limits.

    Run it with uvicorn (`keras_seq.serving.run`, or `keras-seq serve RUN`); start-up starts
    the micro-batcher and shut-down finishes every request already accepted.

    Args:
        task: a keras_seq task: `task.spec` (its spec), `task.state` (a dict of what it learned,
            its `labels` shown by `/metadata`) and `task.predict(records)` (raw records to one
            JSON-able prediction each).
        limits: `Limits`, optional. Records per request, tokens per record, body size, batch
            size and wait; the defaults when not given.

    Returns:
        A `fastapi.FastAPI` application.

    The routes are written here, together, as closures over this app's batcher and limits
    (FastAPI's usual shape), which is why the function is longer than most.
    """
    limits = limits or Limits()

    def run_batch(items):
        """`(route, record)` pairs: predictions in one call, explanations one by one, all on
        the batcher's one thread (an explanation swaps a layer's output while it runs)."""
        with model_thread():
            records = [record for route, record in items if route == "predict"]
            predictions = iter(task.predict(records) if records else [])
            found = [
                next(predictions) if route == "predict" else task.explain([record])[0]
                for route, record in items
            ]
        return json.loads(json.dumps(found, default=_plain))

    batcher = MicroBatcher(
        run_batch, max_batch_size=limits.max_batch_size, max_wait=limits.max_wait_ms / 1000
    )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        uvicorn_log.info("warming up: the first prediction compiles the model")
        started = time.monotonic()
        try:  # the first model call traces / compiles: not on a client's time
            await batcher.submit([("predict", sample_record(task.spec))])
        except RecordError as error:
            logger.warning("warm-up prediction failed (%s); serving anyway", error)
        uvicorn_log.info("warm-up done in %s", duration(time.monotonic() - started))
        app.state.stopping = asyncio.Event()  # set by `keras_seq.serving.run` at shut-down
        yield
        await batcher.stop()

    app = FastAPI(
        title=f"keras-seq {task.spec.head.type}",
        description=f"Predictions of the keras-seq model `{task.spec.name}`.",
        lifespan=lifespan,
    )
    app.router.route_class = JSONRoute
    app.add_middleware(
        BodyReader,
        max_bytes=limits.max_body_bytes,
        timeout=limits.body_timeout_s,
        stopping=lambda: getattr(app.state, "stopping", None),
    )
    app.state.batcher = batcher
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    PredictRequest = request_model(task.spec.input, limits)
    metadata = _metadata(task, limits)

    async def answer(route, records, key):
        try:
            found = await batcher.submit([(route, record) for record in records])
        except RecordError as error:
            if not isinstance(error.error, DataError | ValueError):
                raise
            problem = {"field": f"records[{error.index}]", "message": str(error.error)}
            return error_response(422, [problem])
        except ShuttingDown as error:
            return error_response(503, [{"field": "server", "message": str(error)}])
        return JSONResponse({key: found})  # already plain: no re-encoding

    @app.post("/predict")
    async def predict(body: PredictRequest):
        """Predictions for the records, in their order."""
        return await answer("predict", body.records, "predictions")

    @app.post("/explain")
    async def explain(body: PredictRequest):
        """Integrated-gradients explanations of the records' predictions, in their order
        (`keras_seq.explain.explain`, 64 steps)."""
        return await answer("explain", body.records, "explanations")

    @app.get("/health")
    async def health():
        """`{"status": "ok"}` while the server takes requests."""
        return {"status": "ok"}

    @app.get("/metadata")
    async def get_metadata():
        """The task, its labels, its resolved spec and the request limits."""
        return metadata

    return app
