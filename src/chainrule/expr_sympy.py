r"""The bridge from formulas to SymPy (the ``symbolic`` extra): expressions, derivatives, LaTeX.

SymPy is imported here only, when one of these functions runs. The expression is built
from the formula's own program, step by step, with SymPy's objects; no string is ever
handed to SymPy. A derivative comes back as text written by a printer that speaks the
formula language, and that text is read by our own parser like any other formula.

Variables are real symbols, so that d|x|/dx is sign(x). sigmoid and relu stay named
functions (their derivatives are sigmoid(x)*(1 - sigmoid(x)) and a unit step); the step,
SymPy's Heaviside, is written back as relu(sign(x)): 1 above 0 and 0 at or below it, the
engines' convention for relu's slope at 0. The slope of a step is 0, as in the engines.

>>> from chainrule.expr_parse import compile_formula
>>> to_sympy(compile_formula("x^2 * sigmoid(y)"))
x**2*sigmoid(y)
>>> derivative_text(compile_formula("x^2 * sigmoid(y)"), "y")
'x**2*(1 - sigmoid(y))*sigmoid(y)'
>>> print(latex(compile_formula("sqrt(x) / 2")))
\frac{\sqrt{x}}{2}
"""

from __future__ import annotations

import functools

from chainrule.expr_eval import OPERATORS, run

__all__ = ["derivative_text", "latex", "to_sympy"]

INSTALL_HINT = "pip install 'chainrule[symbolic]'"


def import_sympy():
    """The sympy module, or ImportError saying how to install it."""
    try:
        import sympy
    except ImportError:
        raise ImportError(f"symbolic formulas need SymPy: {INSTALL_HINT}") from None
    return sympy


@functools.cache
def _tools():
    """SymPy's pieces the bridge uses, made once: function table, named functions, printer."""
    sympy = import_sympy()
    from sympy.printing.str import StrPrinter

    class sigmoid(sympy.Function):  # noqa: N801  (the formula language's name)
        """The logistic function 1 / (1 + exp(-x))."""

        @classmethod
        def eval(cls, x):  # SymPy's hook to simplify on construction (not Python's eval)
            if x.is_Number:
                return 1 / (1 + sympy.exp(-x))
            return None

        def fdiff(self, argindex=1):
            s = self.func(*self.args)
            return s * (1 - s)

        def _eval_rewrite_as_exp(self, x, **kwargs):
            return 1 / (1 + sympy.exp(-x))

        def _eval_evalf(self, prec):
            return self.rewrite(sympy.exp)._eval_evalf(prec)

        def _latex(self, printer):
            return rf"\sigma\left({printer._print(self.args[0])}\right)"

    class relu(sympy.Function):  # noqa: N801  (the formula language's name)
        """max(0, x)."""

        @classmethod
        def eval(cls, x):  # SymPy's hook to simplify on construction (not Python's eval)
            if x.is_Number:
                return sympy.Max(0, x)
            return None

        def fdiff(self, argindex=1):
            return sympy.Heaviside(self.args[0])

        def _eval_rewrite_as_Max(self, x, **kwargs):
            return sympy.Max(0, x)

        def _eval_evalf(self, prec):
            return self.rewrite(sympy.Max)._eval_evalf(prec)

        def _latex(self, printer):
            return rf"\operatorname{{relu}}\left({printer._print(self.args[0])}\right)"

    class FormulaPrinter(StrPrinter):
        """SymPy's text printer, speaking the formula language."""

        def _print_Abs(self, expr):
            return f"abs({self._print(expr.args[0])})"

        def _print_Exp1(self, expr):
            return "e"

        def _print_Pi(self, expr):
            return "pi"

        def _print_Float(self, expr):
            return repr(float(expr))  # the shortest text that reads back as the same float

        def _print_Min(self, expr):
            return f"min({', '.join(self._print(a) for a in expr.args)})"

        def _print_Max(self, expr):
            return f"max({', '.join(self._print(a) for a in expr.args)})"

        def _print_Heaviside(self, expr):
            return f"relu(sign({self._print(expr.args[0])}))"

    functions = {
        "exp": sympy.exp,
        "log": sympy.log,
        "ln": sympy.log,
        "sqrt": sympy.sqrt,
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "tanh": sympy.tanh,
        "sigmoid": sigmoid,
        "relu": relu,
        "abs": sympy.Abs,
        "sign": sympy.sign,
        "min": sympy.Min,
        "max": sympy.Max,
    }
    # what a printed expression may contain, so that it reads back as a formula
    # (sqrt is no class: SymPy writes it as a power)
    classes = {f for f in functions.values() if isinstance(f, type)}
    printable = tuple(classes | {sympy.Heaviside})
    return sympy, functions, printable, FormulaPrinter()


class _Symbolic:
    """The evaluator's operations on SymPy objects (see chainrule.expr_eval.run)."""

    def __init__(self):
        self.sympy, self.functions, _, _ = _tools()

    def number(self, value: float):
        if value.is_integer() and abs(value) < 2**53:
            return self.sympy.Integer(int(value))
        return self.sympy.Float(value)

    def constant(self, name: str):
        return self.sympy.pi if name == "pi" else self.sympy.E

    @staticmethod
    def negative(x):
        return -x

    @staticmethod
    def binary(code: str, x, y):
        return OPERATORS[code](x, y)

    def call(self, name: str, args: list):
        return self.functions[name](*args)


def to_sympy(program: tuple):
    """The SymPy expression of a formula's program, its variables real symbols."""
    backend = _Symbolic()
    names = {step[1] for step in program if step[0] == "var"}
    symbols = {name: backend.sympy.Symbol(name, real=True) for name in names}
    return run(program, symbols, backend)


def derivative_text(program: tuple, name: str) -> str:
    """The derivative of a formula's program with respect to ``name``, as formula text."""
    sympy, _, printable, printer = _tools()
    derivative = sympy.diff(to_sympy(program), sympy.Symbol(name, real=True))
    # the slope of a step (sign, or relu's slope) is 0 wherever it exists: the engines' value
    # (and PyTorch's), where SymPy writes a DiracDelta
    derivative = derivative.replace(sympy.DiracDelta, _zero)
    for applied in derivative.atoms(sympy.Function):
        if not isinstance(applied, printable):
            raise ValueError(
                f"the derivative contains {type(applied).__name__}, which formulas cannot "
                f"express: {derivative}"
            )
    if derivative.has(sympy.Derivative, sympy.Subs):
        raise ValueError(f"SymPy could not differentiate this formula: {derivative}")
    if derivative.has(sympy.I, sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        raise ValueError(f"the derivative is not a finite real formula: {derivative}")
    return printer.doprint(derivative)


def _zero(*args):
    return 0


def latex(program: tuple) -> str:
    """LaTeX of a formula's program, as SymPy writes it."""
    sympy, _, _, _ = _tools()
    return sympy.latex(to_sympy(program))
