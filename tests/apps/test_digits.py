"""Fast unit tests of the digits Flower app (no Flower processes are started)."""

from __future__ import annotations

import importlib
import io
import os
import re
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flwr
from flwr.app import (
    ArrayRecord,
    ConfigRecord,
    Context,
    Message,
    MessageType,
    Metadata,
    MetricRecord,
    RecordDict,
)
from flwr.clientapp import ClientApp
from flwr.serverapp import ServerApp

from digits import client_app, server_app, task

# --------------------------------------------------------------------------- data


def test_dataset_split_is_deterministic_and_disjoint() -> None:
    data = task.load_dataset(task.DEFAULT_SEED)
    assert data.x_train.shape == (1438, task.NUM_FEATURES)
    assert data.x_test.shape == (359, task.NUM_FEATURES)
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert set(np.unique(data.y_train)) == set(range(task.NUM_CLASSES))
    # Same seed -> identical split (cached or not).
    task.load_dataset.cache_clear()
    again = task.load_dataset(task.DEFAULT_SEED)
    np.testing.assert_array_equal(data.y_train, again.y_train)
    np.testing.assert_array_equal(data.x_test, again.x_test)
    # Train and test rows are different samples: no test row occurs in train.
    train_rows = {row.tobytes() for row in data.x_train}
    dup_rows = sum(row.tobytes() in train_rows for row in data.x_test)
    assert dup_rows <= 2  # load_digits has a handful of exact duplicate images
    # A different seed gives a different split.
    other = task.load_dataset(7)
    assert not np.array_equal(data.y_test, other.y_test)


def test_data_is_scikit_learns_digits_read_without_importing_it(digits_app_dir: Path) -> None:
    """The app reads scikit-learn's bundled file itself (no sklearn import in each ClientApp process):
    the same images and labels load_digits returns, in its order."""
    code = ("import sys; from digits import task; d = task.load_dataset(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(digits_app_dir)})
    assert proc.stdout.strip() == "[]", proc.stdout
    from sklearn.datasets import load_digits

    digits = load_digits()
    table = np.loadtxt(task.digits_file(), delimiter=",")
    np.testing.assert_array_equal(table[:, :-1], digits.data)
    np.testing.assert_array_equal(table[:, -1].astype(np.int64), digits.target)
    data = task.load_dataset(task.DEFAULT_SEED)
    perm = np.random.default_rng(task.DEFAULT_SEED).permutation(len(digits.target))
    np.testing.assert_array_equal(data.y_test, digits.target[perm[:len(data.y_test)]])
    np.testing.assert_array_equal(data.x_train, digits.data[perm[len(data.y_test):]] / 16.0)


@pytest.mark.parametrize("num_partitions", [1, 2, 3, 4, 5])
def test_partitions_are_disjoint_and_cover_train_set(num_partitions: int) -> None:
    n = len(task.load_dataset().y_train)
    parts = [
        task.partition_indices(n, i, num_partitions) for i in range(num_partitions)
    ]
    allidx = np.concatenate(parts)
    assert len(allidx) == n  # no overlap ...
    assert set(allidx.tolist()) == set(range(n))  # ... and full coverage
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1  # balanced


@pytest.mark.parametrize("num_partitions", [1, 2, 3, 4, 5])
def test_node_partitions_cover_train_set(num_partitions: int) -> None:
    """load_partition's local train+val splits together are exactly the train set."""
    data = task.load_dataset()
    seen: list[bytes] = []
    for pid in range(num_partitions):
        part = task.load_partition(pid, num_partitions)
        assert len(part.y_val) > 0 and len(part.y_train) > len(part.y_val)
        x = np.concatenate([part.x_train, part.x_val])
        seen += [
            row.tobytes() + bytes([label])
            for row, label in zip(
                x, np.concatenate([part.y_train, part.y_val]), strict=True
            )
        ]
    expected = [
        row.tobytes() + bytes([label])
        for row, label in zip(data.x_train, data.y_train, strict=True)
    ]
    assert sorted(seen) == sorted(expected)


@settings(max_examples=200, deadline=None)
@given(
    num_samples=st.integers(min_value=1, max_value=3000),
    num_partitions=st.integers(min_value=1, max_value=50),
)
def test_partition_indices_property(num_samples: int, num_partitions: int) -> None:
    if num_partitions > num_samples:
        with pytest.raises(ValueError):
            task.partition_indices(num_samples, 0, num_partitions)
        return
    parts = [
        task.partition_indices(num_samples, i, num_partitions)
        for i in range(num_partitions)
    ]
    allidx = np.concatenate(parts)
    np.testing.assert_array_equal(np.sort(allidx), np.arange(num_samples))


@pytest.mark.parametrize(
    ("partition_id", "num_partitions"),
    [(-1, 2), (2, 2), (0, 0), (0, -3), (1.5, 2), (0, 2.5), (True, 2)],
)
def test_partition_rejects_bad_ids(
    partition_id: object, num_partitions: object
) -> None:
    with pytest.raises(ValueError):
        task.partition_indices(100, partition_id, num_partitions)  # type: ignore[arg-type]


# -------------------------------------------------------------------------- model


def test_init_params_shapes_and_determinism() -> None:
    w, b = task.init_params(3)
    assert w.shape == (task.NUM_FEATURES, task.NUM_CLASSES)
    assert b.shape == (task.NUM_CLASSES,)
    w2, _ = task.init_params(3)
    np.testing.assert_array_equal(w, w2)
    assert not np.array_equal(w, task.init_params(4)[0])


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((20, task.NUM_FEATURES))
    y = rng.integers(0, task.NUM_CLASSES, 20)
    params = task.init_params(1, scale=0.1)
    _, (gw, gb) = task.loss_and_grad(params, x, y)
    eps = 1e-6
    for i, j in [(0, 0), (5, 3), (63, 9)]:
        plus = [params[0].copy(), params[1]]
        minus = [params[0].copy(), params[1]]
        plus[0][i, j] += eps
        minus[0][i, j] -= eps
        num = (
            task.loss_and_grad(plus, x, y)[0] - task.loss_and_grad(minus, x, y)[0]
        ) / (2 * eps)
        assert gw[i, j] == pytest.approx(num, rel=1e-4, abs=1e-8)
    plus_b = [params[0], params[1].copy()]
    plus_b[1][2] += eps
    minus_b = [params[0], params[1].copy()]
    minus_b[1][2] -= eps
    num_b = (
        task.loss_and_grad(plus_b, x, y)[0] - task.loss_and_grad(minus_b, x, y)[0]
    ) / (2 * eps)
    assert gb[2] == pytest.approx(num_b, rel=1e-4, abs=1e-8)


def test_training_lowers_the_loss_and_keeps_input() -> None:
    part = task.load_partition(0, 2)
    params = task.init_params()
    before = [p.copy() for p in params]
    loss0, acc0 = task.evaluate(params, part.x_train, part.y_train)
    new, train_loss = task.train(params, part.x_train, part.y_train, epochs=3)
    loss1, acc1 = task.evaluate(new, part.x_train, part.y_train)
    assert loss1 < loss0
    assert acc1 > acc0
    assert np.isfinite(train_loss) and train_loss < loss0
    for old, cur in zip(before, params, strict=True):  # input params are not modified
        np.testing.assert_array_equal(old, cur)


def test_training_is_deterministic() -> None:
    part = task.load_partition(1, 3)
    a, la = task.train(task.init_params(), part.x_train, part.y_train, epochs=2, seed=9)
    b, lb = task.train(task.init_params(), part.x_train, part.y_train, epochs=2, seed=9)
    assert la == lb
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa, pb)


def test_evaluate_returns_accuracy_in_unit_interval() -> None:
    x_test, y_test = task.load_test_set()
    for params in (task.init_params(), task.init_params(5, scale=10.0)):
        loss, acc = task.evaluate(params, x_test, y_test)
        assert 0.0 <= acc <= 1.0
        assert loss > 0 and np.isfinite(loss)
    # A perfect predictor: one-hot logits that encode the label.
    x = np.eye(task.NUM_CLASSES, task.NUM_FEATURES)
    y = np.arange(task.NUM_CLASSES)
    w = np.zeros((task.NUM_FEATURES, task.NUM_CLASSES))
    w[np.arange(task.NUM_CLASSES), np.arange(task.NUM_CLASSES)] = 50.0
    loss, acc = task.evaluate([w, np.zeros(task.NUM_CLASSES)], x, y)
    assert acc == 1.0 and loss < 1e-6


def test_centralised_training_reaches_target_accuracy() -> None:
    """Sanity check of the model itself: one node, 3 'rounds' of 5 epochs."""
    part = task.load_partition(0, 1)
    x_test, y_test = task.load_test_set()
    params = task.init_params()
    for rnd in range(3):
        params, _ = task.train(params, part.x_train, part.y_train, epochs=5, seed=rnd)
    assert task.evaluate(params, x_test, y_test)[1] >= 0.9


# ------------------------------------------------------------------------- FedAvg


def test_fedavg_of_identical_weights_is_identity() -> None:
    params = task.init_params(11, scale=1.0)
    avg = task.fedavg([(params, 10), (params, 300), (params, 1)])
    for a, p in zip(avg, params, strict=True):
        np.testing.assert_allclose(a, p, rtol=1e-12, atol=1e-15)


def test_fedavg_is_weighted_by_examples() -> None:
    a = [np.zeros((2, 2)), np.zeros(2)]
    b = [np.ones((2, 2)), np.full(2, 4.0)]
    avg = task.fedavg([(a, 1), (b, 3)])
    np.testing.assert_allclose(avg[0], np.full((2, 2), 0.75))
    np.testing.assert_allclose(avg[1], np.full(2, 3.0))
    with pytest.raises(ValueError):
        task.fedavg([])


def test_fedavg_matches_flower_aggregation() -> None:
    """Our reference FedAvg equals flwr's aggregate_arrayrecords (used by FedAvg)."""
    from flwr.serverapp.strategy.strategy_utils import aggregate_arrayrecords

    results = [
        (task.init_params(s, scale=1.0), n) for s, n in [(1, 10), (2, 30), (3, 7)]
    ]
    records = [
        RecordDict(
            {"arrays": ArrayRecord(p), "metrics": MetricRecord({"num-examples": n})}
        )
        for p, n in results
    ]
    flwr_avg = aggregate_arrayrecords(records, "num-examples").to_numpy_ndarrays()
    for ours, theirs in zip(task.fedavg(results), flwr_avg, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# --------------------------------------------------------------- Flower components


def _message(message_type: str, content: RecordDict) -> Message:
    # flwr 1.41: a Message built without `metadata` needs a running task identity
    # (TaskIdentity.run_id etc.), so tests pass explicit metadata.
    metadata = Metadata(
        run_id=1,
        message_id="msg-1",
        src_node_id=1,
        dst_node_id=2,
        reply_to_message_id="",
        group_id="",
        created_at=time.time(),
        ttl=3600.0,
        message_type=message_type,
    )
    return Message(content=content, metadata=metadata)


def _context(node_config: dict, app_dir: Path) -> Context:
    run_config = tomllib.loads((app_dir / "pyproject.toml").read_text())["tool"][
        "flwr"
    ]["app"]["config"]
    return Context(
        run_id=1,
        node_id=2,
        node_config=node_config,
        state=RecordDict(),
        run_config=dict(run_config),
    )


def test_clientapp_train_and_evaluate(digits_app_dir: Path) -> None:
    ctx = _context({"partition-id": 1, "num-partitions": 3}, digits_app_dir)
    arrays = ArrayRecord(task.init_params())
    train_msg = _message(
        MessageType.TRAIN,
        RecordDict(
            {
                "arrays": arrays,
                "config": ConfigRecord({"server-round": 1, "learning-rate": 0.1}),
            }
        ),
    )
    reply = client_app.app(train_msg, ctx)
    assert not reply.has_error()
    assert reply.metadata.reply_to_message_id == "msg-1"
    metrics = reply.content["metrics"]
    part = task.load_partition(1, 3)
    assert metrics["num-examples"] == len(part.y_train)
    new = reply.content["arrays"].to_numpy_ndarrays()
    assert [a.shape for a in new] == [a.shape for a in task.init_params()]
    assert (
        metrics["train_loss"]
        < task.evaluate(task.init_params(), part.x_train, part.y_train)[0]
    )

    eval_msg = _message(
        MessageType.EVALUATE,
        RecordDict({"arrays": ArrayRecord(new), "config": ConfigRecord()}),
    )
    ereply = client_app.app(eval_msg, ctx)
    em = ereply.content["metrics"]
    assert set(em.keys()) == {"eval_loss", "eval_acc", "num-examples"}
    assert 0.0 <= em["eval_acc"] <= 1.0
    assert em["num-examples"] == len(part.y_val)


def test_clientapp_without_node_config_fails_clearly(digits_app_dir: Path) -> None:
    ctx = _context({}, digits_app_dir)
    with pytest.raises(ValueError, match="partition-id"):
        client_app.node_partition(ctx)


def test_central_evaluate_reports_accuracy_and_loss(
    capsys: pytest.CaptureFixture[str],
) -> None:
    evaluate_fn = server_app.make_central_evaluate(task.DEFAULT_SEED)
    res = evaluate_fn(0, ArrayRecord(task.init_params()))
    assert isinstance(res, MetricRecord)
    assert 0.0 <= res["accuracy"] <= 1.0 and res["loss"] > 0
    out = capsys.readouterr().out
    assert re.search(
        r'^DIGITS_EVAL \{"round": 0, "accuracy": [0-9.]+, "loss": [0-9.]+\}$', out, re.M
    )


# ---------------------------------------------------------------- app packaging


def test_pyproject_components_point_at_importable_objects(digits_app_dir: Path) -> None:
    config = tomllib.loads((digits_app_dir / "pyproject.toml").read_text())
    assert config["project"]["name"] == "digits"
    assert config["project"]["version"] == "1.0.0"
    app_cfg = config["tool"]["flwr"]["app"]
    assert app_cfg["publisher"] == "flower-ocm"
    expected = {"serverapp": ServerApp, "clientapp": ClientApp}
    for component, cls in expected.items():
        module_name, attr = app_cfg["components"][component].split(":")
        obj = getattr(importlib.import_module(module_name), attr)
        assert isinstance(obj, cls), (component, obj)
        # ... and it is the package under flower-apps/digits, not something else.
        assert Path(importlib.import_module(module_name).__file__).is_relative_to(
            digits_app_dir
        )
    for key in ("num-server-rounds", "local-epochs", "learning-rate", "batch-size"):
        assert key in app_cfg["config"]
    assert app_cfg["config"]["num-server-rounds"] == 3


def test_pyproject_passes_flower_validation(digits_app_dir: Path) -> None:
    from flwr.common.config import validate_config

    config = tomllib.loads((digits_app_dir / "pyproject.toml").read_text())
    ok, errors, warnings = validate_config(
        config, check_module=True, project_dir=digits_app_dir
    )
    assert ok, errors
    assert warnings == []


def test_dependency_pins_match_installed_flower_and_containerfile(
    digits_app_dir: Path,
) -> None:
    deps = tomllib.loads((digits_app_dir / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    assert f"flwr=={flwr.__version__}" in deps
    containerfile = (digits_app_dir / "Containerfile").read_text()
    assert f"ARG FLWR_VERSION={flwr.__version__}" in containerfile
    assert "FROM docker.io/flwr/superexec:${FLWR_VERSION}" in containerfile
    # The last USER is numeric and non-root; the entrypoint is the SuperExec.
    users = re.findall(r"^USER\s+(\S+)", containerfile, re.M)
    assert users and re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", users[-1])
    assert containerfile.rstrip().splitlines()[-1] == 'ENTRYPOINT ["flower-superexec"]'


def test_fab_contains_the_app_and_nothing_else(digits_app_dir: Path) -> None:
    from flwr.cli.build import build_fab_from_disk

    fab = build_fab_from_disk(digits_app_dir)
    with zipfile.ZipFile(io.BytesIO(fab)) as zf:
        names = set(zf.namelist())
    assert {
        "pyproject.toml",
        "digits/__init__.py",
        "digits/task.py",
        "digits/client_app.py",
        "digits/server_app.py",
    } <= names
    assert not any(
        "__pycache__" in n or n.endswith(("Containerfile", ".dockerignore"))
        for n in names
    )
