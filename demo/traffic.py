"""Send synthetic traffic to a running `mergeml serve`, then post the true labels.

    python demo/traffic.py --url http://127.0.0.1:8080 --rows 3000 --seed 5 --drift on

The rows are `generate_transactions(rows, seed=, drift=)` without the label, sent in
requests of ``--batch`` rows over the Open Inference Protocol V2 (default) or MLflow's
/invocations; every request has its own id (``demo-<drift>-<seed>-<n>``). Then each row's
``is_fraud`` goes to /feedback as ``{"request_id", "row", "label"}``. Standard library HTTP
only; any answer other than 200 (202 for feedback) stops it with the server's message.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FEEDBACK_CHUNK = 1000


@dataclass(frozen=True)
class Sent:
    requests: int
    rows: int
    positives_predicted: int
    labels_posted: int


def _post(url: str, body: dict[str, Any] | list[Any], request_id: str | None = None) -> Any:
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if request_id:
        headers["X-Request-ID"] = request_id
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode()[:300]
        raise SystemExit(f"traffic: {url} answered {exc.code}: {detail}") from exc


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def _v2_inputs(part: Any) -> list[dict[str, Any]]:
    """One V2 input per column: numbers as FP64, everything else as BYTES strings."""
    import pandas as pd

    inputs = []
    for name in part.columns:
        column = part[name]
        numeric = pd.api.types.is_numeric_dtype(column)
        values = column.astype(float if numeric else str).tolist()
        datatype = "FP64" if numeric else "BYTES"
        inputs.append({"name": name, "shape": [len(part)], "datatype": datatype, "data": values})
    return inputs


def _send_one(base: str, model: str, part: Any, request_id: str, protocol: str) -> list[int]:
    """One request of ``part``'s rows; the predicted classes."""
    if protocol == "v2":
        body = {"id": request_id, "inputs": _v2_inputs(part)}
        answer = _post(f"{base}/v2/models/{model}/infer", body)
        outputs = {o["name"]: o["data"] for o in answer["outputs"]}
        return [int(v) for v in outputs["prediction"]]
    split = json.loads(part.to_json(orient="split", index=False))
    answer = _post(f"{base}/invocations", {"dataframe_split": split}, request_id)
    return [int(p["prediction"]) for p in answer["predictions"]]


def send_traffic(
    base: str,
    rows: int,
    *,
    seed: int,
    drift: bool,
    batch: int = 100,
    protocol: str = "v2",
    labels: bool = True,
) -> Sent:
    """Send the rows, then (``labels``) post their labels; what was sent."""
    from mergeml.data.synthetic import TARGET, generate_transactions

    base = base.rstrip("/")
    model = _get(f"{base}/version")["name"]
    frame = generate_transactions(rows, seed=seed, drift=drift)
    features, truth = frame.drop(columns=[TARGET]), frame[TARGET].tolist()
    tag = "on" if drift else "off"
    feedback: list[dict[str, Any]] = []
    predicted = 0
    starts = range(0, rows, batch)
    for n, start in enumerate(starts):
        request_id = f"demo-{tag}-{seed}-{n}"
        part = features.iloc[start : start + batch]
        predicted += sum(_send_one(base, model, part, request_id, protocol))
        feedback += [
            {"request_id": request_id, "row": i, "label": int(truth[start + i])}
            for i in range(len(part))
        ]
    posted = 0
    if labels:
        for start in range(0, len(feedback), FEEDBACK_CHUNK):
            answer = _post(f"{base}/feedback", feedback[start : start + FEEDBACK_CHUNK])
            posted += int(answer["accepted"])
    return Sent(len(starts), rows, predicted, posted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--rows", type=int, default=3000, help="rows to send (default 3000)")
    parser.add_argument("--seed", type=int, default=5, help="generator seed (default 5)")
    parser.add_argument("--drift", choices=("on", "off"), default="on", help="drift switch")
    parser.add_argument("--batch", type=int, default=100, help="rows per request (default 100)")
    parser.add_argument("--protocol", choices=("v2", "invocations"), default="v2")
    parser.add_argument("--no-labels", action="store_true", help="do not post labels")
    args = parser.parse_args(argv)
    sent = send_traffic(
        args.url,
        args.rows,
        seed=args.seed,
        drift=args.drift == "on",
        batch=args.batch,
        protocol=args.protocol,
        labels=not args.no_labels,
    )
    print(
        f"sent {sent.rows} rows in {sent.requests} requests ({sent.positives_predicted} "
        f"predicted positive), posted {sent.labels_posted} labels"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
