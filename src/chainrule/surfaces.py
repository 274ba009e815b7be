"""Test functions to descend: each a formula with a domain, its minima, a start and a lesson.

Every surface is defined by its formula text, read by ``cr.parse`` (one source of truth),
so it evaluates on floats, NumPy grids, Scalars and Tensors alike. Most are functions of
(x, y); the course's own examples are functions of w (and b). The minima are listed to 16
digits, as found numerically (a test checks each: zero gradient, positive curvature, and
no lower point on a grid over the domain). Published coordinates are often rounded, and
some published formulas carry typos; the formulas here are the ones whose minima check.

>>> import chainrule as cr
>>> rosenbrock = cr.surfaces.get("rosenbrock")
>>> rosenbrock.text
'(1 - x)^2 + 100*(y - x^2)^2'
>>> rosenbrock.minima, rosenbrock.start
(((1.0, 1.0),), (-1.2, 1.0))
>>> rosenbrock(-1.2, 1.0)
24.199999999999996
>>> rosenbrock.grad(1.0, 1.0)
(0.0, 0.0)
>>> "himmelblau" in cr.surfaces.names()
True
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from types import MappingProxyType

from chainrule.expr import Formula

__all__ = ["SURFACES", "Surface", "get", "names"]


@dataclass(frozen=True)
class Surface:
    """A test function: callable on coordinates of any kind (floats, arrays, Scalars, Tensors).

    ``domain`` is one (low, high) range per variable, for plots; ``minima`` the points of
    the global minimum (empty when there is none: the lesson says why), ``minimum`` the
    value there (None when there is none); ``start`` a starting point that shows the lesson.

    >>> import chainrule as cr
    >>> bowl = cr.surfaces.get("bowl")
    >>> bowl.variables, bowl.minima, bowl(3.0, 4.0)
    (('x', 'y'), ((0.0, 0.0),), 25.0)
    """

    name: str
    formula: Formula
    variables: tuple[str, ...]
    domain: tuple[tuple[float, float], ...]
    minima: tuple[tuple[float, ...], ...]
    minimum: float | None
    start: tuple[float, ...]
    lesson: str

    @property
    def text(self) -> str:
        """The formula, as written."""
        return self.formula.text

    @property
    def ndim(self) -> int:
        """How many variables: 2 for a surface over (x, y), 1 for a curve over w."""
        return len(self.variables)

    def __call__(self, *point):
        """The value at ``point``: one value per variable, or a single sequence, array or
        Tensor holding them along its first axis (as an optimiser's parameter vector is).

        >>> get("himmelblau")(3.0, 2.0)
        0.0
        """
        coordinates = self._unpack(point)
        return self.formula(**dict(zip(self.variables, coordinates)))

    def grad(self, *point) -> tuple:
        """The gradient at ``point``, one entry per variable (floats, or arrays for grids).

        >>> import chainrule as cr
        >>> cr.surfaces.get("bowl").grad(3.0, 4.0)     # (2x, 2y)
        (6.0, 8.0)
        """
        coordinates = self._unpack(point)
        by_name = self.formula.grad(**dict(zip(self.variables, coordinates)))
        return tuple(by_name[name] for name in self.variables)

    def _unpack(self, point: tuple) -> tuple:
        if len(point) == 1 and self.ndim > 1:
            (vector,) = point
            try:
                size = len(vector)
            except TypeError:
                size = None
            if size != self.ndim:
                raise TypeError(
                    f"surface {self.name!r} takes {self.ndim} coordinates {self.variables}, "
                    f"or one sequence of {self.ndim}; got {vector!r}"
                )
            return tuple(vector[i] for i in range(self.ndim))
        if len(point) != self.ndim:
            raise TypeError(
                f"surface {self.name!r} takes {self.ndim} coordinates {self.variables}, "
                f"got {len(point)}"
            )
        return point

    def __repr__(self) -> str:
        return f"Surface({self.name!r}: {self.text})"


def _surface(name, text, domain, minima, minimum, start, lesson, variables=("x", "y")):
    formula = Formula(text)
    assert set(formula.variables) == set(variables), f"{name}: variables of {text!r}"
    return Surface(name, formula, variables, domain, minima, minimum, start, lesson)


_ALL = [
    _surface(
        "bowl",
        "x^2 + y^2",
        ((-3.0, 3.0), (-3.0, 3.0)),
        ((0.0, 0.0),),
        0.0,
        (2.5, -1.5),
        "A round bowl: the gradient points straight at the minimum, so gradient descent "
        "walks straight in; too large a learning rate (above 1 here) overshoots and diverges.",
    ),
    _surface(
        "ellipse",
        "0.1*x^2 + 2*y^2",
        ((-6.0, 6.0), (-3.0, 3.0)),
        ((0.0, 0.0),),
        0.0,
        (-5.0, -2.0),
        "Ill-conditioned: 20 times steeper across than along. A learning rate that is safe "
        "across crawls along; a larger one zig-zags across. Momentum averages the zig-zag "
        "away and keeps the speed along the valley.",
    ),
    _surface(
        "rosenbrock",
        "(1 - x)^2 + 100*(y - x^2)^2",
        ((-2.0, 2.0), (-1.0, 3.0)),
        ((1.0, 1.0),),
        0.0,
        (-1.2, 1.0),
        "A long, curved, nearly flat valley: descent reaches the floor in a few steps, then "
        "crawls along the bend for thousands. Newton's method, which uses the curvature, "
        "follows the bend in a few dozen.",
    ),
    _surface(
        "beale",
        "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
        ((-4.5, 4.5), (-4.5, 4.5)),
        ((3.0, 0.5),),
        0.0,
        (1.0, 1.0),
        "Flat plateaus beside steep walls: the gradient's size changes by orders of "
        "magnitude, so no single learning rate suits both; adaptive methods (Adam, RMSprop) "
        "rescale each step.",
    ),
    _surface(
        "himmelblau",
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        ((-5.0, 5.0), (-5.0, 5.0)),
        (
            (3.0, 2.0),
            (-2.805118086952745, 3.131312518250573),
            (-3.779310253377747, -3.2831859912861696),
            (3.5844283403304917, -1.8481265269644036),
        ),
        0.0,
        (0.0, 0.0),
        "Four minima, all equally deep: which one descent finds depends only on where it starts.",
    ),
    _surface(
        "booth",
        "(x + 2*y - 7)^2 + (2*x + y - 5)^2",
        ((-10.0, 10.0), (-10.0, 10.0)),
        ((1.0, 3.0),),
        0.0,
        (-8.0, -6.0),
        "A tilted, elongated quadratic bowl with its minimum away from the origin: Newton's "
        "method lands on it in one step, gradient descent takes many.",
    ),
    _surface(
        "matyas",
        "0.26*(x^2 + y^2) - 0.48*x*y",
        ((-10.0, 10.0), (-10.0, 10.0)),
        ((0.0, 0.0),),
        0.0,
        (8.0, 2.0),
        "A valley rotated 45 degrees: along the diagonal y = x it is 25 times flatter than "
        "across, so descent drops into the valley at once and then creeps down it.",
    ),
    _surface(
        "three_hump_camel",
        "2*x^2 - 1.05*x^4 + x^6/6 + x*y + y^2",
        ((-2.5, 2.5), (-2.5, 2.5)),
        ((0.0, 0.0),),
        0.0,
        (-2.0, 2.0),
        "One global minimum between two local ones (about 0.2986 deep at (±1.7476, "
        "∓0.8738)): descent started on a side hump stops in the local minimum there.",
    ),
    _surface(
        "six_hump_camel",
        "(4 - 2.1*x^2 + x^4/3)*x^2 + x*y + (-4 + 4*y^2)*y^2",
        ((-2.0, 2.0), (-1.2, 1.2)),
        ((0.08984201310031806, -0.7126564030207396), (-0.08984201310031806, 0.7126564030207396)),
        -1.0316284534898774,
        (-1.5, -1.0),
        "Six valleys, two of them the deepest: the start and the step size decide which "
        "valley descent ends in, and four of the six are only local minima.",
    ),
    _surface(
        "saddle",
        "x^2 - y^2",
        ((-2.0, 2.0), (-2.0, 2.0)),
        (),
        None,
        (1.5, 0.01),
        "A saddle point at the origin: the gradient is zero there but it is no minimum. "
        "Started exactly on the x axis, descent stalls at the saddle; the smallest nudge in y "
        "grows until it escapes. No minimum at all: the surface falls forever along y.",
    ),
    _surface(
        "bounded_saddle",
        "x^2 + y^4/4 - y^2/2",
        ((-2.0, 2.0), (-2.0, 2.0)),
        ((0.0, 1.0), (0.0, -1.0)),
        -0.25,
        (1.5, 0.01),
        "The same saddle at the origin, but the surface rises again: escaping the saddle "
        "along y leads to the real minima at (0, ±1).",
    ),
    _surface(
        "monkey_saddle",
        "x^3 - 3*x*y^2",
        ((-1.5, 1.5), (-1.5, 1.5)),
        (),
        None,
        (1.0, 0.1),
        "A degenerate saddle: gradient and curvature both vanish at the origin, so neither "
        "the slope nor Newton's method has anything to go on there. Three ways down and no "
        "minimum: the surface falls without bound.",
    ),
    _surface(
        "rastrigin",
        "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
        ((-5.12, 5.12), (-5.12, 5.12)),
        ((0.0, 0.0),),
        0.0,
        (3.3, -2.6),
        "A bowl covered in regular bumps: a local minimum near every integer point traps "
        "gradient descent; only the overall trend, invisible to the gradient, leads home.",
    ),
    _surface(
        "ackley",
        "-20*exp(-0.2*sqrt(0.5*(x^2 + y^2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
        ((-5.0, 5.0), (-5.0, 5.0)),
        ((0.0, 0.0),),
        0.0,
        (3.5, -2.5),
        "A nearly flat, rippled plain around one deep funnel: many local minima, and at the "
        "bottom a cone tip where the gradient is undefined (nan): a fixed step jitters "
        "around it.",
    ),
    _surface(
        "styblinski_tang",
        "(x^4 - 16*x^2 + 5*x + y^4 - 16*y^2 + 5*y) / 2",
        ((-5.0, 5.0), (-5.0, 5.0)),
        ((-2.903534027771177, -2.903534027771177),),
        -78.33233140754282,
        (1.0, 1.0),
        "Four basins of different depths, one per quadrant: descent from the middle settles "
        "in whichever basin it rolls into, and only one of them is the global minimum.",
    ),
    _surface(
        "course_parabola",
        "(w - 3)^2",
        ((-1.0, 7.0),),
        ((3.0,),),
        0.0,
        (0.0,),
        "The course's first loss L(w) = (w - 3)^2, from w = 0: with learning rate 0.1 each "
        "step closes a fifth of the gap to w = 3; above 1 the steps overshoot and diverge.",
        variables=("w",),
    ),
    _surface(
        "course_line",
        "(w*1 - 3)^2 + (w*2 - 5)^2 + (w*3 - 7)^2",
        ((-1.0, 5.0),),
        ((17 / 7,),),
        3 / 7,
        (0.0,),
        "The course's line through the origin y = w*x fitted to (1, 3), (2, 5), (3, 7) by "
        "summed squared error: dL/dw = 28w - 68, zero at w = 17/7 ≈ 2.43. The points lie on "
        "y = 2x + 1, which no line through the origin reaches, so the least loss is 3/7.",
        variables=("w",),
    ),
    _surface(
        "linear_fit",
        "((w*1 + b - 3)^2 + (w*2 + b - 5)^2 + (w*3 + b - 7)^2) / 3",
        ((-1.0, 5.0), (-4.0, 6.0)),
        ((2.0, 1.0),),
        0.0,
        (0.0, 0.0),
        "Mean squared error of the line y = w*x + b on the course's points: a tilted, "
        "elongated bowl (slope and intercept trade off) whose bottom, w = 2 and b = 1, fits "
        "the points exactly.",
        variables=("w", "b"),
    ),
]

SURFACES = MappingProxyType({surface.name: surface for surface in _ALL})
"""Every surface by name, in a fixed order (read-only)."""


def names() -> tuple[str, ...]:
    """The names of all surfaces, in the registry's order.

    >>> import chainrule as cr
    >>> cr.surfaces.names()[:3]
    ('bowl', 'ellipse', 'rosenbrock')
    >>> "rosenbrock" in cr.surfaces.names()
    True
    """
    return tuple(SURFACES)


def get(name: str) -> Surface:
    """The surface called ``name`` (case, spaces and hyphens don't matter).

    >>> get("Six-hump camel").minimum
    -1.0316284534898774
    """
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key in SURFACES:
        return SURFACES[key]
    close = difflib.get_close_matches(key, SURFACES, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise KeyError(f"no surface called {name!r} ({hint}surfaces: {', '.join(SURFACES)})")
