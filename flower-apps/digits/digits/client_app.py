"""digits: the ClientApp (Flower Message API, flwr 1.41 and 1.42)."""

from __future__ import annotations

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from digits import task

app = ClientApp()


def node_partition(context: Context) -> tuple[int, int]:
    """Read ``partition-id`` / ``num-partitions`` from the SuperNode's node config.

    They come from ``flower-supernode --node-config 'partition-id=0 num-partitions=2'``.
    """
    node_config = context.node_config
    missing = [k for k in ("partition-id", "num-partitions") if k not in node_config]
    if missing:
        raise ValueError(
            f"node_config lacks {', '.join(missing)}; start the SuperNode with "
            "--node-config 'partition-id=<i> num-partitions=<n>' "
            f"(got {dict(node_config)!r})"
        )
    return int(node_config["partition-id"]), int(node_config["num-partitions"])


def _run_seed(context: Context) -> int:
    return int(context.run_config.get("seed", task.DEFAULT_SEED))


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Train the received global model on this node's partition."""
    partition_id, num_partitions = node_partition(context)
    seed = _run_seed(context)
    part = task.load_partition(partition_id, num_partitions, seed=seed)

    params = msg.content["arrays"].to_numpy_ndarrays()
    config = msg.content["config"]
    server_round = int(config.get("server-round", 0))
    learning_rate = float(
        config.get("learning-rate", context.run_config["learning-rate"])
    )

    new_params, train_loss = task.train(
        params,
        part.x_train,
        part.y_train,
        epochs=int(context.run_config["local-epochs"]),
        learning_rate=learning_rate,
        batch_size=int(context.run_config["batch-size"]),
        # Different, reproducible batch order per node and round.
        seed=seed * 1_000_003 + server_round * 1_009 + partition_id,
    )

    content = RecordDict(
        {
            "arrays": ArrayRecord(new_params),
            "metrics": MetricRecord(
                {"train_loss": train_loss, "num-examples": len(part.y_train)}
            ),
        }
    )
    return Message(content=content, reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    """Evaluate the received global model on this node's local validation split."""
    partition_id, num_partitions = node_partition(context)
    part = task.load_partition(partition_id, num_partitions, seed=_run_seed(context))

    params = msg.content["arrays"].to_numpy_ndarrays()
    loss, accuracy = task.evaluate(params, part.x_val, part.y_val)

    content = RecordDict(
        {
            "metrics": MetricRecord(
                {
                    "eval_loss": loss,
                    "eval_acc": accuracy,
                    "num-examples": len(part.y_val),
                }
            )
        }
    )
    return Message(content=content, reply_to=msg)
