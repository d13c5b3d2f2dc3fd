"""Load test of `keras-seq serve`: throughput and latency with and without micro-batching.

32 concurrent clients (one asyncio process, plain keep-alive HTTP/1.1) send single-sentence
tagging requests to a `keras-seq serve` process on 127.0.0.1 for a fixed time, once with
micro-batching (the model runs once per batch of up to 32 records) and once with
`--max-batch-size 1` (one `model.predict` per request). A third phase has one client
alone (the single-client throughput). Prints requests per second, p50 / p99 latency and
failures per mode, and the two ratios; exits 1 if a request failed or the
ratio is below `--min-ratio`.

Bounded and local: the server binds 127.0.0.1 on a free port, each phase lasts `--seconds`,
and the server is stopped (SIGTERM, drained) after each phase.

    python -m benchmarks.serve_load [--run RUN] [--seconds 30] [--clients 32] [--backend B]

Without `--run`, it first trains the bundled tagger (specs/tagger.yaml) for one epoch into a
temporary folder. Clients and server share the machine: on a loaded machine both phases slow
down; the ratio is the figure to read.
"""

import argparse
import asyncio
import json
import os
import pathlib
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SENTENCES = ROOT / "keras_seq" / "datasets" / "tagger-test.conllu"


def sentences(path=SENTENCES):
    """The test sentences' words, one list per sentence (CoNLL-U column 2)."""
    found, words = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) == 10 and fields[0].isdigit():
            words.append(fields[1])
        elif not line.strip() and words:
            found.append(words)
            words = []
    return found + ([words] if words else [])


def train(folder, backend, epochs=1):
    command = [sys.executable, "-m", "keras_seq.cli", "train", str(ROOT / "specs" / "tagger.yaml")]
    command += ["--epochs", str(epochs), "--output", str(folder), "--backend", backend]
    subprocess.run(command, check=True, timeout=900)
    return folder


class Server:
    """`keras-seq serve RUN` in a child process, on a free port of 127.0.0.1."""

    def __init__(self, run, backend, batch_size, log, options=()):
        command = [sys.executable, "-m", "keras_seq.cli", "serve", str(run), "--port", "0"]
        command += ["--no-access-log", "--max-batch-size", str(batch_size), "--backend", backend]
        command += list(options)
        self.log = log
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def url(self, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", self.log_text())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise RuntimeError("the server stopped:\n" + self.log_text())
            time.sleep(0.2)
        raise TimeoutError("the server did not start in time")

    def log_text(self):
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


class Connection:
    """A minimal HTTP/1.1 keep-alive client: a load generator must cost less CPU than the
    server it measures (httpx costs about as much per request as the server does)."""

    def __init__(self, url):
        found = re.match(r"http://([\d.]+):(\d+)(/.*)", url)
        self.host, self.port, self.path = found.group(1), int(found.group(2)), found.group(3)
        self.reader = self.writer = None

    async def post(self, body):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: (\d+)", header).group(1))
        return status, json.loads(await self.reader.readexactly(length))

    def close(self):
        if self.writer is not None:
            self.writer.close()


async def _client(url, texts, start, stop_at, latencies, failures):
    connection = Connection(url)
    index = start
    try:
        while time.monotonic() < stop_at:
            words = texts[index % len(texts)]
            index += 1
            body = json.dumps({"records": [words]}).encode()
            began = time.monotonic()
            try:
                status, answer = await connection.post(body)
                ok = status == 200 and len(answer["predictions"][0]) == len(words)
            except (OSError, asyncio.IncompleteReadError, ValueError, KeyError):
                ok = False
            if ok:
                latencies.append(time.monotonic() - began)
            else:
                failures.append(index)
    finally:
        connection.close()


async def load(url, texts, clients, seconds):
    """`(latencies in seconds, failures)` of `clients` concurrent loops for `seconds`."""
    latencies, failures = [], []
    warm = Connection(url)
    await warm.post(json.dumps({"records": [texts[0]]}).encode())  # not counted
    warm.close()
    stop_at = time.monotonic() + seconds
    await asyncio.gather(
        *(_client(url, texts, i * 7, stop_at, latencies, failures) for i in range(clients))
    )
    return latencies, failures


def phase(run, backend, batch_size, texts, clients, seconds):
    with tempfile.NamedTemporaryFile("w", suffix=".log") as log:
        server = Server(run, backend, batch_size, log)
        try:
            url = server.url() + "/predict"
            started = time.monotonic()
            latencies, failures = asyncio.run(load(url, texts, clients, seconds))
            elapsed = time.monotonic() - started
        finally:
            code = server.stop()
    latencies.sort()
    return {
        "max_batch_size": batch_size,
        "requests": len(latencies),
        "failed": len(failures),
        "throughput": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "server_exit": code,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained tagger run (default: train one, 1 epoch)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32, help="batched mode's max batch")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--min-ratio", type=float, default=3.0)
    args = parser.parse_args(argv)
    texts = sentences()
    with tempfile.TemporaryDirectory() as scratch:
        run = args.run or train(pathlib.Path(scratch) / "tagger", args.backend)
        results = [
            phase(run, args.backend, size, texts, clients, args.seconds)
            for size, clients in ((args.batch_size, args.clients), (1, args.clients), (1, 1))
        ]
    print(
        f"backend {args.backend}, {args.seconds:g} s per mode, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'mode':<30}{'requests':>9}{'failed':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    modes = (f"{args.clients} clients, micro-batched", f"{args.clients} clients, one per predict")
    for result, mode in zip(results, (*modes, "1 client")):
        print(
            f"{mode:<30}{result['requests']:>9}{result['failed']:>8}{result['throughput']:>9.1f}"
            f"{result['p50_ms']:>9.1f}{result['p99_ms']:>9.1f}"
        )
    ratio = results[0]["throughput"] / max(results[1]["throughput"], 1e-9)
    single = results[0]["throughput"] / max(results[2]["throughput"], 1e-9)
    print(f"throughput ratio (micro-batched / one predict per request): {ratio:.2f}x")
    print(f"throughput ratio (micro-batched / one client alone): {single:.2f}x")
    failed = sum(r["failed"] for r in results)
    return 0 if failed == 0 and ratio >= args.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
