"""``chainrule train``: a small network (one hidden layer) trained on a bundled or generated
data set with ``cr.nn.fit``, as ``Output``: one row per epoch and the final test accuracy.

Features are standardised with the training split's mean and spread; 20% of the samples
(chosen with ``seed``) are held out as the test set, reported as ``val`` each epoch.
"""

from __future__ import annotations

import numpy as np

from chainrule import data, nn
from chainrule.cli_output import CommandError, Output
from chainrule.creation import manual_seed
from chainrule.descent import OPTIMIZERS
from chainrule.io import save
from chainrule.table import Table

__all__ = ["DATASETS", "TRAIN_OPTIMIZERS", "default_lr", "train_output"]


def _digits():
    return data.load_digits()


def _moons(seed: int):
    return data.make_moons(500, noise=0.2, seed=seed)


def _iris():
    return data.load_iris()


# name -> a function of the seed giving (X, y)
DATASETS = {
    "digits": lambda seed: _digits(),
    "moons": _moons,
    "iris": lambda seed: _iris(),
}

# Newton needs a Hessian of the whole loss: not a minibatch optimizer
TRAIN_OPTIMIZERS = tuple(name for name in OPTIMIZERS if name != "newton")


def default_lr(optimizer: str) -> float:
    """A learning rate that trains these small networks well: adaptive optimizers take
    smaller steps.

    >>> default_lr("adam"), default_lr("sgd")
    (0.01, 0.1)
    """
    return 0.01 if optimizer in ("adam", "adamw", "rmsprop") else 0.1


def train_output(
    dataset: str,
    epochs: int = 20,
    lr: float | None = None,
    optimizer: str = "adam",
    batch_size: int = 32,
    hidden: int = 32,
    seed: int = 0,
    save_path: str | None = None,
    progress: bool = True,
) -> Output:
    """Train on ``dataset`` (a name in ``DATASETS``); ``save_path`` writes the weights."""
    if dataset not in DATASETS:
        raise CommandError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    if optimizer not in TRAIN_OPTIMIZERS:
        raise CommandError(
            f"unknown optimizer {optimizer!r} for training (known: {', '.join(TRAIN_OPTIMIZERS)})"
        )
    for name, value in (("--epochs", epochs), ("--batch-size", batch_size), ("--hidden", hidden)):
        if value < 1:
            raise CommandError(f"{name} must be >= 1, got {value}")
    lr = default_lr(optimizer) if lr is None else lr
    if not lr > 0:
        raise CommandError(f"--lr must be > 0, got {lr}")

    manual_seed(seed)
    X, y = DATASETS[dataset](seed)
    X_train, X_test, y_train, y_test = data.train_test_split(
        np.asarray(X, dtype=np.float64), np.asarray(y), test_size=0.2, seed=seed
    )
    mean, spread = X_train.mean(axis=0), X_train.std(axis=0)
    spread[spread == 0] = 1.0  # a constant feature (digits' blank corner pixels) stays 0
    X_train = ((X_train - mean) / spread).astype(np.float32)
    X_test = ((X_test - mean) / spread).astype(np.float32)
    classes = int(max(y_train.max(), y_test.max())) + 1

    model = nn.Sequential(
        nn.Linear(X_train.shape[1], hidden), nn.Tanh(), nn.Linear(hidden, classes)
    )
    kind, defaults = OPTIMIZERS[optimizer]
    opt = kind(model.parameters(), lr=lr, **defaults)
    train_loader = data.DataLoader(
        data.TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True, seed=seed
    )
    test_loader = data.DataLoader(data.TensorDataset(X_test, y_test), batch_size=256)
    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        train_loader,
        epochs=epochs,
        val_loader=test_loader,
        progress=progress,
    )
    rows = [
        [epoch, loss, train_accuracy, val_accuracy]
        for epoch, loss, train_accuracy, val_accuracy in zip(
            history.epochs,
            history.train_loss,
            history.metrics["train_accuracy"],
            history.metrics["val_accuracy"],
        )
    ]
    accuracy = history.metrics["val_accuracy"][-1] if rows else float("nan")
    notes = [f"final test accuracy: {accuracy:.4f} on {len(y_test)} held-out samples"]
    if history.interrupted:
        notes.append(f"interrupted after {len(history)} epochs")
    if save_path is not None:
        try:
            save(model.state_dict(), save_path)
        except OSError as error:
            raise CommandError(f"--save {save_path}: {error.strerror or error}") from None
        notes.append(f"weights saved to {save_path}")
    title = (
        f"{dataset}: {X_train.shape[1]} features, {classes} classes; "
        f"Linear({X_train.shape[1]}, {hidden}) -> tanh -> Linear({hidden}, {classes}); "
        f"{optimizer}, lr {lr:g}"
    )
    table = Table(["epoch", "train loss", "train accuracy", "test accuracy"], rows, title, notes)
    result = {
        "dataset": dataset,
        "optimizer": optimizer,
        "lr": lr,
        "epochs": list(history.epochs),
        "train_loss": list(history.train_loss),
        "train_accuracy": list(history.metrics["train_accuracy"]),
        "test_loss": list(history.val_loss),
        "test_accuracy": list(history.metrics["val_accuracy"]),
        "final_test_accuracy": accuracy,
        "interrupted": history.interrupted,
        "saved_to": save_path,
    }
    return Output([table], result)
