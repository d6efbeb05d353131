"""Load and fault test of bertr's HTTP API (R's bert_serve(), issue 16). Not a unit test: a run against the real
server (Rscript, plumber, the Python core, TensorFlow) on 127.0.0.1, bounded in requests and in time.

    python bench/serve_load.py [--model DIR] [--requests 2000] [--clients 4] [--out bench/serve_load.json]

Without ``--model`` it fine-tunes the embedded model on ``--rows`` small_fine_foods training reviews (exported by
Rscript from R's modeldata) and saves it; with it, it serves that ``bert_save()`` directory. The texts sent are
the test reviews (or ``--texts FILE``, a JSON array of strings). Then it:

1. predicts every text with the Python core (``bertr.BertClassifier.load(DIR)``: ``predict_proba`` and
   ``predict``, and ``predict`` at ``threshold`` 0.3 for thresholded tasks): the expected answers;
2. starts ``Rscript -e 'bertr::bert_serve(DIR, port = ...)'`` (the token, if any, in ``BERTR_API_TOKEN``;
   ``R_LIBS`` passed on, ``--r-libs`` prepended);
3. sends ``--requests`` requests from ``--clients`` threads: good ones of 1 to 32 texts (some with a
   ``threshold``), and about ``--bad-fraction`` malformed ones (not JSON, no ``texts``, a number, null or empty
   string among the texts, texts not an array, too many texts, too large a body, a wrong or missing token when
   a token is set, an unknown route, a wrong method), each expecting its 4xx status and a JSON ``{"error"}``;
4. when ``--restart-at`` of them are done, kills the server (SIGKILL) and starts it again on the same port;
   clients retry connection failures with exponential backoff, so no request is lost;
5. checks every answer (good: status 200 and every probability within ``--tolerance`` of the core's, the same
   decisions, in the order sent; bad: the expected status and a JSON error message), that the server is alive
   at the end, and writes p50 / p95 latency, texts/s, counts and the restart's downtime to ``--out``.

Exits with status 1 when any request was lost, answered wrongly, or the server was not alive at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTION_ERRORS = (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine, socket.timeout)
THRESHOLDED = ("binary", "soft", "multilabel")
LIMITS = {"max_texts": 100, "max_body_bytes": 2**20}  # bert_serve()'s defaults


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fit_model(directory: Path, rows: int, seq_len: int) -> tuple[Path, list[str]]:
    """The embedded model fine-tuned on ``rows`` training reviews, saved to ``directory/model``; and the test
    reviews."""
    sys.path.insert(0, str(ROOT / "bench"))
    from scaling import export_data, read_reviews

    from bertr import BertClassifier

    train, test = export_data(directory)
    texts, labels = read_reviews(train, rows)
    clf = BertClassifier(seq_len=seq_len, batch_size=32, epochs=1, learning_rate=5e-5, seed=1, validation_split=0.1)
    clf.fit(texts, labels)
    path = directory / "model"
    clf.save(str(path), extra={"text": "review", "label": "score"})
    return path, read_reviews(test)[0]


def expected_answers(model: Path, texts: list[str], pairs: list[str] | None) -> tuple[dict, list[dict], list]:
    """What the Python core predicts for each text: the model's facts, one expected prediction per text, and the
    same at threshold 0.3 (thresholded tasks; else empty)."""
    from bertr import BertClassifier

    clf = BertClassifier.load(str(model))
    task, labels = clf.task_.name, [str(c) for c in clf.classes_]
    proba = clf.predict_proba(texts, pairs)
    decided = clf.predict(texts, pairs)
    at_03 = clf.predict(texts, pairs, threshold=0.3) if task in THRESHOLDED else None

    def answer(i: int, decisions) -> dict:
        if task in ("binary", "multiclass"):
            return {
                "prediction": str(decisions[i]),
                "probabilities": dict(zip(labels, map(float, proba[i]), strict=True)),
            }
        if task == "multilabel":
            return {
                "prediction": dict(zip(labels, map(bool, decisions[i]), strict=True)),
                "probabilities": dict(zip(labels, map(float, proba[i]), strict=True)),
            }
        if task == "soft":
            return {"prediction": bool(decisions[i]), "probability": float(proba[i])}
        return {"prediction": float(decisions[i])}

    facts = {"task": task, "labels": labels if task != "regression" else [], "paired": bool(clf.paired_)}
    plain = [answer(i, decided) for i in range(len(texts))]
    thresholded = [answer(i, at_03) for i in range(len(texts))] if at_03 is not None else []
    return facts, plain, thresholded


def make_requests(n: int, n_texts: int, paired: bool, task: str, token: str, bad_fraction: float, seed: int) -> list:
    """``n`` requests, each a dict: kind, method, path, headers, body, expected statuses, and for good ones the
    indices of the texts sent (and whether at threshold 0.3)."""
    rng = random.Random(seed)
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    bad_kinds = [
        "not_json",
        "missing_texts",
        "number_in_texts",
        "null_in_texts",
        "empty_string",
        "texts_not_array",
        "too_many_texts",
        "too_large_body",
        "unknown_route",
        "wrong_method",
    ]
    if paired:
        bad_kinds.append("pairs_length")
    if token:
        bad_kinds += ["no_token", "wrong_token"]
    requests = []
    for i in range(n):
        headers = {"Content-Type": "application/json", **auth}
        if rng.random() >= bad_fraction:
            items = [rng.randrange(n_texts) for _ in range(rng.randint(1, 32))]
            body = {"texts": items}  # indices, replaced by the texts when sent
            at_03 = task in THRESHOLDED and rng.random() < 0.1
            if at_03:
                body["threshold"] = 0.3
            requests.append(dict(i=i, kind="good", method="POST", path="/predict", headers=headers, body=body,
                                 expect={200}, items=items, at_03=at_03))  # fmt: skip
            continue
        kind = rng.choice(bad_kinds)
        one = [rng.randrange(n_texts)]
        body: object = {"texts": one}
        method, path, expect = "POST", "/predict", {422}
        if kind == "not_json":
            body, expect = b'{"texts": ["unfinished', {400}
        elif kind == "missing_texts":
            body = {"threshold": 0.5} if task in THRESHOLDED else {}
        elif kind == "number_in_texts":
            body = {"texts": [*one, 42.5]}
        elif kind == "null_in_texts":
            body = {"texts": [None, *one]}
        elif kind == "empty_string":
            body = {"texts": [*one, ""]}
        elif kind == "texts_not_array":
            body = {"texts": "just one text"}
        elif kind == "too_many_texts":
            body, expect = {"texts": one * (LIMITS["max_texts"] + 1)}, {413}
        elif kind == "too_large_body":
            body, expect = {"texts": ["x" * (LIMITS["max_body_bytes"] + 50_000)]}, {413}
        elif kind == "unknown_route":
            path, expect = "/predictions", {404}
        elif kind == "wrong_method":
            method, body, expect = "GET", None, {405}
        elif kind == "pairs_length":
            body = {"texts": one * 2, "pairs": one}
        elif kind == "no_token":
            headers, expect = {"Content-Type": "application/json"}, {401}
        elif kind == "wrong_token":
            headers, expect = {**headers, "Authorization": f"Bearer {token}x"}, {401}
        if paired and isinstance(body, dict) and kind not in ("pairs_length", "missing_texts"):
            body["pairs"] = body.get("texts") if isinstance(body.get("texts"), list) else ["a pair"]
        requests.append(dict(i=i, kind=kind, method=method, path=path, headers=headers, body=body, expect=expect))
    return requests


class Server:
    """``Rscript -e 'bertr::bert_serve(...)'`` as a subprocess, its output appended to ``log``."""

    def __init__(self, model: Path, port: int, token: str, r_libs: str | None, log: Path):
        self.port, self.log, self.process = port, log, None
        self.code = f"bertr::bert_serve({json.dumps(str(model))}, port = {port})"
        self.env = {**os.environ, "BERTR_API_TOKEN": token}
        if r_libs:
            self.env["R_LIBS"] = os.pathsep.join(p for p in (r_libs, os.environ.get("R_LIBS", "")) if p)

    def start(self, timeout: float) -> float:
        """Starts the server and waits until ``/health`` answers; the seconds that took."""
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(["Rscript", "-e", self.code], env=self.env, stdout=log, stderr=log)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode}; see {self.log}")
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /health within {timeout} s; see {self.log}")

    def healthy(self) -> bool:
        try:
            status, body = http_call(self.port, "GET", "/health", {}, None, timeout=5)
            return status == 200 and json.loads(body).get("status") == "ok"
        except (*CONNECTION_ERRORS, ValueError):
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def http_call(port: int, method: str, path: str, headers: dict, body: bytes | None, timeout: float):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def encoded(request: dict, texts: list[str], pairs: list[str] | None) -> bytes | None:
    body = request["body"]
    if body is None or isinstance(body, bytes):
        return body
    body = dict(body)
    for field, source in (("texts", texts), ("pairs", pairs)):
        value = body.get(field)
        if isinstance(value, list):
            body[field] = [source[v] if type(v) is int else v for v in value]  # indices to texts; 42.5 stays
    if request["kind"] == "good" and pairs is not None:
        body["pairs"] = [pairs[v] for v in request["items"]]
    return json.dumps(body).encode()


def send(port: int, request: dict, body: bytes | None, deadline: float, timeout: float) -> dict:
    """Sends one request, retrying connection failures (a server restarting) with exponential backoff until
    ``deadline``; its status, body, the last attempt's latency and the retries; status None if lost."""
    retries, pause = 0, 0.05
    while True:
        started = time.perf_counter()
        try:
            status, answer = http_call(port, request["method"], request["path"], request["headers"], body, timeout)
            return {"status": status, "body": answer, "latency": time.perf_counter() - started, "retries": retries}
        except CONNECTION_ERRORS as exc:
            if time.monotonic() + pause > deadline:
                return {"status": None, "body": repr(exc).encode(), "latency": None, "retries": retries}
            retries += 1
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def close(a, b, tolerance: float) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k], tolerance) for k in a)
    if isinstance(a, float) and not isinstance(b, bool) and isinstance(b, (int, float)):
        return abs(a - b) <= tolerance
    return a == b and type(a) is type(b)


def problem(request: dict, result: dict, facts: dict, expected: list, at_03: list, tolerance: float) -> str | None:
    """What is wrong with the answer to ``request`` (None when it is right)."""
    if result["status"] is None:
        return f"lost: {result['body'].decode()}"
    if result["status"] not in request["expect"]:
        return f"status {result['status']} (expected {sorted(request['expect'])}): {result['body'][:200]!r}"
    try:
        answer = json.loads(result["body"])
    except ValueError:
        return f"not JSON: {result['body'][:200]!r}"
    if request["kind"] != "good":
        message = answer.get("error") if isinstance(answer, dict) else None
        return None if isinstance(message, str) and message else f"no error message: {answer!r}"
    items = request["items"]
    if answer.get("task") != facts["task"] or answer.get("n") != len(items) or len(answer["predictions"]) != len(items):
        return f"wrong task or count: {str(answer)[:200]}"
    reference = at_03 if request["at_03"] else expected
    for position, (item, got) in enumerate(zip(items, answer["predictions"], strict=True)):
        if not close(reference[item], got, tolerance):
            return f"text {position + 1} (item {item}): expected {reference[item]}, got {got}"
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a bert_save() directory (default: fit the embedded model on reviews)")
    parser.add_argument("--texts", help="a JSON array of texts to send (default: the test reviews)")
    parser.add_argument("--rows", type=int, default=400, help="training reviews when fitting")
    parser.add_argument("--seq-len", type=int, default=64, help="seq_len when fitting")
    parser.add_argument("--pool", type=int, default=500, help="distinct texts to draw requests from")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--bad-fraction", type=float, default=0.12)
    parser.add_argument("--restart-at", type=float, default=0.5, help="fraction of requests done at the restart")
    parser.add_argument("--token", default="load-test-token", help="'' for a server without a token")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--r-libs", help="an R library to put in front of R_LIBS (where bertr is installed)")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=1800, help="give up (and fail) after this long")
    parser.add_argument("--out", default=str(ROOT / "bench" / "serve_load.json"))
    args = parser.parse_args()
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    sys.path.insert(0, str(ROOT / "inst" / "python"))

    work = Path(tempfile.mkdtemp(prefix="bertr-serve-load-"))
    fitted_in = None
    if args.model:
        model, texts = Path(args.model), None
    else:
        started = time.monotonic()
        model, texts = fit_model(work, args.rows, args.seq_len)
        fitted_in = time.monotonic() - started
    if args.texts:
        texts = json.loads(Path(args.texts).read_text())
    if texts is None:
        parser.error("give --texts with --model")
    texts = texts[: args.pool]
    pairs = None
    from bertr import BertClassifier

    if BertClassifier.load(str(model)).paired_:
        pairs = texts[1:] + texts[:1]  # each text's pair: the next text
    facts, expected, at_03 = expected_answers(model, texts, pairs)

    requests = make_requests(
        args.requests, len(texts), pairs is not None, facts["task"], args.token, args.bad_fraction, args.seed
    )
    bodies = [encoded(r, texts, pairs) for r in requests]
    server = Server(model, args.port or free_port(), args.token, args.r_libs, work / "server.log")
    deadline = time.monotonic() + args.max_seconds
    results: list[dict | None] = [None] * len(requests)
    done = threading.Semaphore(0)
    queue = iter(range(len(requests)))
    lock = threading.Lock()
    finished = [0]

    def client() -> None:
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                return
            results[index] = send(server.port, requests[index], bodies[index], deadline, timeout=120)
            with lock:
                finished[0] += 1
                if finished[0] % max(1, len(requests) // 10) == 0:
                    print(f"serve_load: {finished[0]} of {len(requests)} requests answered", file=sys.stderr)
            done.release()

    restart = {}
    try:
        first_start = server.start(timeout=300)
        load_before = os.getloadavg()[0]
        run_started = time.perf_counter()
        threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for _ in range(int(args.requests * args.restart_at)):
            if not done.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break
        if args.restart_at > 0:
            killed = time.monotonic()
            server.kill()
            restart["seconds_to_ready"] = server.start(timeout=300)
            restart["downtime_seconds"] = time.monotonic() - killed
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        run_seconds = time.perf_counter() - run_started
        alive = server.healthy() and server.process.poll() is None
        load_after = os.getloadavg()[0]
    finally:
        server.stop()

    problems = []
    for request, result in zip(requests, results, strict=True):
        issue = problem(request, result, facts, expected, at_03, args.tolerance) if result else "not sent"
        if issue:
            problems.append({"request": request["i"], "kind": request["kind"], "problem": issue})
    good = [(q, r) for q, r in zip(requests, results, strict=True) if q["kind"] == "good" and r and r["latency"]]
    latencies = [r["latency"] for _, r in good]
    n_texts = sum(len(q["items"]) for q, _ in good)
    kinds: dict[str, int] = {}
    for request in requests:
        kinds[request["kind"]] = kinds.get(request["kind"], 0) + 1
    report = {
        "model": {
            **facts,
            "directory": str(model) if args.model else "embedded model fitted by this script",
            "fit_rows": None if args.model else args.rows,
            "seq_len": None if args.model else args.seq_len,
            "fit_seconds": fitted_in,
        },  # fmt: skip
        "requests": args.requests,
        "clients": args.clients,
        "texts_sent_in_good_requests": n_texts,
        "kinds": kinds,
        "answered": sum(1 for r in results if r and r["status"] is not None),
        "lost": sum(1 for r in results if not r or r["status"] is None),
        "wrong": len(problems),
        "retried_requests": sum(1 for r in results if r and r["retries"]),
        "retries": sum(r["retries"] for r in results if r),
        "statuses": {
            str(s): sum(1 for r in results if r and r["status"] == s)
            for s in sorted({r["status"] for r in results if r and r["status"] is not None})
        },  # fmt: skip
        "latency_ms": {
            "p50": 1000 * statistics.median(latencies) if latencies else None,
            "p95": 1000 * percentile(latencies, 0.95) if latencies else None,
            "max": 1000 * max(latencies) if latencies else None,
        },
        "texts_per_s": n_texts / run_seconds,
        "texts_per_s_outside_restart": n_texts / (run_seconds - restart.get("downtime_seconds", 0.0)),
        "run_seconds": run_seconds,
        "seconds_per_request": (run_seconds - restart.get("downtime_seconds", 0.0)) / args.requests,
        "server_start_seconds": first_start,
        "restart": restart,
        "alive_at_end": alive,
        "tolerance": args.tolerance,
        "problems": problems[:20],
        "machine": {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average_1min_before": load_before,
            "load_average_1min_after": load_after,
        },
    }
    text = json.dumps(report, indent=2)
    Path(args.out).write_text(text + "\n")
    print(text)
    return 0 if not problems and report["lost"] == 0 and alive else 1


if __name__ == "__main__":
    sys.exit(main())
