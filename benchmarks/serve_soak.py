"""Soak test of `keras-seq serve`: good, bad and slow clients together for minutes.

A `keras-seq serve` process on 127.0.0.1 (a tagger run, by default the bundled one trained
for 3 epochs) gets, from one asyncio process, for `--minutes` (default 10):

- good clients (httpx): one to three test sentences per request; each answer must equal
  `task.predict` of the same records, computed once beforehand in this process;
- bad clients (raw HTTP/1.1): malformed JSON, duplicate keys, wrong types, non-UTF-8, deep
  nesting, an oversized body and a declared oversized `Content-Length`; each must get its
  own 4xx;
- slow clients (raw HTTP/1.1): stall mid-headers or mid-body; each must get 408 and see the
  connection closed within the timeout (plus a margin).

The server's resident memory is sampled every `--sample-seconds`. Criteria, each printed with
its figures; the exit status is 1 when one fails:

- no good request failed (wrong answer, error status, time-out or connection error);
- every bad and slow client got the status it should;
- memory is flat: the mean RSS of the last minute is within 10 % of the mean of the first
  minute after `--warmup-seconds`;
- the server log has no "Traceback", and SIGTERM ends the server with status 0.

    python -m benchmarks.serve_soak [--run RUN] [--minutes 10] [--backend torch]
"""

import argparse
import asyncio
import collections
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time

from benchmarks.serve_load import Server, sentences, train

TIMEOUT = 2.0  # --header-timeout and --body-timeout of the served process
MAX_BODY = 100_000  # --max-body-bytes: oversized bodies stay cheap to send
BAD = {  # name: (body, status it must get)
    "malformed JSON": (b'{"records": [["a", "man"]', 400),
    "duplicate key": (b'{"records": [["a"]], "records": [["b"]]}', 400),
    "records not a list": (b'{"records": 5}', 422),
    "record of numbers": (b'{"records": [[1, 2]]}', 422),
    "body not an object": (b'[["a", "man"]]', 422),
    "unknown field": (b'{"records": [["a"]], "extra": 1}', 422),
    "not UTF-8": (b'{"records": [["caf\xe9"]]}', 400),
    "nested 100000 deep": (b"[" * 100_000, 400),
    "oversized body": (b'{"records": [["' + b"a" * (MAX_BODY + 10) + b'"]]}', 413),
}


def expected_predictions(run, backend, texts):
    """`task.predict` of every test sentence, once, in this process."""
    os.environ["KERAS_BACKEND"] = backend
    import keras_seq

    return keras_seq.load(run).predict(texts)


async def _raw(host, port, head, body=b"", stall=None, limit=30.0):
    """Sends `head` + `body` on a fresh connection (stalling `stall` seconds after them when
    given, without finishing the request) and reads to the end of the connection.

    Returns `(status or the error's name, seconds until the connection closed)`."""
    began = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        return type(error).__name__, 0.0
    try:
        writer.write(head + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), limit)
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else "empty"
    except (OSError, asyncio.TimeoutError) as error:
        status = type(error).__name__
    finally:
        writer.close()
    return status, time.monotonic() - began


def _head(host, length, path="/predict", close=True):
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {length}\r\n" + ("Connection: close\r\n" if close else "")
    return (head + "\r\n").encode()


class Soak:
    """The clients' shared state and counters."""

    def __init__(self, url, texts, expected, stop_at):
        self.url, self.texts, self.expected, self.stop_at = url, texts, expected, stop_at
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.good = collections.Counter()
        self.bad = collections.defaultdict(collections.Counter)
        self.slow = collections.defaultdict(collections.Counter)
        self.failures = {"good": [], "bad": [], "slow": []}
        self.rss = []  # (seconds since start, bytes)

    def running(self):
        return time.monotonic() < self.stop_at

    async def good_client(self, seed):
        import httpx

        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=self.url, timeout=30.0) as client:
            while self.running():
                picks = rng.sample(range(len(self.texts)), rng.randint(1, 3))
                records = [self.texts[i] for i in picks]
                try:
                    response = await client.post("/predict", json={"records": records})
                    ok = response.status_code == 200 and response.json()["predictions"] == [
                        self.expected[i] for i in picks
                    ]
                    why = f"status {response.status_code}: {response.text[:200]}"
                except (httpx.HTTPError, ValueError, KeyError) as error:
                    ok, why = False, f"{type(error).__name__}: {error}"
                self.good["sent"] += 1
                if not ok:
                    self.good["failed"] += 1
                    self.failures["good"].append(f"good request {picks}: {why}")

    async def bad_client(self, seed):
        rng = random.Random(seed)
        while self.running():
            name = rng.choice([*BAD, "declared 10 GB"])
            if name == "declared 10 GB":
                status, _ = await _raw(self.host, self.port, _head(self.host, 10**10))
                wanted = 413
            else:
                body, wanted = BAD[name]
                status, _ = await _raw(self.host, self.port, _head(self.host, len(body)), body)
            self.bad[name][status] += 1
            if status != wanted:
                self.failures["bad"].append(f"bad client '{name}': got {status}, wanted {wanted}")
            await asyncio.sleep(rng.uniform(0.05, 0.3))

    async def slow_client(self, seed):
        rng = random.Random(seed)
        while self.running():
            if rng.random() < 0.5:
                name = "stalls mid-headers"
                head = f"POST /predict HTTP/1.1\r\nHost: {self.host}\r\nContent-Ty".encode()
                status, took = await _raw(self.host, self.port, head, limit=TIMEOUT + 10)
            else:
                name, body = "stalls mid-body", b'{"records": [["a", "ma'
                head = _head(self.host, len(body) + 20, close=False)
                status, took = await _raw(self.host, self.port, head, body, limit=TIMEOUT + 10)
            self.slow[name][status] += 1
            if status != 408 or took > TIMEOUT + 5:
                self.failures["slow"].append(
                    f"slow client '{name}': got {status} after {took:.1f} s"
                )

    async def sample_rss(self, pid, every):
        began = time.monotonic()
        while self.running():
            self.rss.append((time.monotonic() - began, _rss(pid)))
            await asyncio.sleep(every)


def _rss(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def soak(soak_state, pid, clients, every):
    good, bad, slow = clients
    await asyncio.gather(
        soak_state.sample_rss(pid, every),
        *(soak_state.good_client(i) for i in range(good)),
        *(soak_state.bad_client(100 + i) for i in range(bad)),
        *(soak_state.slow_client(200 + i) for i in range(slow)),
    )


def memory(rss, warmup):
    """`(first, last, max, mean of the first minute after warm-up, mean of the last minute)`."""
    values = [v for _, v in rss]
    end = rss[-1][0]
    early = [v for t, v in rss if warmup <= t < warmup + 60] or values[:1]
    late = [v for t, v in rss if t >= end - 60] or values[-1:]
    return values[0], values[-1], max(values), statistics.mean(early), statistics.mean(late)


def report(state, minutes, log_text, exit_code, warmup):
    """Prints the figures and the criteria; returns the list of failed criteria."""
    mib = 2**20
    first, last, peak, early, late = memory(state.rss, warmup)
    growth = late / early - 1
    print(
        f"{minutes:g} min, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
        f"good requests: {state.good['sent']} sent, {state.good['failed']} failed"
    )
    for kind, counts in (("bad", state.bad), ("slow", state.slow)):
        for name, statuses in sorted(counts.items()):
            got = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items(), key=str))
            print(f"{kind} client '{name}': {got}")
    print(
        f"server RSS MiB: first {first / mib:.1f}, last {last / mib:.1f}, max {peak / mib:.1f}; "
        f"mean of the first minute after warm-up {early / mib:.1f}, of the last minute "
        f"{late / mib:.1f} ({100 * growth:+.1f} %); {len(state.rss)} samples"
    )
    traceback = "Traceback" in log_text
    print(f"server log has a Traceback: {traceback}; server exit status {exit_code}")
    for failures in state.failures.values():
        for failure in failures[:10]:
            print("  " + failure)
    failed = {
        "no good request was answered": state.good["sent"] == state.good["failed"],
        "a good request failed": bool(state.failures["good"]),
        "a bad client got the wrong answer": bool(state.failures["bad"]),
        "a slow client got the wrong answer": bool(state.failures["slow"]),
        "memory grew by more than 10 %": abs(growth) > 0.10,
        "a Traceback in the server log": traceback,
        "the server did not exit with 0": exit_code != 0,
    }
    return [name for name, bad in failed.items() if bad]


def serve_and_soak(run, args, log, texts, expected):
    """Starts the server, runs the clients for `args.minutes`, stops it with SIGTERM;
    returns `(the Soak, the server's exit status)`."""
    options = ["--header-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT)]
    options += ["--max-body-bytes", str(MAX_BODY)]
    server = Server(run, args.backend, 32, log, options)
    try:
        state = Soak(server.url(), texts, expected, time.monotonic() + 60 * args.minutes)
        asyncio.run(soak(state, server.process.pid, args.clients, args.sample_seconds))
    finally:
        code = server.stop()
    return state, code


def server_log(log):
    log.flush()
    return pathlib.Path(log.name).read_text(errors="replace")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained tagger run (default: train one, 3 epochs)")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "torch"))
    parser.add_argument(
        "--clients", type=int, nargs=3, default=(4, 2, 2), metavar=("GOOD", "BAD", "SLOW")
    )
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--warmup-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    texts = sentences()
    with tempfile.TemporaryDirectory() as scratch:
        run = args.run or train(pathlib.Path(scratch) / "tagger", args.backend, epochs=3)
        expected = expected_predictions(run, args.backend, texts)
        with open(pathlib.Path(scratch) / "server.log", "w+") as log:
            state, code = serve_and_soak(run, args, log, texts, expected)
            failed = report(state, args.minutes, server_log(log), code, args.warmup_seconds)
    print("FAILED: " + "; ".join(failed) if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
