"""A lean HTTP/1.1 keep-alive load generator: closed loop, N connections, one JSON POST.

    python benchmarks/loadgen.py --port P --path /v2/models/M/infer --body FILE
                                 [--concurrency 8] [--duration 15] [--warmup 2]
                                 [--output NAME --expect VALUE]

Each of ``--concurrency`` connections sends the same request, waits for the whole
response, and sends the next one (a closed loop: no request queues in the client). The
first ``--warmup`` seconds are sent but not recorded. Every response must be a 200 whose
JSON (Open Inference Protocol V2) has an output ``--output`` whose first value equals
``--expect``; anything else counts as an error (the first few are kept). Prints one JSON
object: requests, errors, req/s, latency percentiles (ms) and the client's own CPU time
(on a 2-core machine the client competes with the server, so it is reported).

Kept cheap on purpose: asyncio streams (uvloop when installed), the request bytes built
once, headers parsed by hand, no HTTP library. The same client drives every server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEEP_ERRORS = 5


@dataclass
class Tally:
    """What the connections recorded during the measured phase."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    reconnects: int = 0
    warmup_requests: int = 0

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.first_errors) < KEEP_ERRORS:
            self.first_errors.append(message[:300])


@dataclass(frozen=True)
class Plan:
    host: str
    port: int
    request: bytes
    output: str | None
    expect: Any
    measure_from: float
    stop_at: float


def build_request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one response (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        return status, await reader.readexactly(int(lower[at + 17 : end]))
    if b"\r\ntransfer-encoding: chunked" not in lower:
        raise ValueError("response has neither Content-Length nor chunked encoding")
    chunks = []
    while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
        chunks.append((await reader.readexactly(size + 2))[:-2])
    await reader.readuntil(b"\r\n")  # the empty trailer
    return status, b"".join(chunks)


def first_value(body: bytes, output: str) -> Any:
    """The first value of the V2 output named ``output``."""
    for out in json.loads(body)["outputs"]:
        if out["name"] == output:
            return out["data"][0]
    raise KeyError(f"no output named {output!r}")


def same(got: Any, want: Any) -> bool:
    """Equal as numbers when both are numbers, else as text (0 == 0.0, "1" == 1)."""
    try:
        return float(got) == float(want)
    except (TypeError, ValueError):
        return str(got) == str(want)


def check(status: int, body: bytes, plan: Plan) -> str | None:
    """Why this response is wrong, or None."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    if plan.output is None:
        return None
    try:
        got = first_value(body, plan.output)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return f"unreadable response ({exc}): {body[:200]!r}"
    return None if same(got, plan.expect) else f"{plan.output} is {got!r}, not {plan.expect!r}"


async def connection(plan: Plan, tally: Tally) -> None:
    """One keep-alive connection in a closed loop until ``plan.stop_at``."""
    clock = time.perf_counter
    reader, writer = await asyncio.open_connection(plan.host, plan.port)
    try:
        while (start := clock()) < plan.stop_at:
            try:
                writer.write(plan.request)
                status, body = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.error(f"connection: {exc!r}")
                tally.reconnects += 1
                writer.close()
                reader, writer = await asyncio.open_connection(plan.host, plan.port)
                continue
            done = clock()
            if start < plan.measure_from:
                tally.warmup_requests += 1
                continue
            problem = check(status, body, plan)
            if problem:
                tally.error(problem)
            else:
                tally.latencies.append(done - start)
    finally:
        writer.close()


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    body = Path(args.body).read_bytes()
    now = time.perf_counter()
    plan = Plan(
        host=args.host,
        port=args.port,
        request=build_request(args.host, args.port, args.path, body),
        output=args.output,
        expect=json.loads(args.expect) if args.expect is not None else None,
        measure_from=now + args.warmup,
        stop_at=now + args.warmup + args.duration,
    )
    tally = Tally()
    tasks = [asyncio.create_task(connection(plan, tally)) for _ in range(args.concurrency)]
    await asyncio.sleep(max(0.0, plan.measure_from - time.perf_counter()))
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    await asyncio.gather(*tasks)
    return summarize(tally, cpu_start, wall_start, args)


def summarize(
    tally: Tally, cpu_start: float, wall_start: float, args: argparse.Namespace
) -> dict[str, Any]:
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    ordered = sorted(tally.latencies)
    ms = {f"p{q}_ms": round(percentile(ordered, q) * 1000, 3) for q in (50, 90, 99)}
    return {
        "concurrency": args.concurrency,
        "seconds": round(wall, 3),
        "requests": len(ordered),
        "errors": tally.errors,
        "first_errors": tally.first_errors,
        "reconnects": tally.reconnects,
        "warmup_requests": tally.warmup_requests,
        "requests_per_s": round(len(ordered) / wall, 1) if wall else 0.0,
        **ms,
        "max_ms": round(ordered[-1] * 1000, 3) if ordered else float("nan"),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 3) if ordered else float("nan"),
        "client_cpu_s": round(cpu, 3),
        "client_cpu_share": round(cpu / wall, 3) if wall else 0.0,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--body", required=True, help="file holding the JSON request body")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="unrecorded seconds first")
    parser.add_argument("--output", help="V2 output whose first value is checked")
    parser.add_argument("--expect", help="that value, as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    print(json.dumps(runner(drive(args))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
