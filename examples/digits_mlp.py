"""An MLP learns handwritten digits with cr.nn.fit: 64 pixels -> 128 -> 10, ReLU, Adam.

The 1797 8x8 digits are split 75/25 (stratified, fixed seed); each pixel is standardised
with the training quarter's mean and spread. The held-out quarter is evaluated after every
epoch and gives the final test accuracy.

Run it:  python examples/digits_mlp.py [--epochs N]
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr

SEED = 0


def digits(seed: int = SEED):
    """X_train, X_test, y_train, y_test: float32 pixels standardised by the training set's
    statistics (a pixel that is always blank there keeps a spread of 1, not 0)."""
    X, y = cr.data.load_digits(dtype=np.float32)
    X_train, X_test, y_train, y_test = cr.data.train_test_split(
        X, y, test_size=0.25, stratify=y, seed=seed
    )
    mean, spread = X_train.mean(axis=0), X_train.std(axis=0)
    spread[spread == 0] = 1.0
    return (X_train - mean) / spread, (X_test - mean) / spread, y_train, y_test


def main(epochs: int = 30, seed: int = SEED, progress: bool = True) -> float:
    """Train for ``epochs``; print the history; return the test accuracy (0..1)."""
    cr.manual_seed(seed)
    X_train, X_test, y_train, y_test = digits(seed)
    train = cr.data.TensorDataset(X_train, y_train)
    test = cr.data.TensorDataset(X_test, y_test)
    train_loader = cr.data.DataLoader(train, batch_size=64, shuffle=True, seed=seed)
    test_loader = cr.data.DataLoader(test, batch_size=256)
    model = cr.nn.Sequential(
        cr.nn.Linear(64, 128),
        cr.nn.ReLU(),
        cr.nn.Linear(128, 10),
    )
    optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
    history = cr.nn.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        epochs,
        val_loader=test_loader,
        progress=progress,
    )
    print(history)
    accuracy = cr.nn.evaluate(model, cr.nn.CrossEntropyLoss(), test_loader).metrics["accuracy"]
    print(f"test accuracy {accuracy:.2%} on {len(test)} digits")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    main(parser.parse_args().epochs)
