"""cr.nn.fit and History: epoch figures are batch-size-weighted means that match an
independent computation (NumPy by hand, or a PyTorch loop from the same weights); schedulers,
modes, Ctrl-C, progress reporting and bad input."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import progress as progress_module
from chainrule.nn.metrics import accuracy, resolve_metrics
from tests.conftest import needs_torch

rng = np.random.default_rng(7)


def regression_data(n=10, features=3, outputs=2):
    X = rng.standard_normal((n, features))
    T = rng.standard_normal((n, outputs))
    return X, T


def linear_model(features=3, outputs=2, dtype=np.float64):
    model = cr.nn.Linear(features, outputs, dtype=dtype)
    with cr.no_grad():
        model.weight.data[...] = rng.standard_normal((outputs, features))
        model.bias.data[...] = rng.standard_normal(outputs)
    return model


def loader(*arrays, batch_size=3, shuffle=False):
    return cr.data.DataLoader(
        cr.data.TensorDataset(*arrays), batch_size=batch_size, shuffle=shuffle
    )


def test_epoch_loss_is_the_sample_weighted_mean_and_grad_norms_the_mean_over_batches():
    X, T = regression_data()  # 10 samples in batches of 3, 3, 3, 1: unequal weights
    model = linear_model()
    W, b = model.weight.data.copy(), model.bias.data.copy()
    opt = cr.optim.SGD(model.parameters(), lr=0.0)  # weights stay put: every epoch alike
    history = cr.nn.fit(
        model, cr.nn.MSELoss(), opt, loader(X, T), epochs=2, metrics=(), progress=False
    )
    residual = X @ W.T + b - T
    assert history.train_loss == pytest.approx([np.mean(residual**2)] * 2, rel=1e-12)
    # by hand: MSE over a batch of m rows, 2 outputs: dL/dY = 2 (Y - T) / (2 m)
    weight_norms, bias_norms = [], []
    for start in range(0, 10, 3):
        r = residual[start : start + 3]
        g_y = 2 * r / r.size
        weight_norms.append(np.linalg.norm(g_y.T @ X[start : start + 3]))
        bias_norms.append(np.linalg.norm(g_y.sum(axis=0)))
    assert history.grad_norms["weight"] == pytest.approx([np.mean(weight_norms)] * 2, rel=1e-10)
    assert history.grad_norms["bias"] == pytest.approx([np.mean(bias_norms)] * 2, rel=1e-10)
    assert history.epochs == [1, 2] and history.lr == [0.0, 0.0] and not history.interrupted


def test_accuracy_and_validation_figures_cover_every_sample_once():
    X = rng.standard_normal((11, 4))
    y = rng.integers(0, 3, size=11)
    X_val, y_val = rng.standard_normal((7, 4)), rng.integers(0, 3, size=7)
    model = linear_model(4, 3)
    W, b = model.weight.data.copy(), model.bias.data.copy()
    opt = cr.optim.SGD(model.parameters(), lr=0.0)
    history = cr.nn.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        opt,
        loader(X, y, batch_size=4),
        epochs=1,
        val_loader=loader(X_val, y_val, batch_size=2),
        progress=False,
    )

    def by_hand(X, y):
        z = X @ W.T + b
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -log_probs[np.arange(len(y)), y].mean(), np.mean(z.argmax(axis=1) == y)

    train_loss, train_accuracy = by_hand(X, y)
    val_loss, val_accuracy = by_hand(X_val, y_val)
    assert history.train_loss[0] == pytest.approx(train_loss, rel=1e-12)
    assert history.val_loss[0] == pytest.approx(val_loss, rel=1e-12)
    assert history.train_accuracy == [pytest.approx(train_accuracy)]
    assert history.val_accuracy == [pytest.approx(val_accuracy)]
    assert set(history.metrics) == {"train_accuracy", "val_accuracy"}


@needs_torch
def test_losses_match_a_pytorch_loop_from_the_same_weights():
    import torch

    X = rng.standard_normal((10, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=10)
    X_val, y_val = rng.standard_normal((5, 3)).astype(np.float32), rng.integers(0, 2, size=5)
    cr.manual_seed(3)
    model = cr.nn.Sequential(cr.nn.Linear(3, 5), cr.nn.Tanh(), cr.nn.Linear(5, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    reference.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    )
    opt = cr.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    torch_opt = torch.optim.SGD(reference.parameters(), lr=0.3, momentum=0.9)
    history = cr.nn.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        opt,
        loader(X, y, batch_size=4),
        epochs=4,
        val_loader=loader(X_val, y_val, batch_size=4),
        progress=False,
    )
    expected_train, expected_val, expected_norms = [], [], []
    for _ in range(4):
        total, norms = 0.0, []
        for start in range(0, 10, 4):
            xb, yb = torch.from_numpy(X[start : start + 4]), torch.from_numpy(y[start : start + 4])
            loss = torch.nn.functional.cross_entropy(reference(xb), yb)
            torch_opt.zero_grad()
            loss.backward()
            norms.append(reference[0].weight.grad.norm().item())
            torch_opt.step()
            total += loss.item() * len(yb)
        expected_train.append(total / 10)
        expected_norms.append(np.mean(norms))
        with torch.no_grad():
            logits = reference(torch.from_numpy(X_val))
            expected_val.append(
                torch.nn.functional.cross_entropy(logits, torch.from_numpy(y_val)).item()
            )
    assert history.train_loss == pytest.approx(expected_train, rel=1e-5)
    assert history.val_loss == pytest.approx(expected_val, rel=1e-5)
    assert history.grad_norms["0.weight"] == pytest.approx(expected_norms, rel=1e-4)
    assert history.train_loss[-1] < history.train_loss[0]


def test_schedulers_step_once_per_epoch_and_the_lr_is_recorded():
    X, T = regression_data()
    model = linear_model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    schedule = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = cr.nn.fit(
        model, cr.nn.MSELoss(), opt, loader(X, T), 3, metrics=(), scheduler=schedule, progress=False
    )
    assert history.lr == [0.1, 0.05, 0.025]
    assert opt.param_groups[0]["lr"] == 0.0125


class Recorder:
    """A scheduler that wants a metric, as ReduceLROnPlateau does."""

    def __init__(self):
        self.seen = []

    def step(self, metrics):
        self.seen.append(metrics)


@pytest.mark.parametrize("with_validation", [True, False])
def test_plateau_schedulers_are_given_the_val_loss_or_else_the_train_loss(with_validation):
    X, T = regression_data()
    val = loader(*regression_data(6)) if with_validation else None
    model = linear_model()
    recorder = Recorder()
    history = cr.nn.fit(
        model,
        cr.nn.MSELoss(),
        cr.optim.SGD(model.parameters(), lr=0.05),
        loader(X, T),
        3,
        val_loader=val,
        metrics=(),
        scheduler=recorder,
        progress=False,
    )
    assert recorder.seen == (history.val_loss if with_validation else history.train_loss)


def test_reduce_lr_on_plateau_cuts_the_lr_when_the_loss_stalls():
    X, T = regression_data()
    model = linear_model()
    # the optimizer holds a tensor outside the model: the model never changes, the loss stalls
    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    plateau = cr.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    history = cr.nn.fit(
        model, cr.nn.MSELoss(), opt, loader(X, T), 3, metrics=(), scheduler=plateau, progress=False
    )
    assert history.train_loss[0] == history.train_loss[1] == history.train_loss[2]
    # epoch 1 sets the best loss; epoch 2 fails to beat it (1 bad epoch > patience 0): halved
    assert history.lr == [1.0, 1.0, 0.5] and plateau.get_last_lr() == [0.25]


class ModeSpy(cr.nn.Module):
    """Records, per call, whether it was in training mode and recording a graph."""

    def __init__(self):
        super().__init__()
        self.linear = cr.nn.Linear(3, 2, dtype=np.float64)
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, cr.is_grad_enabled(), x.shape[0]))
        return self.linear(x)


def test_training_batches_in_train_mode_validation_in_eval_mode_without_a_graph():
    model = ModeSpy()
    X, T = regression_data(5)
    X_val, T_val = regression_data(4)
    cr.nn.fit(
        model,
        cr.nn.MSELoss(),
        cr.optim.SGD(model.parameters(), lr=0.01),
        loader(X, T, batch_size=5),
        2,
        val_loader=loader(X_val, T_val, batch_size=4),
        metrics=(),
        progress=False,
    )
    assert model.calls == [(True, True, 5), (False, False, 4)] * 2
    assert model.training


def interrupting_loss(after_calls: int):
    calls = {"n": 0}
    mse = cr.nn.MSELoss()

    def loss_fn(output, target):
        calls["n"] += 1
        if calls["n"] > after_calls:
            raise KeyboardInterrupt
        return mse(output, target)

    return loss_fn


def test_ctrl_c_mid_epoch_returns_the_completed_epochs():
    X, T = regression_data()  # 4 batches an epoch: the 10th loss is in epoch 3
    model = linear_model()
    history = cr.nn.fit(
        model,
        interrupting_loss(9),
        cr.optim.SGD(model.parameters(), lr=0.01),
        loader(X, T),
        epochs=5,
        metrics=(),
        progress=False,
    )
    assert history.interrupted and len(history) == 2
    assert len(history.train_loss) == len(history.lr) == len(history.grad_norms["weight"]) == 2
    assert "interrupted" in repr(history) and history.to_dict()["interrupted"] is True


def test_ctrl_c_during_validation_puts_the_model_back_in_train_mode():
    X, T = regression_data()
    model = linear_model()
    # 4 training batches, then the first validation batch raises
    history = cr.nn.fit(
        model,
        interrupting_loss(4),
        cr.optim.SGD(model.parameters(), lr=0.01),
        loader(X, T),
        epochs=3,
        val_loader=loader(X, T),
        metrics=(),
        progress=False,
    )
    assert history.interrupted and len(history) == 0 and model.training


def test_ctrl_c_closes_the_progress_display(monkeypatch):
    closed = []

    class Spy(progress_module.Silent):
        def close(self):
            closed.append(True)

    monkeypatch.setattr(cr.nn.training, "make_reporter", lambda *args: Spy())
    X, T = regression_data()
    model = linear_model()
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    history = cr.nn.fit(model, interrupting_loss(2), opt, loader(X, T), 2, metrics=())
    assert closed == [True] and history.interrupted


def test_other_errors_propagate():
    def broken(output, target):
        raise RuntimeError("a bug in the loss")

    model = linear_model()
    with pytest.raises(RuntimeError, match="a bug in the loss"):
        cr.nn.fit(
            model, broken, cr.optim.SGD(model.parameters(), lr=0.1), loader(*regression_data()), 1
        )


def test_history_is_json_ready_and_prints_as_a_table():
    X = rng.standard_normal((12, 4))
    y = rng.integers(0, 3, size=12)
    model = linear_model(4, 3)
    history = cr.nn.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        cr.optim.Adam(model.parameters(), lr=0.01),
        loader(X, y),
        3,
        val_loader=loader(X, y),
        progress=False,
    )
    data = json.loads(json.dumps(history.to_dict()))
    assert data["train_loss"] == history.train_loss and data["lr"] == [0.01] * 3
    assert data["metrics"]["val_accuracy"] == history.val_accuracy
    assert set(data["grad_norms"]) == {"weight", "bias"} and len(data["seconds"]) == 3
    lines = str(history).splitlines()
    assert lines[0].split() == [
        "epoch",
        "train_loss",
        "val_loss",
        "train_accuracy",
        "val_accuracy",
        "lr",
    ]
    assert len(lines) == 2 + 3 and lines[-1].split()[0] == "3"
    assert repr(history).startswith("History(3 epochs; last: train_loss ")
    with pytest.raises(AttributeError, match="train_accuracy"):
        history.test_accuracy  # noqa: B018


def test_custom_metrics_by_function_and_by_name():
    X = rng.standard_normal((8, 3))
    y = rng.integers(0, 2, size=8)
    model = linear_model(3, 2)

    def first_score_mean(output, target):
        return float(output[:, 0].mean())

    W, b = model.weight.data.copy(), model.bias.data.copy()
    history = cr.nn.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        cr.optim.SGD(model.parameters(), lr=0.0),
        loader(X, y),
        1,
        metrics={"score": first_score_mean, "acc": "accuracy"},
        progress=False,
    )
    assert history.train_score == [pytest.approx((X @ W[0] + b[0]).mean())]
    assert history.train_acc == [pytest.approx(np.mean((X @ W.T + b).argmax(axis=1) == y))]


def test_accuracy_reads_one_column_as_a_logit_and_many_as_class_scores():
    assert accuracy(np.array([[0.2, 0.1, 0.7], [0.9, 0.0, 0.1]]), np.array([2, 1])) == 0.5
    assert accuracy(np.array([-0.1, 0.3, 2.0]), np.array([0.0, 0.0, 1.0])) == pytest.approx(2 / 3)
    assert accuracy(np.array([[-0.1], [0.3]]), np.array([[0.0], [1.0]])) == 1.0
    with pytest.raises(ValueError, match=r"do not match the target's shape \(3,\)"):
        accuracy(np.zeros((2, 3)), np.array([0, 1, 2]))


@pytest.mark.parametrize(
    ("metrics", "error", "match"),
    [
        (("precision",), ValueError, "unknown metric 'precision'"),
        ((3,), TypeError, "a metric is a name or a function"),
        ({"loss": "accuracy"}, ValueError, "'loss' is recorded anyway"),
    ],
)
def test_bad_metrics_are_named(metrics, error, match):
    with pytest.raises(error, match=match):
        resolve_metrics(metrics)


def test_bad_arguments_say_what_was_wrong():
    model = linear_model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    data = loader(*regression_data())
    mse = cr.nn.MSELoss()
    with pytest.raises(ValueError, match="epochs must be a positive int, got 0"):
        cr.nn.fit(model, mse, opt, data, 0)
    with pytest.raises(TypeError, match="model must be a cr.nn.Module"):
        cr.nn.fit(lambda x: x, mse, opt, data, 1)
    with pytest.raises(TypeError, match="optimizer must be a cr.optim optimizer"):
        cr.nn.fit(model, mse, "sgd", data, 1)
    with pytest.raises(
        TypeError, match=r"loss_fn must return a scalar Tensor, got Tensor of shape \(3, 2\)"
    ):
        cr.nn.fit(model, cr.nn.MSELoss(reduction="none"), opt, data, 1, progress=False)
    with pytest.raises(TypeError, match=r"train_loader must yield \(inputs..., target\) tuples"):
        cr.nn.fit(model, mse, opt, [cr.randn(3, 3)], 1, progress=False)
    with pytest.raises(ValueError, match="train_loader yielded no batches"):
        cr.nn.fit(model, mse, opt, [], 1, metrics=(), progress=False)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_shows_nothing_off_a_terminal(capsys):
    X, T = regression_data()
    model = linear_model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    cr.nn.fit(model, cr.nn.MSELoss(), opt, loader(X, T), 2, metrics=())
    assert capsys.readouterr() == ("", "")
    assert isinstance(progress_module.make_reporter(True, 3, io.StringIO()), progress_module.Silent)
    assert type(progress_module.make_reporter(False, 3, FakeTerminal())) is progress_module.Silent


def test_progress_falls_back_to_plain_lines_without_rich(monkeypatch):
    real_find_spec = progress_module.importlib.util.find_spec
    monkeypatch.setattr(
        progress_module.importlib.util,
        "find_spec",
        lambda name: None if name == "rich" else real_find_spec(name),
    )
    terminal = FakeTerminal()
    reporter = progress_module.make_reporter(True, 2, terminal)
    assert isinstance(reporter, progress_module.PlainLines)
    reporter.end_epoch(1, "train_loss 0.25")
    assert terminal.getvalue() == "epoch 1/2  train_loss 0.25\n"


def test_rich_bar_on_a_terminal_shows_each_epoch(monkeypatch):
    pytest.importorskip("rich")
    terminal = FakeTerminal()
    real = progress_module.make_reporter
    monkeypatch.setattr(cr.nn.training, "make_reporter", lambda p, e: real(p, e, terminal))
    X, y = rng.standard_normal((9, 3)), rng.integers(0, 2, size=9)
    model = linear_model(3, 2)
    history = cr.nn.fit(
        model, cr.nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.1), loader(X, y), 2
    )
    shown = terminal.getvalue()
    assert isinstance(real(True, 2, FakeTerminal()), progress_module.RichBar)
    for epoch in (1, 2):
        assert f"epoch {epoch}/2" in shown
    assert f"{history.train_loss[-1]:.4g}" in shown and "train_accuracy" in shown


def test_evaluate_restores_the_mode_it_found():
    model = linear_model()
    model.eval()
    result = cr.nn.evaluate(model, cr.nn.MSELoss(), loader(*regression_data()), metrics=())
    assert not model.training and result.loss > 0 and result.metrics == {}
