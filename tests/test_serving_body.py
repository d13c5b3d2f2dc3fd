"""`BodyReader` on its own, without a server: what it answers a request that uvicorn cancels
at the end of the drain, and a body that passes the limit without declaring its length."""

import asyncio
import json
import logging

from keras_seq.serving.body import BodyReader

SCOPE = {"type": "http", "method": "POST", "path": "/predict", "headers": []}


def _call(reader, messages, cancel_after=None):
    """Runs `reader` on a request whose body arrives as `messages`; what it sent."""
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # the client stalls

    async def send(message):
        sent.append(message)

    async def main():
        task = asyncio.create_task(reader(SCOPE, receive, send))
        if cancel_after is not None:
            await asyncio.sleep(cancel_after)
            task.cancel()
        await task  # ends without raising: the reader answers and returns

    asyncio.run(main())
    return sent


def _answer(sent):
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    return sent[0]["status"], dict(sent[0]["headers"]), json.loads(sent[1]["body"])


def test_a_request_cancelled_at_shutdown_is_answered_503_with_one_log_line(caplog):
    async def slow_app(scope, receive, send):
        await receive()
        await asyncio.sleep(3600)  # a prediction that outlives the drain

    reader = BodyReader(slow_app, max_bytes=100, timeout=10)
    body = {"type": "http.request", "body": b"{}", "more_body": False}
    with caplog.at_level(logging.WARNING, logger="keras_seq.serving"):
        status, headers, answer = _answer(_call(reader, [body], cancel_after=0.05))
    assert status == 503 and headers[b"connection"] == b"close"
    assert answer["problems"] == [
        {"field": "server", "message": "the server is shutting down; send it again"}
    ]
    assert [r.getMessage() for r in caplog.records] == ["POST /predict stopped at shut-down"]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_chunked_body_over_the_limit_is_refused_without_reading_the_rest():
    calls = []

    async def app(scope, receive, send):
        calls.append(scope)

    chunk = {"type": "http.request", "body": b"x" * 60, "more_body": True}
    messages = [dict(chunk), dict(chunk), dict(chunk)]
    status, headers, answer = _answer(_call(BodyReader(app, max_bytes=100, timeout=10), messages))
    assert status == 413 and headers[b"connection"] == b"close" and calls == []
    assert answer["error"] == "body: the body has more than 100 bytes; the limit is 100"
    assert len(messages) == 1  # the third chunk was never read


def test_serve_timeouts_must_be_positive_numbers(capsys):
    from keras_seq import cli

    for option in ("--body-timeout", "--header-timeout", "--drain-timeout"):
        for value in ("0", "-1", "nan", "soon"):
            try:
                cli.build_parser().parse_args(["serve", "RUN", option, value])
            except SystemExit as stop:
                assert stop.code == 2
            else:
                raise AssertionError(f"{option} {value} was accepted")
            assert f"{option}: must be a number > 0, got '{value}'" in capsys.readouterr().err
    args = cli.build_parser().parse_args(["serve", "RUN", "--body-timeout", "2.5"])
    assert (args.body_timeout_s, args.header_timeout, args.drain_timeout) == (2.5, 10.0, 30.0)
