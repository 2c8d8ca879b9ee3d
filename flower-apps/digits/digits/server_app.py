"""digits: the ServerApp (Flower Message API, flwr 1.41 and 1.42).

Besides Flower's own logs, it prints one machine-readable line per central evaluation
and one summary line at the end, e.g.::

    DIGITS_EVAL {"round": 1, "accuracy": 0.8997, "loss": 1.19}
    DIGITS_RESULT {"rounds": 3, "central": {"0": {...}, "1": {...}}, ...}

These reach the caller through ``flwr run ... --stream`` (ServerApp stdout is
forwarded to the SuperLink's log stream).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from digits import task

EVAL_MARKER = "DIGITS_EVAL"
RESULT_MARKER = "DIGITS_RESULT"

app = ServerApp()


def make_central_evaluate(seed: int) -> Callable[[int, ArrayRecord], MetricRecord]:
    """Build the ``evaluate_fn`` for ``Strategy.start``: held-out test set."""
    x_test, y_test = task.load_test_set(seed)

    def central_evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        loss, accuracy = task.evaluate(arrays.to_numpy_ndarrays(), x_test, y_test)
        line = {"round": server_round, "accuracy": accuracy, "loss": loss}
        print(f"{EVAL_MARKER} {json.dumps(line)}", flush=True)
        return MetricRecord(
            {"accuracy": accuracy, "loss": loss, "num-examples": len(y_test)}
        )

    return central_evaluate


def _metrics(history: dict[int, MetricRecord]) -> dict[str, dict[str, float]]:
    return {str(r): {k: float(v) for k, v in m.items()} for r, m in history.items()}  # type: ignore[arg-type]


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run FedAvg for ``num-server-rounds`` rounds with central evaluation."""
    cfg = context.run_config
    num_rounds = int(cfg["num-server-rounds"])
    min_nodes = int(cfg["min-nodes"])
    seed = int(cfg["seed"])

    strategy = FedAvg(
        fraction_train=float(cfg["fraction-train"]),
        fraction_evaluate=float(cfg["fraction-evaluate"]),
        min_train_nodes=min_nodes,
        min_evaluate_nodes=min_nodes,
        min_available_nodes=min_nodes,
    )

    started = time.monotonic()
    result = strategy.start(
        grid=grid,
        initial_arrays=ArrayRecord(task.init_params(seed)),
        num_rounds=num_rounds,
        timeout=float(cfg["round-timeout"]),
        train_config=ConfigRecord({"learning-rate": float(cfg["learning-rate"])}),
        evaluate_fn=make_central_evaluate(seed),
    )

    summary = {
        "rounds": num_rounds,
        "central": _metrics(result.evaluate_metrics_serverapp),
        "train": _metrics(result.train_metrics_clientapp),
        "federated_evaluate": _metrics(result.evaluate_metrics_clientapp),
        "strategy_seconds": round(time.monotonic() - started, 3),
    }
    print(f"{RESULT_MARKER} {json.dumps(summary, sort_keys=True)}", flush=True)
