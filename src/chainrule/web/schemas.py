"""The hiker's request and response bodies, as pydantic models with their limits.

Every number a request carries is finite (JSON has no NaN, but Python's JSON reader takes
``NaN`` and ``Infinity``, so the models refuse them) and inside a range, and every list has a
most length: a request's work is bounded before any of it is done. A body that breaks a rule
gets a 422 naming the field (pydantic's message).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_FORMULA_LENGTH = 500
MAX_RESOLUTION = 400
MAX_STEPS = 10_000
MAX_OPTIMIZERS = 6
# a coordinate (start, point, bounds) stays well inside float range: f at 1e9 squared is 1e18
MAX_COORDINATE = 1e9

Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE, allow_inf_nan=False)]
FormulaText = Annotated[str, Field(min_length=1, max_length=MAX_FORMULA_LENGTH)]
SurfaceName = Annotated[str, Field(min_length=1, max_length=64)]


class _Body(BaseModel):
    # an unknown field is a mistake worth naming (a typo of "resolution", say)
    model_config = ConfigDict(extra="forbid")


class _Target(_Body):
    """A named surface or a formula in x and y: exactly one of the two."""

    surface: SurfaceName | None = Field(
        default=None, description="a surface of /api/surfaces", examples=["rosenbrock"]
    )
    formula: FormulaText | None = Field(
        default=None, description="a formula in x and y", examples=["x**2 + 3*y**2"]
    )

    @model_validator(mode="after")
    def _one_target(self):
        if (self.surface is None) == (self.formula is None):
            raise ValueError("give exactly one of 'surface' and 'formula'")
        return self


class Bounds(_Body):
    """The map's window: [low, high] along each axis."""

    x: tuple[Coordinate, Coordinate]
    y: tuple[Coordinate, Coordinate]

    @model_validator(mode="after")
    def _ordered(self):
        for axis in ("x", "y"):
            low, high = getattr(self, axis)
            if not low < high:
                raise ValueError(f"bounds.{axis} must be [low, high] with low < high")
        return self


class GridRequest(_Target):
    bounds: Bounds | None = Field(
        default=None, description="default: the surface's domain, or [-3, 3] for a formula"
    )
    resolution: int = Field(default=100, ge=2, le=MAX_RESOLUTION)


class GridResponse(BaseModel):
    x: list[float]
    y: list[float]
    z: list[list[float | None]] = Field(description="one row per y; null where not finite")
    zmin: float | None
    zmax: float | None
    log_scale: bool = Field(description="the values span orders of magnitude: colour by log")
    formula: str
    variables: list[str]


Rate = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Beta = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class OptimizerChoice(_Body):
    """One optimiser and the hyperparameters that differ from its defaults."""

    # any text: an unknown name gets a 400 that suggests the closest one
    name: str = Field(min_length=1, max_length=32, examples=["adam"])
    lr: Rate | None = None
    momentum: Fraction | None = None
    betas: tuple[Beta, Beta] | None = None
    alpha: Fraction | None = None
    eps: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    weight_decay: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    damping: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None

    def given(self) -> dict:
        """The hyperparameters set in the request."""
        return {k: v for k, v in self.model_dump(exclude={"name"}).items() if v is not None}


class TrajectoriesRequest(_Target):
    start: tuple[Coordinate, Coordinate] = Field(examples=[[-1.2, 1.0]])
    optimizers: list[OptimizerChoice] = Field(min_length=1, max_length=MAX_OPTIMIZERS)
    steps: int = Field(default=500, ge=1, le=MAX_STEPS)
    tol: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = Field(
        default=1e-6, description="stop once the gradient's norm is at most this (null: never)"
    )


class Run(BaseModel):
    name: str
    color: str
    status: Literal["converged", "diverged", "max_steps", "time_limit"]
    steps: int
    converged_at: int | None
    diverged_at: int | None
    points: list[list[float]]
    values: list[float | None]
    gradients: list[list[float | None]]
    hyperparameters: dict


class TrajectoriesResponse(BaseModel):
    runs: list[Run]
    formula: str
    variables: list[str]


class Point(_Body):
    x: Coordinate
    y: Coordinate


class ExplainRequest(_Target):
    point: Point


class ExplainResponse(BaseModel):
    formula: str
    point: dict[str, float]
    value: float | None
    gradient: dict[str, float | None]
    report: dict
    markdown: str


class Surface(BaseModel):
    name: str
    formula: str
    variables: list[str]
    domain: list[list[float]]
    minima: list[list[float]]
    minimum: float | None
    start: list[float]
    lesson: str


class SurfacesResponse(BaseModel):
    surfaces: list[Surface]


class SliderRange(BaseModel):
    """Where the page's slider for a hyperparameter goes; ``log``: a log-scale slider."""

    min: float
    max: float
    log: bool = False


class OptimizerInfo(BaseModel):
    name: str
    label: str
    color: str
    default: bool
    hyperparameters: dict
    ranges: dict[str, SliderRange]


class OptimizersResponse(BaseModel):
    optimizers: list[OptimizerInfo]


class Health(BaseModel):
    status: str
    version: str
