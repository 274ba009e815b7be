"""Elementwise primitives: each forward on ndarrays, its VJP rule right below it.

Rules are written with operators and the functions of this package, never ``np.`` calls on
their inputs, so that under ``create_graph=True`` they run on Tensors and are recorded (see
``chainrule.ops.core``). Broadcasting is undone by the engine, not here.

>>> import chainrule as cr
>>> x = cr.tensor([0.5, -1.0], requires_grad=True)
>>> cr.tanh(x).sum().backward()
>>> x.grad
tensor([0.7864, 0.4200])
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.ops.core import add_tangents, has_derivative, nondifferentiable, primitive, raw

# -- arithmetic ------------------------------------------------------------------------------


@primitive
def add(x, y):
    """x + y, broadcasting.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cr.add(x, 10).sum().backward()              # same as (x + 10).sum()
    >>> x.grad                                      # d(x + 10)/dx = 1
    tensor([1., 1.])
    """
    return np.add(x, y)


@add.defvjp(saves=())
def add_vjp(g, ans, x, y):
    return g, g


@add.defjvp
def add_jvp(tangents, ans, x, y):
    x_dot, y_dot = tangents
    return add_tangents(x_dot, y_dot)


@primitive
def subtract(x, y):
    """x - y, broadcasting.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0])
    >>> y = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> cr.subtract(x, y).sum().backward()          # same as (x - y).sum()
    >>> y.grad                                      # d(x - y)/dy = -1
    tensor([-1., -1.])
    """
    return np.subtract(x, y)


@subtract.defvjp(saves=())
def subtract_vjp(g, ans, x, y):
    return g, -g


@subtract.defjvp
def subtract_jvp(tangents, ans, x, y):
    x_dot, y_dot = tangents
    return add_tangents(x_dot, None if y_dot is None else -y_dot)


@primitive
def multiply(x, y):
    """x * y, broadcasting.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> cr.multiply(x, y).sum().backward()          # same as (x * y).sum()
    >>> x.grad, y.grad                              # each gets the other factor
    (tensor([3., 4.]), tensor([1., 2.]))
    """
    return np.multiply(x, y)


@multiply.defvjp(saves=("x", "y"))
def multiply_vjp(g, ans, x, y, *, needs):
    return (g * y if needs[0] else None), (g * x if needs[1] else None)


@multiply.defjvp
def multiply_jvp(tangents, ans, x, y):
    x_dot, y_dot = tangents
    return add_tangents(
        None if x_dot is None else x_dot * y,
        None if y_dot is None else x * y_dot,
    )


@primitive
def divide(x, y):
    """x / y, broadcasting; IEEE results (inf, nan) where y is 0.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cr.divide(x, 4).tolist()                    # same as x / 4
    [0.25, 0.5]
    >>> cr.divide(x, 4).sum().backward()
    >>> x.grad                                      # d(x/4)/dx = 1/4
    tensor([0.25, 0.25])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(x, y)


@divide.defvjp(saves=("y", "ans"))
def divide_vjp(g, ans, x, y, *, needs):
    # d(x/y)/dx = 1/y,  d(x/y)/dy = -x/y**2 = -(x/y)/y
    return (g / y if needs[0] else None), (-g * ans / y if needs[1] else None)


@divide.defjvp
def divide_jvp(tangents, ans, x, y):
    x_dot, y_dot = tangents
    return add_tangents(
        None if x_dot is None else x_dot / y,
        None if y_dot is None else -y_dot * ans / y,
    )


@primitive
def negative(x):
    """-x.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> cr.negative(x).sum().backward()             # same as (-x).sum()
    >>> x.grad
    tensor([-1., -1.])
    """
    return np.negative(x)


@negative.defvjp(saves=())
def negative_vjp(g, ans, x):
    return (-g,)


@negative.defjvp
def negative_jvp(tangents, ans, x):
    return -tangents[0]


@primitive
def power(x, y):
    """x ** y, broadcasting; nan for a negative base to a fractional power (IEEE).

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0], requires_grad=True)
    >>> cr.power(x, 2).sum().backward()             # same as (x ** 2).sum()
    >>> x.grad                                      # 2x
    tensor([6.])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.power(x, y)


@power.defvjp
def power_vjp(g, ans, x, y, *, needs):
    x_bar = y_bar = None
    if needs[0]:
        # the power rule, with d(x**0)/dx = 0 even at x = 0 (not 0 * inf)
        x_bar = where(equal(y, 0), 0.0, g * y * x ** (y - 1))
    if needs[1]:
        # d(x**y)/dy = x**y ln x: 0 where x = 0 and y >= 0 (the power is 0 all around, as in
        # PyTorch); nan for x < 0, where no real derivative exists
        # (logical_and, not &: under create_graph these are Tensors, or a NumPy bool and one)
        safe_log = log(where(equal(x, 0), 1.0, x))
        if isinstance(x, (int, float)):
            # a number's log as a number: a float64 0-d array would upcast a float32 gradient
            safe_log = float(safe_log)
        y_bar = where(logical_and(equal(x, 0), greater_equal(y, 0)), 0.0, g * ans * safe_log)
    return x_bar, y_bar


@power.defjvp
def power_jvp(tangents, ans, x, y):
    # the same two partial derivatives as power_vjp, with the same care at x = 0 and y = 0
    x_dot, y_dot = tangents
    x_term = y_term = None
    if x_dot is not None:
        with np.errstate(invalid="ignore"):  # 0 * inf at x = y = 0, which where discards
            x_term = where(equal(y, 0), 0.0, x_dot * y * x ** (y - 1))
    if y_dot is not None:
        safe_log = log(where(equal(x, 0), 1.0, x))
        if isinstance(x, (int, float)):
            safe_log = float(safe_log)
        y_term = where(logical_and(equal(x, 0), greater_equal(y, 0)), 0.0, y_dot * ans * safe_log)
    return add_tangents(x_term, y_term)


@primitive
def abs(x):  # noqa: A001  (the NumPy and PyTorch name)
    """|x|; its derivative at 0 is taken as 0, as in PyTorch.

    >>> import chainrule as cr
    >>> x = cr.tensor([-2.0, 3.0], requires_grad=True)
    >>> cr.abs(x).sum().backward()                  # or x.abs()
    >>> x.grad                                      # the sign of x
    tensor([-1.,  1.])
    """
    return np.abs(x)


@abs.defvjp(saves=("x",))
def abs_vjp(g, ans, x):
    return (g * sign(x),)


@abs.defjvp
def abs_jvp(tangents, ans, x):
    return tangents[0] * sign(x)


@primitive
def maximum(x, y):
    """The larger of x and y, elementwise; ties send each side half the gradient (PyTorch).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 5.0], requires_grad=True)
    >>> cr.maximum(x, 2.0).tolist()
    [2.0, 5.0]
    >>> cr.maximum(x, 2.0).sum().backward()
    >>> x.grad                                      # 1 where x is the larger
    tensor([0., 1.])
    """
    return np.maximum(x, y)


@maximum.defvjp(saves=("x", "y"))
def maximum_vjp(g, ans, x, y, *, needs):
    share = (greater(x, y) + 0.5 * equal(x, y)).astype(ans.dtype)
    return (g * share if needs[0] else None), (g * (1 - share) if needs[1] else None)


@maximum.defjvp
def maximum_jvp(tangents, ans, x, y):
    x_dot, y_dot = tangents
    share = (greater(x, y) + 0.5 * equal(x, y)).astype(ans.dtype)
    return add_tangents(
        None if x_dot is None else x_dot * share,
        None if y_dot is None else y_dot * (1 - share),
    )


@primitive
def minimum(x, y):
    """The smaller of x and y, elementwise; ties send each side half the gradient (PyTorch).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 5.0], requires_grad=True)
    >>> cr.minimum(x, 2.0).tolist()
    [1.0, 2.0]
    >>> cr.minimum(x, 2.0).sum().backward()
    >>> x.grad                                      # 1 where x is the smaller
    tensor([1., 0.])
    """
    return np.minimum(x, y)


@minimum.defvjp(saves=("x", "y"))
def minimum_vjp(g, ans, x, y, *, needs):
    share = (less(x, y) + 0.5 * equal(x, y)).astype(ans.dtype)
    return (g * share if needs[0] else None), (g * (1 - share) if needs[1] else None)


@minimum.defjvp
def minimum_jvp(tangents, ans, x, y):
    x_dot, y_dot = tangents
    share = (less(x, y) + 0.5 * equal(x, y)).astype(ans.dtype)
    return add_tangents(
        None if x_dot is None else x_dot * share,
        None if y_dot is None else y_dot * (1 - share),
    )


@primitive
def where(condition, x, y):
    """x where condition holds, else y (broadcasting); no gradient flows to the condition.

    >>> import chainrule as cr
    >>> x = cr.tensor([-1.0, 2.0], requires_grad=True)
    >>> cr.where(x > 0, x, 0.0).sum().backward()    # relu by hand
    >>> x.grad                                      # 1 where x was taken, 0 where 0.0 was
    tensor([0., 1.])
    """
    return np.where(condition, x, y)


@where.defvjp(saves=("condition",))
def where_vjp(g, ans, condition, x, y, *, needs):
    zero = 0.0
    x_bar = where(condition, g, zero) if needs[1] else None
    y_bar = where(condition, zero, g) if needs[2] else None
    return None, x_bar, y_bar


@where.defjvp
def where_jvp(tangents, ans, condition, x, y):
    _, x_dot, y_dot = tangents
    return where(condition, 0.0 if x_dot is None else x_dot, 0.0 if y_dot is None else y_dot)


# -- functions -------------------------------------------------------------------------------


@primitive
def exp(x):
    """e ** x.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> cr.exp(x).sum().backward()
    >>> x.grad                                      # d e^x/dx = e^x
    tensor([1.0000, 2.7183])
    """
    return np.exp(x)


@exp.defvjp(saves=("ans",))
def exp_vjp(g, ans, x):
    return (g * ans,)


@exp.defjvp
def exp_jvp(tangents, ans, x):
    return tangents[0] * ans


@primitive
def expm1(x):
    """e ** x - 1, accurate near 0.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.expm1(x).sum().backward()
    >>> x.grad                                      # e^x at 0
    tensor([1.])
    """
    return np.expm1(x)


@expm1.defvjp(saves=("ans",))
def expm1_vjp(g, ans, x):
    return (g * (ans + 1),)


@expm1.defjvp
def expm1_jvp(tangents, ans, x):
    return tangents[0] * (ans + 1)


@primitive
def log(x):
    """Natural logarithm; -inf at 0, nan below (IEEE).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 4.0], requires_grad=True)
    >>> cr.log(x).sum().backward()
    >>> x.grad                                      # 1/x
    tensor([1.00, 0.25])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


@log.defvjp(saves=("x",))
def log_vjp(g, ans, x):
    return (g / x,)


@log.defjvp
def log_jvp(tangents, ans, x):
    return tangents[0] / x


@primitive
def log1p(x):
    """ln(1 + x), accurate near 0.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> cr.log1p(x).sum().backward()
    >>> x.grad                                      # 1 / (1 + x)
    tensor([1.0, 0.5])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log1p(x)


@log1p.defvjp(saves=("x",))
def log1p_vjp(g, ans, x):
    return (g / (x + 1),)


@log1p.defjvp
def log1p_jvp(tangents, ans, x):
    return tangents[0] / (x + 1)


@primitive
def sqrt(x):
    """Square root; nan below 0 (IEEE).

    >>> import chainrule as cr
    >>> x = cr.tensor([4.0], requires_grad=True)
    >>> cr.sqrt(x).item()
    2.0
    >>> cr.sqrt(x).sum().backward()
    >>> x.grad                                      # 1 / (2 sqrt(x)) = 1/4
    tensor([0.25])
    """
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


@sqrt.defvjp(saves=("ans",))
def sqrt_vjp(g, ans, x):
    return (g / (2 * ans),)


@sqrt.defjvp
def sqrt_jvp(tangents, ans, x):
    return tangents[0] / (2 * ans)


@primitive
def sin(x):
    """Sine.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.sin(x).sum().backward()                  # or x.sin()
    >>> x.grad                                      # cos(0)
    tensor([1.])
    """
    return np.sin(x)


@sin.defvjp(saves=("x",))
def sin_vjp(g, ans, x):
    return (g * cos(x),)


@sin.defjvp
def sin_jvp(tangents, ans, x):
    return tangents[0] * cos(x)


@primitive
def cos(x):
    """Cosine.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.cos(x).item()
    1.0
    >>> cr.cos(x).sum().backward()
    >>> x.grad                                      # -sin(0): zero, with a sign
    tensor([-0.])
    """
    return np.cos(x)


@cos.defvjp(saves=("x",))
def cos_vjp(g, ans, x):
    return (-g * sin(x),)


@cos.defjvp
def cos_jvp(tangents, ans, x):
    return -tangents[0] * sin(x)


@primitive
def tan(x):
    """Tangent.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.tan(x).sum().backward()
    >>> x.grad                                      # 1 + tan(0)**2
    tensor([1.])
    """
    return np.tan(x)


@tan.defvjp(saves=("ans",))
def tan_vjp(g, ans, x):
    return (g * (1 + ans * ans),)


@tan.defjvp
def tan_jvp(tangents, ans, x):
    return tangents[0] * (1 + ans * ans)


@primitive
def tanh(x):
    """Hyperbolic tangent.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> cr.tanh(x).sum().backward()
    >>> x.grad                                      # 1 - tanh^2
    tensor([1.00, 0.42])
    """
    return np.tanh(x)


@tanh.defvjp(saves=("ans",))
def tanh_vjp(g, ans, x):
    return (g * (1 - ans * ans),)


@tanh.defjvp
def tanh_jvp(tangents, ans, x):
    return tangents[0] * (1 - ans * ans)


@primitive
def sigmoid(x):
    """1 / (1 + e**-x), computed without overflow for any x (a primitive for stability).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.sigmoid(x).sum().backward()
    >>> x.grad                                      # s(1 - s) at s = 0.5
    tensor([0.25])
    """
    return np.exp(-np.logaddexp(0, -x))


@sigmoid.defvjp(saves=("ans",))
def sigmoid_vjp(g, ans, x):
    return (g * ans * (1 - ans),)


@sigmoid.defjvp
def sigmoid_jvp(tangents, ans, x):
    return tangents[0] * ans * (1 - ans)


@primitive
def relu(x):
    """max(x, 0); its derivative at 0 is 0 (PyTorch).

    >>> import chainrule as cr
    >>> x = cr.tensor([-1.0, 2.0], requires_grad=True)
    >>> cr.relu(x).sum().backward()
    >>> x.grad
    tensor([0., 1.])
    """
    x = np.asarray(x)
    # a zero of x's own dtype: with a Python 0, NumPy takes a slower loop (measured 1.6x)
    return np.maximum(x, x.dtype.type(0))


@relu.defvjp(saves=("ans",))
def relu_vjp(g, ans, x, *, overwrite=False):
    # ans > 0 exactly where x > 0: only the output is kept. An operator, not greater():
    # on arrays it is NumPy's own comparison, with no dispatch (a Tensor's > is greater)
    if overwrite:  # g is the engine's own array: mask it where it lies
        g *= ans > 0
        return (g,)
    return (g * (ans > 0),)


@relu.defjvp
def relu_jvp(tangents, ans, x):
    return tangents[0] * greater(ans, 0)


@primitive
def leaky_relu(x, negative_slope=0.01):
    """x above 0, negative_slope * x below.

    >>> import chainrule as cr
    >>> x = cr.tensor([-2.0, 3.0], requires_grad=True)
    >>> cr.leaky_relu(x, 0.5).tolist()
    [-1.0, 3.0]
    >>> cr.leaky_relu(x, 0.5).sum().backward()
    >>> x.grad                                      # the slope on each side
    tensor([0.5, 1.0])
    """
    return np.where(x > 0, x, x * negative_slope)


@leaky_relu.defvjp(saves=("x",))
def leaky_relu_vjp(g, ans, x, negative_slope=0.01):
    return (where(greater(x, 0), g, g * negative_slope),)


@leaky_relu.defjvp
def leaky_relu_jvp(tangents, ans, x, negative_slope=0.01):
    x_dot = tangents[0]
    return where(greater(x, 0), x_dot, x_dot * negative_slope)


@primitive
def elu(x, alpha=1.0):
    """x above 0, alpha * (e**x - 1) below.

    >>> import chainrule as cr
    >>> x = cr.tensor([-1.0, 3.0], requires_grad=True)
    >>> cr.elu(x)                                   # e**-1 - 1 below 0, x above
    tensor([-0.6321,  3.0000], op=elu)
    >>> cr.elu(x).sum().backward()
    >>> x.grad                                      # e**x below 0, 1 above
    tensor([0.3679, 1.0000])
    """
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


@elu.defvjp(saves=("x", "ans"))
def elu_vjp(g, ans, x, alpha=1.0):
    return (where(greater(x, 0), g, g * (ans + alpha)),)


@elu.defjvp
def elu_jvp(tangents, ans, x, alpha=1.0):
    x_dot = tangents[0]
    return where(greater(x, 0), x_dot, x_dot * (ans + alpha))


@primitive
def softplus(x, beta=1.0, threshold=20.0):
    """ln(1 + e**(beta x)) / beta, linear above threshold as in PyTorch (a primitive for
    stability: no overflow for large x).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.softplus(x).sum().backward()
    >>> x.grad                                      # its derivative is the sigmoid: 1/2 at 0
    tensor([0.5])
    """
    scaled = x * beta
    return np.where(scaled > threshold, x, np.logaddexp(0, scaled) / beta)


@softplus.defvjp(saves=("x",))
def softplus_vjp(g, ans, x, beta=1.0, threshold=20.0):
    scaled = x * beta
    return (where(greater(scaled, threshold), g, g * sigmoid(scaled)),)


@softplus.defjvp
def softplus_jvp(tangents, ans, x, beta=1.0, threshold=20.0):
    x_dot = tangents[0]
    scaled = x * beta
    return where(greater(scaled, threshold), x_dot, x_dot * sigmoid(scaled))


_erf_python = np.frompyfunc(math.erf, 1, 1)


@primitive
def erf(x):
    """The error function (SciPy's when installed, else math.erf per element).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.erf(x).item()
    0.0
    >>> cr.erf(x).sum().backward()
    >>> x.grad                                      # 2 / sqrt(pi)
    tensor([1.1284])
    """
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:
        return _erf_python(x).astype(np.result_type(x, np.float32))
    return scipy_erf(x)


@erf.defvjp(saves=("x",))
def erf_vjp(g, ans, x):
    return (g * (2 / math.sqrt(math.pi)) * exp(-x * x),)


@erf.defjvp
def erf_jvp(tangents, ans, x):
    return tangents[0] * (2 / math.sqrt(math.pi)) * exp(-x * x)


def gelu(x, approximate: str = "none"):
    """Gaussian error linear unit: x * Phi(x), exact (erf) by default as in PyTorch, or the
    tanh approximation with ``approximate="tanh"``. Composed from primitives.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> cr.gelu(x)                                  # x times P(N(0, 1) < x)
    tensor([0.0000, 0.8413], op=multiply)
    >>> cr.gelu(x).sum().backward()
    >>> x.grad[0].item()                            # Phi(0) + 0 * phi(0)
    0.5
    """
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1 + tanh(inner))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))


def clip(x, min=None, max=None):  # noqa: A002  (NumPy's and PyTorch's names)
    """x limited to [min, max]; gradient 1 inside and at the bounds (PyTorch's clamp).

    >>> import chainrule as cr
    >>> x = cr.tensor([-3.0, 0.5, 3.0], requires_grad=True)
    >>> cr.clamp(x, -1, 1).tolist()                 # clip and clamp: one function
    [-1.0, 0.5, 1.0]
    >>> cr.clamp(x, -1, 1).sum().backward()
    >>> x.grad                                      # nothing flows where it was cut off
    tensor([0., 1., 0.])
    """
    if min is None and max is None:
        raise ValueError("clip needs min or max (or both)")
    # bounds with derivatives (that require grad, or carry forward-mode tangents) take the
    # composed path, whose rules differentiate them too
    if not any(has_derivative(b) for b in (min, max)):
        low = raw(min)
        high = raw(max)
        return _clip(x, low, high)
    out = x
    if min is not None:
        out = where(less(out, min), min, out)
    if max is not None:
        out = where(greater(out, max), max, out)
    return out


@primitive
def _clip(x, low, high):
    return np.clip(x, low, high)


@_clip.defvjp(saves=("x", "low", "high"))
def _clip_vjp(g, ans, x, low, high):
    # logical_and, not &: under create_graph these masks are Tensors
    above_low = greater_equal(x, -np.inf if low is None else low)
    inside = logical_and(above_low, less_equal(x, np.inf if high is None else high))
    return g * inside, None, None


@_clip.defjvp
def _clip_jvp(tangents, ans, x, low, high):
    # only x varies here: clip sends bounds with derivatives down the composed path
    above_low = greater_equal(x, -np.inf if low is None else low)
    inside = logical_and(above_low, less_equal(x, np.inf if high is None else high))
    return tangents[0] * inside


_clip.name = "clip"
clamp = clip

# -- not differentiable: results never require grad --------------------------------------------


@nondifferentiable
def sign(x):
    """-1, 0 or 1.

    >>> import chainrule as cr
    >>> cr.sign(cr.tensor([-2.5, 0.0, 1.5]))
    tensor([-1.,  0.,  1.])
    """
    return np.sign(x)


@nondifferentiable
def floor(x):
    """The largest integer not above x (as a float).

    >>> import chainrule as cr
    >>> cr.floor(cr.tensor([-2.5, 0.0, 1.5]))
    tensor([-3.,  0.,  1.])
    """
    return np.floor(x)


@nondifferentiable
def ceil(x):
    """The smallest integer not below x (as a float).

    >>> import chainrule as cr
    >>> cr.ceil(cr.tensor([-2.5, 0.0, 1.5]))
    tensor([-2.,  0.,  2.])
    """
    return np.ceil(x)


@nondifferentiable
def round(x, decimals=0):  # noqa: A001  (the NumPy and PyTorch name)
    """x rounded half to even, as NumPy and PyTorch do.

    >>> import chainrule as cr
    >>> cr.round(cr.tensor([0.5, 1.5, 2.5]))        # halves go to the even neighbour
    tensor([0., 2., 2.])
    """
    return np.round(x, decimals)


@nondifferentiable
def less(x, y):
    """x < y, elementwise (broadcasting); no gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> cr.less(x, 2)                               # same as x < 2
    tensor([ True, False, False])
    """
    return np.less(x, y)


@nondifferentiable
def less_equal(x, y):
    """x <= y, elementwise (broadcasting); no gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> cr.less_equal(x, 2)                         # same as x <= 2
    tensor([ True,  True, False])
    """
    return np.less_equal(x, y)


@nondifferentiable
def greater(x, y):
    """x > y, elementwise (broadcasting); no gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> cr.greater(x, 2)                            # same as x > 2
    tensor([False, False,  True])
    """
    return np.greater(x, y)


@nondifferentiable
def greater_equal(x, y):
    """x >= y, elementwise (broadcasting); no gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> cr.greater_equal(x, 2)                      # same as x >= 2
    tensor([False,  True,  True])
    """
    return np.greater_equal(x, y)


@nondifferentiable
def equal(x, y):
    """x == y, elementwise (broadcasting); no gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> cr.equal(x, 2)                              # same as x == 2
    tensor([False,  True, False])
    """
    return np.equal(x, y)


@nondifferentiable
def not_equal(x, y):
    """x != y, elementwise (broadcasting); no gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> cr.not_equal(x, 2)                          # same as x != 2
    tensor([ True, False,  True])
    """
    return np.not_equal(x, y)


@nondifferentiable
def isnan(x):
    """True where x is nan.

    >>> import chainrule as cr
    >>> cr.isnan(cr.tensor([1.0, float("nan"), float("inf")]))
    tensor([False,  True, False])
    """
    return np.isnan(x)


@nondifferentiable
def isfinite(x):
    """True where x is neither nan nor infinite.

    >>> import chainrule as cr
    >>> cr.isfinite(cr.tensor([1.0, float("nan"), float("inf")]))
    tensor([ True, False, False])
    """
    return np.isfinite(x)


@nondifferentiable
def logical_and(x, y):
    """x and y, elementwise.

    >>> import chainrule as cr
    >>> cr.logical_and(cr.tensor([True, True, False]), cr.tensor([True, False, False]))
    tensor([ True, False, False])
    """
    return np.logical_and(x, y)


@nondifferentiable
def logical_or(x, y):
    """x or y, elementwise.

    >>> import chainrule as cr
    >>> cr.logical_or(cr.tensor([True, True, False]), cr.tensor([True, False, False]))
    tensor([ True,  True, False])
    """
    return np.logical_or(x, y)


@nondifferentiable
def logical_not(x):
    """not x, elementwise.

    >>> import chainrule as cr
    >>> cr.logical_not(cr.tensor([True, False]))
    tensor([False,  True])
    """
    return np.logical_not(x)
