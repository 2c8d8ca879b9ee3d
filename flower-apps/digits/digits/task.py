"""The learning task: numpy softmax regression on scikit-learn's bundled digits.

Everything here is pure numpy: the data is the file scikit-learn ships for
``sklearn.datasets.load_digits`` (nothing is downloaded), read without importing
scikit-learn. It can be unit tested without Flower.

Parameters are a list ``[W, b]`` with ``W`` of shape (64, 10) and ``b`` of shape (10,).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

NUM_FEATURES = 64  # 8x8 grey-level images
NUM_CLASSES = 10
DEFAULT_SEED = 42
TEST_FRACTION = 0.2  # held out for the ServerApp's central evaluation
VAL_FRACTION = 0.2  # of each partition, for the ClientApp's local evaluation

Params = list[NDArray[np.float64]]


class Dataset(NamedTuple):
    """The shuffled digits data, split once into a train set and a test set."""

    x_train: NDArray[np.float64]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.float64]
    y_test: NDArray[np.int64]


class Partition(NamedTuple):
    """One node's IID share of the train set, split into local train/validation."""

    x_train: NDArray[np.float64]
    y_train: NDArray[np.int64]
    x_val: NDArray[np.float64]
    y_val: NDArray[np.int64]


def digits_file() -> Path:
    """scikit-learn's bundled digits.csv.gz, found without importing scikit-learn: Flower starts a
    ClientApp process for every message, and importing sklearn.datasets would cost each one over a
    second of CPU (scipy and more) for a file numpy reads in milliseconds."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("the digits app needs scikit-learn installed (its bundled digits data)")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"scikit-learn has no bundled digits data at {path}")
    return path


@lru_cache(maxsize=4)
def load_dataset(
    seed: int = DEFAULT_SEED, test_fraction: float = TEST_FRACTION
) -> Dataset:
    """Load digits (1797 samples), scale pixels to [0, 1], shuffle with ``seed``.

    The first ``test_fraction`` of the shuffled samples form the held-out test set,
    the rest the train set that is partitioned among nodes. Same seed, same split.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    table = np.loadtxt(digits_file(), delimiter=",")  # 64 pixels (0..16), then the label
    x = table[:, :-1] / 16.0
    y = table[:, -1].astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    test, train = perm[:n_test], perm[n_test:]
    dataset = Dataset(x[train], y[train], x[test], y[test])
    for array in dataset:
        array.setflags(write=False)  # cached: guard against in-place edits
    return dataset


def partition_indices(
    num_samples: int, partition_id: int, num_partitions: int
) -> NDArray[np.int64]:
    """Indices of IID partition ``partition_id`` of ``num_partitions``.

    The samples are already shuffled, so contiguous, near-equal slices are IID.
    The partitions are pairwise disjoint and together cover ``range(num_samples)``.
    """
    if isinstance(num_partitions, bool) or int(num_partitions) != num_partitions:
        raise ValueError(f"num-partitions must be an integer, got {num_partitions!r}")
    if isinstance(partition_id, bool) or int(partition_id) != partition_id:
        raise ValueError(f"partition-id must be an integer, got {partition_id!r}")
    num_partitions, partition_id = int(num_partitions), int(partition_id)
    if num_partitions < 1:
        raise ValueError(f"num-partitions must be >= 1, got {num_partitions}")
    if not 0 <= partition_id < num_partitions:
        raise ValueError(
            f"partition-id must be in [0, {num_partitions - 1}], got {partition_id}"
        )
    if num_partitions > num_samples:
        raise ValueError(
            f"cannot split {num_samples} samples into {num_partitions} partitions"
        )
    return np.array_split(np.arange(num_samples), num_partitions)[partition_id]


def load_partition(
    partition_id: int,
    num_partitions: int,
    seed: int = DEFAULT_SEED,
    val_fraction: float = VAL_FRACTION,
) -> Partition:
    """Return this node's share of the train set, split into local train/val."""
    data = load_dataset(seed)
    idx = partition_indices(len(data.y_train), partition_id, num_partitions)
    n_val = int(round(len(idx) * val_fraction))
    train_idx, val_idx = idx[n_val:], idx[:n_val]
    return Partition(
        data.x_train[train_idx],
        data.y_train[train_idx],
        data.x_train[val_idx],
        data.y_train[val_idx],
    )


def load_test_set(seed: int = DEFAULT_SEED) -> tuple[NDArray, NDArray]:
    """The held-out test set used for central (ServerApp-side) evaluation."""
    data = load_dataset(seed)
    return data.x_test, data.y_test


def init_params(
    seed: int = DEFAULT_SEED,
    num_features: int = NUM_FEATURES,
    num_classes: int = NUM_CLASSES,
    scale: float = 0.01,
) -> Params:
    """Small random weights and zero biases (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, scale, size=(num_features, num_classes))
    return [weights.astype(np.float64), np.zeros(num_classes, dtype=np.float64)]


def _softmax(logits: NDArray) -> NDArray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _probs(params: Params, x: NDArray) -> NDArray:
    weights, bias = params
    return _softmax(x @ weights + bias)


def _cross_entropy(probs: NDArray, y: NDArray) -> float:
    eps = 1e-12
    return float(-np.mean(np.log(probs[np.arange(len(y)), y] + eps)))


def loss_and_grad(params: Params, x: NDArray, y: NDArray) -> tuple[float, Params]:
    """Mean cross-entropy loss and its gradient w.r.t. ``[W, b]``."""
    probs = _probs(params, x)
    loss = _cross_entropy(probs, y)
    delta = probs.copy()
    delta[np.arange(len(y)), y] -= 1.0
    delta /= len(y)
    return loss, [x.T @ delta, delta.sum(axis=0)]


def train(  # pylint: disable=too-many-arguments
    params: Params,
    x: NDArray,
    y: NDArray,
    *,
    epochs: int = 5,
    learning_rate: float = 0.1,
    batch_size: int = 32,
    seed: int = DEFAULT_SEED,
) -> tuple[Params, float]:
    """Mini-batch gradient descent; returns new params and the mean training loss.

    The input ``params`` are not modified. Batch order is drawn from ``seed``.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if len(y) == 0:
        raise ValueError("cannot train on an empty partition")
    weights, bias = (np.array(p, dtype=np.float64, copy=True) for p in params)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start : start + batch_size]
            loss, (grad_w, grad_b) = loss_and_grad([weights, bias], x[batch], y[batch])
            weights -= learning_rate * grad_w
            bias -= learning_rate * grad_b
            losses.append(loss)
    mean_loss = float(np.mean(losses)) if losses else evaluate([weights, bias], x, y)[0]
    return [weights, bias], mean_loss


def evaluate(params: Params, x: NDArray, y: NDArray) -> tuple[float, float]:
    """Return ``(loss, accuracy)`` of ``params`` on ``(x, y)``."""
    if len(y) == 0:
        raise ValueError("cannot evaluate on an empty set")
    probs = _probs(params, x)
    accuracy = float(np.mean(np.argmax(probs, axis=1) == y))
    return _cross_entropy(probs, y), accuracy


def fedavg(results: list[tuple[Params, int]]) -> Params:
    """Weighted average of parameter lists by number of examples (FedAvg).

    A pure-numpy reference of what ``flwr.serverapp.strategy.FedAvg`` computes;
    the ServerApp itself uses Flower's strategy.
    """
    if not results:
        raise ValueError("fedavg needs at least one result")
    total = sum(n for _, n in results)
    if total <= 0:
        raise ValueError("fedavg needs a positive total number of examples")
    return [
        np.sum(
            [np.asarray(p[i], dtype=np.float64) * (n / total) for p, n in results],
            axis=0,
        )
        for i in range(len(results[0][0]))
    ]
