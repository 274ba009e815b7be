"""Every loss, as a function and as a module, against PyTorch (value and gradients, float64,
every reduction, class weights, ignore_index, label smoothing, K-dimensional targets,
probability targets) and against finite differences (first and second derivatives); the
stable ones at logits of +-1000."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from tests.conftest import needs_torch
from tests.tensor_cases import draw, rng

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

REDUCTIONS = ["mean", "sum", "none"]
CLASS_WEIGHT = rng(20).uniform(0.5, 2.0, 5)


@dataclass(frozen=True)
class LossCase:
    """One loss call: ``name`` in both F's; ``inputs`` differentiated; ``targets`` (class
    indices) and ``options`` (ndarrays become Tensors of each library) passed along."""

    name: str
    inputs: tuple
    targets: tuple = ()
    options: dict = field(default_factory=dict)
    label: str = ""

    def __str__(self) -> str:
        return self.label or self.name

    def run(self, library, inputs):
        module = F if library == "chainrule" else TF
        convert = cr.tensor if library == "chainrule" else torch.tensor
        options = {
            k: convert(v) if isinstance(v, np.ndarray) else v for k, v in self.options.items()
        }
        targets = [convert(t) for t in self.targets]
        return getattr(module, self.name)(*inputs, *targets, **options)


def _logits(shape, salt=0):
    return draw(shape, salt=salt) * 2


def _classes(shape, ignored=(), salt=0):
    values = rng(30 + salt).integers(0, 5, shape)
    for index in ignored:
        values[index] = -100
    return values


def _probabilities(shape, salt=0):
    return rng(40 + salt).uniform(0.05, 0.95, shape)


def _cases() -> list[LossCase]:
    cases = []
    for reduction in REDUCTIONS:
        for smoothing in (0.0, 0.25):
            for weighted in (False, True):
                options = {"reduction": reduction, "label_smoothing": smoothing}
                if weighted:
                    options["weight"] = CLASS_WEIGHT
                tag = f"{reduction}-ls{smoothing}{'-w' if weighted else ''}"
                cases.append(
                    LossCase(
                        "cross_entropy",
                        (_logits((6, 5)),),
                        (_classes((6,), ignored=[(2,)]),),
                        options,
                        f"cross_entropy-{tag}",
                    )
                )
                cases.append(
                    LossCase(
                        "cross_entropy",
                        (_logits((2, 5, 3, 2)),),
                        (_classes((2, 3, 2), salt=1),),
                        {**options, "ignore_index": 1},
                        f"cross_entropy-kdim-{tag}",
                    )
                )
        cases += [
            LossCase(
                "cross_entropy",
                (_logits((4, 5)), rng(9).dirichlet(np.ones(5), 4)),
                options={"reduction": reduction, "label_smoothing": 0.1, "weight": CLASS_WEIGHT},
                label=f"cross_entropy-probabilities-{reduction}",
            ),
            LossCase(
                "cross_entropy",
                (_logits((5,)),),
                (np.array(3),),
                {"reduction": reduction},
                f"cross_entropy-unbatched-{reduction}",
            ),
            LossCase(
                "nll_loss",
                (_logits((6, 5)),),
                (_classes((6,), ignored=[(0,)]),),
                {"reduction": reduction, "weight": CLASS_WEIGHT},
                f"nll_loss-{reduction}",
            ),
            LossCase(
                "nll_loss",
                (_logits((2, 5, 3)),),
                (_classes((2, 3)),),
                {"reduction": reduction},
                f"nll_loss-kdim-{reduction}",
            ),
            LossCase(
                "binary_cross_entropy",
                (_probabilities((4, 3)), _probabilities((4, 3), salt=1)),
                options={"reduction": reduction, "weight": draw((3,), "positive")},
                label=f"binary_cross_entropy-{reduction}",
            ),
            LossCase(
                "binary_cross_entropy_with_logits",
                (_logits((4, 3)), _probabilities((4, 3), salt=1)),
                options={"reduction": reduction},
                label=f"bce_with_logits-{reduction}",
            ),
            LossCase(
                "binary_cross_entropy_with_logits",
                (_logits((4, 3)), _probabilities((4, 3), salt=1)),
                options={
                    "reduction": reduction,
                    "pos_weight": draw((3,), "positive", salt=2),
                    "weight": draw((4, 1), "positive", salt=3),
                },
                label=f"bce_with_logits-pos_weight-{reduction}",
            ),
            LossCase(
                "mse_loss", (draw((3, 4)), draw((3, 4), salt=1)), options={"reduction": reduction}
            ),
            LossCase(
                "l1_loss", (draw((3, 4)), draw((3, 4), salt=1)), options={"reduction": reduction}
            ),
            LossCase(
                "huber_loss",
                (draw((3, 4)) * 2, draw((3, 4), salt=1)),
                options={"reduction": reduction, "delta": 0.8},
            ),
            LossCase(
                "smooth_l1_loss",
                (draw((3, 4)) * 2, draw((3, 4), salt=1)),
                options={"reduction": reduction, "beta": 0.7},
            ),
        ]
    weight = draw((3, 4), "positive", salt=5)
    for name in ("mse_loss", "l1_loss", "huber_loss"):
        for reduction in REDUCTIONS:
            cases.append(
                LossCase(
                    name,
                    (draw((3, 4)) * 2, draw((3, 4), salt=1)),
                    options={"reduction": reduction, "weight": weight},
                    label=f"{name}-weighted-{reduction}",
                )
            )
    return cases


CASES = _cases()
NAMED = {str(case): case for case in CASES}


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=str)
def test_loss_matches_torch(case):
    ours = [cr.tensor(a, requires_grad=True) for a in case.inputs]
    theirs = [torch.tensor(a, requires_grad=True) for a in case.inputs]
    out = case.run("chainrule", ours)
    expected = case.run("torch", theirs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng(8).uniform(-2.0, 2.0, out.shape)
    out.backward(gradient=upstream)
    expected.backward(torch.tensor(upstream))
    for k, (x, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"input {k}"
        )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_loss_gradcheck(case):
    def f(*inputs):
        return case.run("chainrule", inputs)

    assert cr.gradcheck(f, *case.inputs)


SECOND_ORDER = [
    "cross_entropy-mean-ls0.0",
    "cross_entropy-none-ls0.25-w",
    "cross_entropy-kdim-sum-ls0.25-w",
    "cross_entropy-probabilities-mean",
    "nll_loss-mean",
    "nll_loss-kdim-none",
    "binary_cross_entropy-mean",
    "bce_with_logits-pos_weight-sum",
    "huber_loss",
    "mse_loss-weighted-mean",
]


@pytest.mark.parametrize("label", SECOND_ORDER)
def test_loss_gradgradcheck(label):
    case = NAMED[label]
    assert cr.gradgradcheck(lambda *inputs: case.run("chainrule", inputs), *case.inputs)


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_second_derivatives_match_torch(reduction):
    # the double-backward of the fused primitive against torch's
    x = _logits((4, 5))
    target = _classes((4,))
    v = rng(3).standard_normal((4, 5))
    options = {"weight": CLASS_WEIGHT, "label_smoothing": 0.2, "reduction": reduction}
    ours = cr.tensor(x, requires_grad=True)
    loss = F.cross_entropy(
        ours,
        cr.tensor(target),
        cr.tensor(CLASS_WEIGHT),
        **{k: v for k, v in options.items() if k != "weight"},
    ).sum()
    (g,) = cr.autograd.grad(loss, [ours], create_graph=True)
    (g * v).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    expected_loss = TF.cross_entropy(
        theirs,
        torch.tensor(target),
        torch.tensor(CLASS_WEIGHT),
        **{k: v for k, v in options.items() if k != "weight"},
    ).sum()
    (h,) = torch.autograd.grad(expected_loss, [theirs], create_graph=True)
    (h * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(g.numpy(), h.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


JVP_CASES = [
    "cross_entropy-mean-ls0.25-w",
    "cross_entropy-none-ls0.0",
    "cross_entropy-kdim-sum-ls0.25-w",
    "nll_loss-mean",
    "nll_loss-kdim-none",
]


@pytest.mark.parametrize("label", JVP_CASES)
def test_loss_jvp_rules_match_finite_differences(label):
    from chainrule.ops import loss as loss_ops

    case = NAMED[label]
    prim = getattr(loss_ops, case.name)
    x, (target,) = case.inputs[0], case.targets
    options = dict(case.options)
    weight = options.pop("weight", None)
    tangent = draw(x.shape, salt=21)
    ans = prim(x, target, weight, **options)
    eps = 1e-6
    expected = (
        prim(x + eps * tangent, target, weight, **options)
        - prim(x - eps * tangent, target, weight, **options)
    ) / (2 * eps)
    jvp = prim.jvp([tangent, None, None], ans, x, target, weight, **options)
    np.testing.assert_allclose(jvp, expected, atol=1e-7)


def test_binary_cross_entropy_jvp_rule_matches_finite_differences():
    from chainrule.ops import loss as loss_ops

    p, y = _probabilities((4, 3)), _probabilities((4, 3), salt=1)
    p_dot, y_dot = draw((4, 3), salt=2), draw((4, 3), salt=3)
    prim = loss_ops.binary_cross_entropy
    ans = prim(p, y)
    eps = 1e-6
    expected = (prim(p + eps * p_dot, y + eps * y_dot) - prim(p - eps * p_dot, y - eps * y_dot)) / (
        2 * eps
    )
    np.testing.assert_allclose(prim.jvp([p_dot, y_dot], ans, p, y), expected, atol=1e-7)
    only_y = (prim(p, y + eps * y_dot) - prim(p, y - eps * y_dot)) / (2 * eps)
    np.testing.assert_allclose(prim.jvp([None, y_dot], ans, p, y), only_y, atol=1e-7)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = _logits((4, 3))
    target = np.array([2, 0, 1, 2])
    logits = cr.tensor(x, requires_grad=True)
    F.cross_entropy(logits, target).backward()
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad.numpy(), (probs - np.eye(3)[target]) / 4, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_at_huge_logits(dtype):
    x = cr.tensor(np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], dtype=dtype))
    x.requires_grad_()
    loss = F.cross_entropy(x, np.array([1, 2]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    # row 0 puts all mass on the wrong class: its loss is about 2000 (the logit gap)
    per_row = F.cross_entropy(x, np.array([1, 2]), reduction="none").numpy()
    np.testing.assert_allclose(per_row, [2000.0, 1.0 + np.log1p(np.exp(-1.0))], rtol=1e-6)


@needs_torch
def test_bce_with_logits_is_finite_and_matches_torch_at_logits_1000():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 3.0]])
    y = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 1.0]])
    ours = cr.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(ours, y, pos_weight=cr.tensor([2.0, 0.5, 1.5]))
    expected = TF.binary_cross_entropy_with_logits(
        theirs, torch.tensor(y), pos_weight=torch.tensor([2.0, 0.5, 1.5])
    )
    loss.backward()
    expected.backward()
    assert np.isfinite(loss.item()) and np.isfinite(ours.grad.numpy()).all()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_bce_with_logits_gradient_at_zero_is_sigmoid_minus_target():
    x = cr.tensor([0.0, 0.0], requires_grad=True)
    F.binary_cross_entropy_with_logits(x, np.array([0.0, 1.0]), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, -0.5])


@needs_torch
def test_bce_clamps_the_log_at_minus_100_like_torch():
    p = np.array([0.0, 1.0, 0.3])
    y = np.array([1.0, 0.0, 0.3])
    ours = cr.tensor(p, requires_grad=True)
    theirs = torch.tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(ours, y, reduction="sum")
    expected = TF.binary_cross_entropy(theirs, torch.tensor(y), reduction="sum")
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_all_targets_ignored_gives_nan_mean_and_zero_gradient():
    x = cr.tensor(_logits((2, 3)), requires_grad=True)
    loss = F.cross_entropy(x, np.array([-100, -100]))
    assert np.isnan(loss.item())
    assert F.cross_entropy(x, np.array([-100, -100]), reduction="sum").item() == 0.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0, 3])), IndexError, "target 3"),
        (lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0])), ValueError, r"\(2,\)"),
        (
            lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0, 1]), reduction="avg"),
            ValueError,
            "reduction",
        ),
        (
            lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0, 1]), label_smoothing=1.5),
            ValueError,
            "label_smoothing",
        ),
        (
            lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0, 1]), weight=np.ones(4)),
            ValueError,
            "one entry per class",
        ),
        (lambda: F.nll_loss(cr.zeros(2, 3), np.array([0.0, 1.0])), TypeError, "integers"),
        (
            lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0.0, 1.0])),
            ValueError,
            "class indices must be integers",
        ),
        (
            lambda: F.binary_cross_entropy(cr.tensor([1.5]), np.array([1.0])),
            ValueError,
            r"\[0, 1\]",
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(cr.zeros(2), np.zeros(3)),
            ValueError,
            "same as input size",
        ),
    ],
)
def test_loss_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_mse_with_a_broadcast_target_warns():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(cr.zeros(3, 2), cr.zeros(3, 1))


# -- the modules -------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize(
    ("name", "options", "inputs", "target"),
    [
        (
            "CrossEntropyLoss",
            {"label_smoothing": 0.1, "ignore_index": 2},
            (_logits((6, 5)),),
            _classes((6,)),
        ),
        (
            "CrossEntropyLoss",
            {"weight": CLASS_WEIGHT, "reduction": "sum"},
            (_logits((6, 5)),),
            _classes((6,)),
        ),
        ("NLLLoss", {"weight": CLASS_WEIGHT}, (_logits((6, 5)),), _classes((6,))),
        (
            "BCELoss",
            {"weight": np.array([0.5, 2.0, 1.0])},
            (_probabilities((4, 3)),),
            _probabilities((4, 3), salt=1),
        ),
        (
            "BCEWithLogitsLoss",
            {"pos_weight": np.array([0.5, 2.0, 1.0])},
            (_logits((4, 3)),),
            _probabilities((4, 3), salt=1),
        ),
        ("MSELoss", {}, (draw((3, 4)),), draw((3, 4), salt=1)),
        ("L1Loss", {"reduction": "sum"}, (draw((3, 4)),), draw((3, 4), salt=1)),
        ("HuberLoss", {"delta": 0.5}, (draw((3, 4)),), draw((3, 4), salt=1)),
        ("SmoothL1Loss", {"beta": 0.5}, (draw((3, 4)),), draw((3, 4), salt=1)),
    ],
)
def test_loss_modules_match_torch(name, options, inputs, target):
    ours = getattr(cr.nn, name)(
        **{k: cr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    )
    theirs = getattr(torch.nn, name)(
        **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    )
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = cr.tensor(inputs[0], requires_grad=True)
    t = torch.tensor(inputs[0], requires_grad=True)
    loss = ours(x, cr.tensor(target))
    expected = theirs(t, torch.tensor(target))
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_loss_module_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be one of"):
        cr.nn.MSELoss(reduction="average")
