"""A small CNN learns handwritten digits with cr.nn.fit: the 8x8 digits as (N, 1, 8, 8)
images through Conv2d(1, 32, 3, padding=1), ReLU, MaxPool2d(2), then Linear(512, 64), ReLU,
Linear(64, 10); Adam with a cosine learning-rate schedule.

The 1797 digits are split 75/25 (stratified, fixed seed) and standardised with the
training quarter's mean and spread of the gray levels; the held-out quarter is evaluated
after every epoch and gives the final test accuracy.

Run it:  python examples/digits_cnn.py [--epochs N]
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr

SEED = 0


def digit_images(seed: int = SEED):
    """X_train, X_test (float32 images (N, 1, 8, 8), standardised), y_train, y_test."""
    X, y = cr.data.load_digits(dtype=np.float32)
    X_train, X_test, y_train, y_test = cr.data.train_test_split(
        X, y, test_size=0.25, stratify=y, seed=seed
    )
    mean, spread = X_train.mean(), X_train.std()

    def images(X):
        return ((X - mean) / spread).reshape(-1, 1, 8, 8)

    return images(X_train), images(X_test), y_train, y_test


def cnn() -> cr.nn.Sequential:
    nn = cr.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),  # (N, 32, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 4, 4)
        nn.Flatten(),  # (N, 512)
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def main(epochs: int = 15, seed: int = SEED, progress: bool = True) -> float:
    """Train for ``epochs``; print the history; return the test accuracy (0..1)."""
    cr.manual_seed(seed)
    X_train, X_test, y_train, y_test = digit_images(seed)
    train = cr.data.TensorDataset(X_train, y_train)
    test = cr.data.TensorDataset(X_test, y_test)
    train_loader = cr.data.DataLoader(train, batch_size=64, shuffle=True, seed=seed)
    test_loader = cr.data.DataLoader(test, batch_size=256)
    model = cnn()
    optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = cr.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history = cr.nn.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        epochs,
        val_loader=test_loader,
        scheduler=scheduler,
        progress=progress,
    )
    print(history)
    accuracy = cr.nn.evaluate(model, cr.nn.CrossEntropyLoss(), test_loader).metrics["accuracy"]
    print(f"test accuracy {accuracy:.2%} on {len(test)} digits")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    main(parser.parse_args().epochs)
