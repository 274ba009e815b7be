"""Logistic regression on the Wisconsin breast-cancer data, trained with cr.nn.fit and
compared with scikit-learn's LogisticRegression when it is installed.

The model is one Linear(30, 1) layer giving a logit, the loss BCEWithLogitsLoss. To fit
the same model as scikit-learn's default (L2 penalty with C = 1, the intercept not
penalised), the weights get weight decay 1 / (C n) and the bias none: scikit-learn
minimises ||w||^2 / 2 + C * (sum of the n losses); divided by C n that is the mean loss
plus ||w||^2 / (2 C n), whose gradient adds w / (C n). Each epoch is one full-batch step;
after 1000 of them the weights agree with the exact optimum to about 1e-3.

Run it:  python examples/breast_cancer_logistic.py [--epochs N]
"""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np

import chainrule as cr

SEED = 0
C = 1.0  # scikit-learn's default inverse penalty strength


def breast_cancer(seed: int = SEED):
    """X_train, X_test (float32, standardised by the training set), y_train, y_test."""
    X, y = cr.data.load_breast_cancer(dtype=np.float32)
    X_train, X_test, y_train, y_test = cr.data.train_test_split(
        X, y, test_size=0.25, stratify=y, seed=seed
    )
    mean, spread = X_train.mean(axis=0), X_train.std(axis=0)
    return (X_train - mean) / spread, (X_test - mean) / spread, y_train, y_test


def main(epochs: int = 1000, seed: int = SEED, progress: bool = True) -> float:
    """Train for ``epochs`` full-batch steps; return the test accuracy (0..1)."""
    cr.manual_seed(seed)
    X_train, X_test, y_train, y_test = breast_cancer(seed)
    # BCEWithLogitsLoss wants float targets shaped like the (N, 1) logits
    targets = y_train.astype(np.float32).reshape(-1, 1)
    train = cr.data.TensorDataset(X_train, targets)
    test = cr.data.TensorDataset(X_test, y_test.astype(np.float32).reshape(-1, 1))
    train_loader = cr.data.DataLoader(train, batch_size=len(train))
    test_loader = cr.data.DataLoader(test, batch_size=len(test))
    model = cr.nn.Linear(X_train.shape[1], 1)
    optimizer = cr.optim.Adam(
        [
            {"params": [model.weight], "weight_decay": 1.0 / (C * len(train))},
            {"params": [model.bias], "weight_decay": 0.0},
        ],
        lr=0.05,
    )
    history = cr.nn.fit(
        model,
        cr.nn.BCEWithLogitsLoss(),
        optimizer,
        train_loader,
        epochs,
        val_loader=test_loader,
        progress=progress,
    )
    accuracy = cr.nn.evaluate(model, cr.nn.BCEWithLogitsLoss(), test_loader).metrics["accuracy"]
    print(f"after {len(history)} epochs: train loss {history.train_loss[-1]:.4f}")
    print(f"chainrule test accuracy {accuracy:.2%} on {len(test)} tumours")
    if importlib.util.find_spec("sklearn") is not None:
        reference = sklearn_accuracy(seed)
        print(f"scikit-learn LogisticRegression(C={C}) test accuracy {reference:.2%}")
    return accuracy


def sklearn_accuracy(seed: int = SEED) -> float:
    """scikit-learn's LogisticRegression on the same split and scaling (needs scikit-learn)."""
    from sklearn.linear_model import LogisticRegression

    X_train, X_test, y_train, y_test = breast_cancer(seed)
    # a tight tolerance: at its default (1e-4) lbfgs stops short of the optimum here, and
    # the comparison is with the model both sides define, not with where lbfgs stopped
    classifier = LogisticRegression(C=C, tol=1e-8, max_iter=10_000)
    classifier.fit(X_train.astype(np.float64), y_train)
    return float(classifier.score(X_test.astype(np.float64), y_test))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=1000)
    main(parser.parse_args().epochs)
