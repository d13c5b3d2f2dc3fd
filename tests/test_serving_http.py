"""`keras-seq serve` over real HTTP: a uvicorn process on 127.0.0.1 answers with the task's own
predictions, refuses 20+ kinds of bad request with the right 4xx and keeps serving, and drains
in-flight requests on SIGTERM. The other tasks are served by uvicorn in a thread."""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
import uvicorn

import keras_seq
from keras_seq.serving import Limits, create_app

MAX_RECORDS, MAX_TOKENS, MAX_BODY = 8, 50, 1_000_000
MAX_WAIT_MS = 600  # long enough that the drain test's requests are still waiting at SIGTERM
TIMEOUT = 1  # --header-timeout and --body-timeout
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server(small_runs, tmp_path_factory):
    """`keras-seq serve` of the small tagger run, in its own process on a free port."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    command = [sys.executable, "-m", "keras_seq.cli", "serve", str(small_runs["tagger"][0])]
    command += ["--port", "0", "--max-records", str(MAX_RECORDS), "--max-tokens", str(MAX_TOKENS)]
    command += ["--max-wait-ms", str(MAX_WAIT_MS)]
    command += ["--header-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = _wait_for_url(process, log)
        yield process, url, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _wait_for_url(process, log, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"Uvicorn running on (http://[\d.]+:\d+)", log.read_text())
        if found:
            return found.group(1)
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    raise TimeoutError(log.read_text()[-3000:])


def test_binds_127_0_0_1_by_default_and_reports_health_and_metadata(server, small_runs):
    _, url, log = server
    assert url.startswith("http://127.0.0.1:")
    start_up = log.read_text()  # each slow step says what it does, then how long it took
    assert re.search(r"loading .*\n.*loaded in \d+s on \w+\n", start_up), start_up
    assert re.search(r"warming up.*\n.*warm-up done in \d+s\n", start_up), start_up
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    metadata = httpx.get(f"{url}/metadata").json()
    task = keras_seq.load(small_runs["tagger"][0])
    assert metadata["task"] == "tagger"
    assert metadata["labels"] == task.state["labels"].tokens
    assert metadata["spec"] == task.spec.to_dict()
    assert metadata["limits"]["max_records"] == MAX_RECORDS
    assert "/predict" in httpx.get(f"{url}/openapi.json").json()["paths"]
    assert httpx.get(f"{url}/docs").status_code == 200


def test_predictions_equal_the_tasks_own_even_when_requests_share_batches(server, small_runs):
    _, url, _ = server
    run, inputs = small_runs["tagger"]
    expected = keras_seq.load(run).predict(inputs)
    response = httpx.post(f"{url}/predict", json={"records": inputs})
    assert response.status_code == 200
    assert response.json() == {"predictions": expected}
    # 16 concurrent one-record requests: each gets its own record's tags.
    singles = [[inputs[i % 2]] for i in range(16)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(lambda r: httpx.post(f"{url}/predict", json={"records": r}), singles)
        )
    assert [a.json()["predictions"][0] for a in answers] == [expected[i % 2] for i in range(16)]


BAD = {
    # name: (body bytes or JSON-able, headers, status, field, limit)
    "invalid JSON": (b'{"records": [', JSON, 400, "body", None),
    "not JSON at all": (b"hello", JSON, 400, "body", None),
    "invalid UTF-8": (b'{"records": ["\xff\xfe"]}', JSON, 400, "body", None),
    "wrong content type": (
        b'{"records": ["a"]}',
        {"content-type": "text/plain"},
        415,
        "Content-Type",
        None,
    ),
    "no content type": (b'{"records": ["a"]}', {}, 415, "Content-Type", None),
    "body is a list": ([["a"]], None, 422, "body", None),
    "body is a string": ("a man", None, 422, "body", None),
    "records missing": ({}, None, 422, "records", None),
    "records not a list": ({"records": "a man"}, None, 422, "records", None),
    "empty list": ({"records": []}, None, 422, "records", 1),
    "too many records": ({"records": ["a"] * (MAX_RECORDS + 1)}, None, 422, "records", MAX_RECORDS),
    "record is a number": ({"records": [5]}, None, 422, "records[0]", None),
    "record is an object": ({"records": ["a", {"tokens": ["a"]}]}, None, 422, "records[1]", None),
    "record is null": ({"records": [None]}, None, 422, "records[0]", None),
    "token is a number": ({"records": [["a", 1]]}, None, 422, "records[0]", None),
    "token is a list": ({"records": [["a", ["b"]]]}, None, 422, "records[0]", None),
    "empty text": ({"records": ["  "]}, None, 422, "records[0]", None),
    "empty token list": ({"records": [[]]}, None, 422, "records[0]", None),
    "one token too many": (
        {"records": [["a"] * (MAX_TOKENS + 1)]},
        None,
        422,
        "records[0]",
        MAX_TOKENS,
    ),
    "100 000 tokens": ({"records": ["a " * 100_000]}, None, 422, "records[0]", MAX_TOKENS),
    "unknown field": ({"records": ["a"], "beam": 4}, None, 422, "beam", None),
    "NaN": (b'{"records": NaN}', JSON, 422, "records", None),
    "10 MB body": (b'{"records": ["' + b"a " * 5_000_000 + b'"]}', JSON, 413, "body", MAX_BODY),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_request_gets_a_clear_4xx_and_the_next_request_is_served(server, name):
    process, url, _ = server
    body, headers, status, field, limit = BAD[name]
    if isinstance(body, bytes):
        response = httpx.post(f"{url}/predict", content=body, headers=headers)
    else:
        response = httpx.post(f"{url}/predict", json=body)
    assert response.status_code == status, response.text
    problem = response.json()["problems"][0]
    assert problem["field"] == field, response.json()
    assert problem.get("limit") == limit, response.json()
    assert response.json()["error"].startswith(f"{field}: ")
    if limit is not None:
        assert str(limit) in problem["message"]
    good = httpx.post(f"{url}/predict", json={"records": ["a man"]})
    assert good.status_code == 200 and len(good.json()["predictions"][0]) == 2
    assert process.poll() is None


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"records": ["a"], "records": ["b"]}', "the key 'records' appears twice"),
        (b'{"records": ["a\xff"]}', "not UTF-8 (byte 0xff at offset"),
        (b'{"records": ' + b"[" * 100_000, "nests too deeply"),
        (b'{"records": ["\\ud800"]}', "lone UTF-16 surrogate"),
        (b'{"records": [' + b"9" * 5000 + b"]}", "unreadable JSON value"),
        (b'{"records": ["a"]', "invalid JSON: Expecting ',' delimiter (line 1, column 18)"),
    ],
    ids=["duplicate key", "not UTF-8", "100 000 deep", "lone surrogate", "huge int", "invalid"],
)
def test_a_body_json_cannot_take_gets_a_400_saying_why(server, body, message):
    _, url, log = server
    response = httpx.post(f"{url}/predict", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["problems"][0]["field"] == "body"
    assert message in response.json()["error"]
    assert "Traceback" not in log.read_text()


def _raw(url, data, wait=10):
    """What the server answers on a raw connection that sends `data` and then stalls."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(wait)
        sock.sendall(data)
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):  # until the server closes the connection
            answer += chunk
        return answer, time.monotonic() - started


HEAD = b"POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"


@pytest.mark.parametrize(
    "data, status, field",
    [
        (HEAD + b"content-length: 1000\r\n\r\n" + b'{"records"', 408, "body"),
        (HEAD, 408, "headers"),  # the headers never end
    ],
    ids=["body", "headers"],
)
def test_a_client_that_stalls_is_answered_408_and_closed_after_the_timeout(
    server, data, status, field
):
    _, url, _ = server
    answer, waited = _raw(url, data)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer
    assert b"connection: close" in answer.lower()
    problem = json.loads(answer.split(b"\r\n\r\n", 1)[1])["problems"][0]
    assert problem == {"field": field, "message": f"did not arrive within {TIMEOUT} s"} | {
        "limit": TIMEOUT
    }
    assert TIMEOUT * 0.9 < waited < TIMEOUT + 3


def test_a_declared_content_length_over_the_limit_is_answered_413_before_the_body(server):
    _, url, _ = server
    answer, waited = _raw(url, HEAD + b"content-length: 10000000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert waited < TIMEOUT * 0.9  # not after the body timeout: at once
    problem = json.loads(answer.split(b"\r\n\r\n", 1)[1])["problems"][0]
    assert problem["message"] == f"Content-Length is 10000000000 bytes; the limit is {MAX_BODY}"


def test_wrong_routes_and_methods_get_json_4xx(server):
    _, url, _ = server
    missing = httpx.post(f"{url}/nowhere", json={"records": ["a"]})
    assert missing.status_code == 404 and missing.json()["problems"][0]["field"] == "/nowhere"
    assert httpx.get(f"{url}/predict").status_code == 405


def test_sigterm_drains_requests_in_flight_answers_stalled_ones_503_then_exits_cleanly(server):
    """Last in this module: it stops the server. The requests are sent on open connections
    and wait up to MAX_WAIT_MS in the micro-batcher, so they are in flight at the signal; one
    more client has sent 10 bytes of its 1000-byte body and stalls."""
    process, url, log = server
    host, port = url.removeprefix("http://").split(":")
    stalled = socket.create_connection((host, int(port)))
    stalled.settimeout(10)

    async def burst():
        async with httpx.AsyncClient(timeout=60) as client:
            await asyncio.gather(*(client.get(f"{url}/health") for _ in range(12)))  # connect
            sent = [
                asyncio.create_task(
                    client.post(f"{url}/predict", json={"records": ["the old man"] * 4})
                )
                for _ in range(12)
            ]
            stalled.sendall(HEAD + b"content-length: 1000\r\n\r\n" + b'{"records"')
            await asyncio.sleep(MAX_WAIT_MS / 1500)  # all sent; the first batch still waits
            process.send_signal(signal.SIGTERM)
            return await asyncio.gather(*sent)

    answers = asyncio.run(burst())
    assert [a.status_code for a in answers] == [200] * 12
    assert all(len(a.json()["predictions"]) == 4 for a in answers)
    with stalled:
        answer = stalled.recv(65536)
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    assert b'"server: the server is shutting down; send it again"' in answer
    assert process.wait(timeout=60) == 0
    text = log.read_text()
    assert "Application shutdown complete" in text
    assert "Traceback" not in text and "ERROR" not in text, text[-3000:]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health")


def test_a_taken_port_exits_with_its_own_status_and_names_the_address(small_runs):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "keras_seq.cli", "serve", str(small_runs["tagger"][0])]
        done = subprocess.run(
            [*command, "--port", str(port)], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 4, done.stderr
    assert done.stderr == (
        f"keras-seq serve: cannot listen on 127.0.0.1:{port}: the address is already in use "
        "(another server runs there). Fix: stop it, or pass another --port (--port 0 takes a "
        "free one)\n"
    )


def _serve_in_thread(app):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("name", ["classifier", "forecaster", "seq2seq"])
def test_every_task_serves_its_own_predictions(small_runs, name):
    run, inputs = small_runs[name]
    task = keras_seq.load(run)
    expected = task.predict(inputs)
    server, thread, url = _serve_in_thread(create_app(task, Limits()))
    try:
        response = httpx.post(f"{url}/predict", json={"records": inputs}, timeout=60)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert response.status_code == 200, response.text
    served = response.json()["predictions"]
    if name == "classifier":
        assert [p["label"] for p in served] == [p["label"] for p in expected]
        for got, want in zip(served, expected):
            assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)
    elif name == "forecaster":
        np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-6)
    else:
        assert served == expected


def test_explain_serves_the_tasks_own_explanations_and_refuses_a_head_without_them(small_runs):
    run, inputs = small_runs["classifier"]
    task = keras_seq.load(run)
    expected = task.explain(inputs)
    seq2seq = keras_seq.load(small_runs["seq2seq"][0])
    servers = [_serve_in_thread(create_app(t, Limits())) for t in (task, seq2seq)]
    try:
        served = httpx.post(f"{servers[0][2]}/explain", json={"records": inputs}, timeout=120)
        refused = httpx.post(f"{servers[1][2]}/explain", json={"records": ["a b"]}, timeout=60)
    finally:
        for server, thread, _ in servers:
            server.should_exit = True
            thread.join(timeout=30)
    assert served.status_code == 200, served.text
    for got, want in zip(served.json()["explanations"], expected):
        assert got["prediction"]["label"] == want["prediction"]["label"]
        np.testing.assert_allclose(
            got["targets"][0]["attributions"]["tokens"],
            want["targets"][0]["attributions"]["tokens"],
            atol=1e-6,
        )
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {
            "field": "records[0]",
            "message": "a seq2seq head has no explanations. Fix: explain a "
            "tagger, classifier or forecaster (without data.time_column)",
        }
    ]


def test_a_feature_record_of_the_wrong_shape_names_the_row_and_dim(small_runs):
    task = keras_seq.load(small_runs["forecaster"][0])
    server, thread, url = _serve_in_thread(create_app(task, Limits()))
    try:
        bad = httpx.post(f"{url}/predict", json={"records": [[[0.1, 0.2]] * 6]})
        infinite = httpx.post(
            f"{url}/predict", content=b'{"records": [[[Infinity]]]}', headers=JSON
        )
        short = httpx.post(f"{url}/predict", json={"records": [[[0.1]] * 3]})
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert bad.status_code == 422
    assert bad.json()["problems"][0] == {
        "field": "records[0]",
        "message": "row 0 has 2 values; each row has input.dim = 1 numbers",
        "limit": 1,
    }
    assert infinite.status_code == 422 and "finite" in infinite.json()["error"]
    # 3 steps where the model was built for 6: whatever the task itself does with it (torch
    # raises, so a 422 naming the record; TensorFlow warns and forecasts) the server does.
    try:
        own = task.predict([[[0.1]] * 3])
    except ValueError:
        assert short.status_code == 422 and short.json()["problems"][0]["field"] == "records[0]"
    else:
        assert short.status_code == 200
        np.testing.assert_allclose(short.json()["predictions"], own, rtol=1e-5, atol=1e-6)


def test_an_address_not_of_this_machine_is_refused_in_one_line_before_loading(tmp_path):
    """192.0.2.1 is TEST-NET-1 (RFC 5737): never a local address. The run does not exist:
    the address is checked first."""
    command = [sys.executable, "-m", "keras_seq.cli", "serve", str(tmp_path / "no-run")]
    done = subprocess.run(
        [*command, "--host", "192.0.2.1", "--port", "8123"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "keras-seq serve: cannot listen on 192.0.2.1:8123: Cannot assign requested address. "
        "Fix: pass --host with an address of this machine (127.0.0.1, or 0.0.0.0)\n"
    )


def test_serve_without_fastapi_says_how_to_install_it(small_runs, tmp_path):
    """The quick commands never import the serving stack; `serve` names the extra it needs."""
    blocker = tmp_path / "fastapi.py"
    blocker.write_text("raise ImportError('blocked', name='fastapi')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "keras_seq.cli", "serve", str(small_runs["tagger"][0])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "pip install 'keras-seq[serve]'" in done.stderr
    script = (
        "import sys, keras_seq.cli; keras_seq.cli.build_parser(); print('fastapi' in sys.modules)"
    )
    quick = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert quick.stdout.strip() == "False", quick.stderr
