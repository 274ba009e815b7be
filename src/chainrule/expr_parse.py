"""Formula text -> a flat program, safely: a whitelist walk over Python's ``ast``, with limits.

Nothing here evaluates, executes or compiles the text. It is checked in three passes, each
of which can only reject:

1. characters and tokens, by a small scanner on the original text: the length, the
   alphabet, names (no ``_``-prefixed or keyword names), two operands in a row (``2x``),
   parentheses (balanced, nested at most ``MAX_DEPTH`` deep). This runs first because
   ``ast.parse`` itself recurses and can fail with RecursionError or MemoryError on deep
   or huge input;
2. ``ast.parse`` of the text, with ``^`` turned into ``**`` and whitespace into spaces by a
   replacement that keeps a map back to the original positions;
3. an iterative walk over the tree that accepts only numbers, variables, the constants,
   ``+ - * / **``, signs and calls of the known functions, and writes the program.

The program is a tuple of instructions in postfix order (operands before their operator),
so evaluating it is one loop with a stack: no recursion however long the formula.
Every rejection is a ParseError pointing at the offending character.

>>> compile_formula("x^2 + 3*y")
(('var', 'x'), ('num', 2.0), ('**',), ('num', 3.0), ('var', 'y'), ('*',), ('+',))
>>> compile_formula("2 * x.real")
Traceback (most recent call last):
    ...
chainrule.expr_parse.ParseError: attribute access (.) is not allowed in a formula
    2 * x.real
         ^
"""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import re
from typing import NamedTuple

__all__ = ["CONSTANTS", "DEFAULT_LIMITS", "FUNCTIONS", "Limits", "ParseError", "compile_formula"]

# name -> (least, most) number of arguments; None: no upper bound
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "exp": (1, 1),
    "log": (1, 1),
    "ln": (1, 1),
    "sqrt": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "tan": (1, 1),
    "tanh": (1, 1),
    "sigmoid": (1, 1),
    "relu": (1, 1),
    "abs": (1, 1),
    # sign is there so that every derivative of a formula is a formula (d|x|/dx = sign(x))
    "sign": (1, 1),
    "min": (2, None),
    "max": (2, None),
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


class Limits(NamedTuple):
    """How large a formula may be: characters, nesting depth, and nodes of its tree."""

    max_length: int = 2000
    # parentheses and calls nested, and levels of the tree (a chain a + b - c is one level)
    max_depth: int = 32
    max_nodes: int = 500


class ParseError(ValueError):
    """A formula that cannot be read; ``position`` is the 0-based index of the bad character.

    ``str(error)`` shows the reason, then the formula (or the part of it around the
    position) with a caret under the bad character.
    """

    def __init__(self, message: str, text: str, position: int):
        self.message = message
        self.text = text
        self.position = position
        super().__init__(f"{message}\n{_excerpt(text, position)}")

    def __reduce__(self):
        return (type(self), (self.message, self.text, self.position))


def _excerpt(text: str, position: int, width: int = 72) -> str:
    """The text around ``position`` on one line, and a caret under that position."""
    start = max(0, min(position - width // 2, len(text) - width))
    end = min(len(text), start + width)
    shown = re.sub(r"\s", " ", text[start:end])
    left = "..." if start > 0 else ""
    right = "..." if end < len(text) else ""
    return f"    {left}{shown}{right}\n    {' ' * (len(left) + position - start)}^"


# -- pass 1: characters and tokens ---------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<number>(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),.])"
)

# hints for characters people paste from typeset math or other languages
_CHARACTER_HINTS = {
    "−": "use - for minus",
    "·": "use * for a product",
    "×": "use * for a product",
    "÷": "use / for division",
    "²": "write x**2 or x^2 for a square",
    "³": "write x**3 or x^3 for a cube",
    "π": "write pi",
    "√": "write sqrt(x)",
    "=": "a formula is an expression: no assignments or comparisons",
    "[": "indexing is not allowed",
    "{": "braces are not allowed; use parentheses",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "%": "the remainder % is not supported",
}


def _describe(char: str) -> str:
    return repr(char) if char.isprintable() else f"U+{ord(char):04X}"


def _check_tokens(text: str, limits: Limits) -> None:
    """Pass 1: reject bad characters, names, implicit products and unbalanced parentheses."""
    opened: list[int] = []  # positions of the open parentheses
    previous: tuple[str, str] | None = None  # (kind, text) of the last token
    position = 0
    any_token = False
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            hint = _CHARACTER_HINTS.get(char)
            hint = f" ({hint})" if hint else ""
            raise ParseError(
                f"character {_describe(char)} is not allowed in a formula{hint}", text, position
            )
        kind, token = match.lastgroup, match.group()
        if kind == "space":
            position = match.end()
            continue
        any_token = True
        if kind == "name":
            if token.startswith("_"):
                raise ParseError(f"names may not start with '_': {token!r}", text, position)
            if keyword.iskeyword(token):
                raise ParseError(f"{token!r} is not allowed in a formula", text, position)
        if token == "(":
            opened.append(position)
            if len(opened) > limits.max_depth:
                raise ParseError(
                    f"parentheses nested too deeply (at most {limits.max_depth} levels)",
                    text,
                    position,
                )
        elif token == ")":
            if not opened:
                raise ParseError("unmatched ')'", text, position)
            opened.pop()
        _check_adjacent(previous, kind, token, text, position)
        previous = (kind, token)
        position = match.end()
    if not any_token:
        raise ParseError("empty formula", text, 0)
    if opened:
        raise ParseError("'(' is never closed", text, opened[-1])


def _check_adjacent(previous, kind: str, token: str, text: str, position: int) -> None:
    """Two operands in a row (``2x``, ``(a)(b)``, ``x y``) are a missing operator.

    A name before ``(`` is a call, checked later against the known functions.
    """
    if previous is None:
        return
    before_kind, before = previous
    ends_operand = before_kind in ("number", "name") or before == ")"
    starts_operand = kind in ("number", "name") or token == "("
    if not (ends_operand and starts_operand) or (before_kind == "name" and token == "("):
        return
    if before == ")" or token == "(":
        hint = "write * for a product"
    else:
        hint = f"write {before}*{token} for a product"
    raise ParseError(f"missing operator between {before!r} and {token!r} ({hint})", text, position)


# -- pass 2: Python's parser on a position-keeping rewrite --------------------------------


def _python_source(text: str) -> tuple[str, list[int]]:
    """The text with ``^`` as ``**`` and all whitespace as spaces, and for every character of
    the result (plus one past the end) the index it came from in ``text``."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char == "^":
            pieces.append("**")
            origin += [index, index]
        else:
            pieces.append(" " if char.isspace() else char)
            origin.append(index)
    origin.append(len(text))
    return "".join(pieces), origin


def _parse_tree(text: str, source: str, origin: list[int]) -> ast.expr:
    try:
        return ast.parse(source, mode="eval").body
    except SyntaxError as error:
        message = error.msg
        if message.startswith("invalid syntax"):
            message = "invalid syntax"  # Python's hints ("forgot a comma?") are about Python
        if not error.offset:  # Python reports an early end of the input at offset 0
            raise ParseError("the formula ends too early", text, len(text)) from None
        position = origin[min(error.offset - 1, len(origin) - 1)]
        raise ParseError(message, text, position) from None
    except (RecursionError, MemoryError, ValueError):
        # pass 1 should prevent these; a Python whose parser is stricter still gets an answer
        raise ParseError("formula too complex to parse", text, 0) from None


# -- pass 3: the whitelist walk ------------------------------------------------------------

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_BINARY_NAMES = {
    ast.FloorDiv: "floor division //",
    ast.Mod: "the remainder %",
    ast.MatMult: "matrix product @",
    ast.BitXor: "bitwise xor",
    ast.BitAnd: "bitwise and &",
    ast.BitOr: "bitwise or |",
    ast.LShift: "shift <<",
    ast.RShift: "shift >>",
}
# operators that chain without nesting in a reader's eye: a + b - c is one level
_FAMILY = {"+": "sum", "-": "sum", "*": "product", "/": "product"}
_NODE_NAMES = {
    ast.Attribute: "attribute access (.)",
    ast.Subscript: "indexing",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.Lambda: "lambda",
    ast.Tuple: "a comma outside a function call (a formula is one expression)",
    ast.Starred: "unpacking with *",
    ast.NamedExpr: "assignment (:=)",
    ast.List: "a list",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.JoinedStr: "a string",
}


def _family(node: ast.expr) -> str | None:
    if isinstance(node, ast.BinOp):
        return _FAMILY.get(_BINARY.get(type(node.op)))
    return None


def _function_list() -> str:
    return ", ".join(sorted(FUNCTIONS))


class _Walk:
    """Pass 3: turn an accepted tree into the postfix program, rejecting everything else."""

    def __init__(self, text: str, source: str, origin: list[int], limits: Limits):
        self.text = text
        self.source = source
        self.origin = origin
        self.limits = limits
        self.program: list[tuple] = []

    def fail(self, message: str, column: int):
        raise ParseError(message, self.text, self.origin[min(column, len(self.origin) - 1)])

    def run(self, tree: ast.expr) -> tuple:
        # (node, its depth, whether its operands are done)
        stack: list[tuple] = [(tree, 1, False)]
        nodes = 0
        while stack:
            node, depth, done = stack.pop()
            if done:
                self.program.append(self.instruction(node))
                continue
            nodes += 1
            if nodes > self.limits.max_nodes:
                self.fail(
                    f"formula too large (at most {self.limits.max_nodes} nodes)", node.col_offset
                )
            if depth > self.limits.max_depth:
                self.fail(
                    f"formula nested too deeply (at most {self.limits.max_depth} levels)",
                    node.col_offset,
                )
            children = self.check(node)
            stack.append((node, depth, True))
            # push in reverse so that the leftmost operand is handled (and emitted) first
            for index in reversed(range(len(children))):
                child = children[index]
                family = _family(child)
                chained = index == 0 and family is not None and family == _family(node)
                stack.append((child, depth if chained else depth + 1, False))
        return tuple(self.program)

    def check(self, node: ast.expr) -> list[ast.expr]:
        """Reject a node that is not on the whitelist; return its operands."""
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                name = _BINARY_NAMES.get(type(node.op), type(node.op).__name__)
                self.fail(f"{name} is not supported", self.operator_column(node))
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                word = "not" if isinstance(node.op, ast.Not) else "~"
                self.fail(f"{word!r} is not supported", node.col_offset)
            return [node.operand]
        if isinstance(node, ast.Call):
            return self.check_call(node)
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                self.fail(f"{node.id} is a function: write {node.id}(...)", node.col_offset)
            return []
        if isinstance(node, ast.Constant):
            self.check_number(node)
            return []
        what = _NODE_NAMES.get(type(node), type(node).__name__)
        self.fail(f"{what} is not allowed in a formula", self.column_of(node))
        return []  # not reached

    def check_call(self, node: ast.Call) -> list[ast.expr]:
        if not isinstance(node.func, ast.Name):
            self.fail("only the named functions can be called", node.func.col_offset)
        name = node.func.id
        if name not in FUNCTIONS:
            close = difflib.get_close_matches(name.lower(), FUNCTIONS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            self.fail(
                f"{name!r} is not a function ({hint}functions: {_function_list()}; "
                f"write {name}*(...) for a product)",
                node.func.col_offset,
            )
        if node.keywords:
            self.fail("functions take no keyword arguments", node.keywords[0].col_offset)
        least, most = FUNCTIONS[name]
        count = len(node.args)
        if count < least or (most is not None and count > most):
            wanted = f"{least}" if least == most else f"at least {least}"
            plural = "" if wanted == "1" else "s"
            self.fail(f"{name} takes {wanted} argument{plural}, got {count}", node.col_offset)
        return list(node.args)

    def check_number(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{value!r} is not a number", node.col_offset)
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            self.fail("number too large (the largest float is about 1.8e308)", node.col_offset)

    def instruction(self, node: ast.expr) -> tuple:
        if isinstance(node, ast.BinOp):
            return (_BINARY[type(node.op)],)
        if isinstance(node, ast.UnaryOp):
            return ("neg",) if isinstance(node.op, ast.USub) else ("pos",)
        if isinstance(node, ast.Call):
            return ("call", node.func.id, len(node.args))
        if isinstance(node, ast.Name):
            return ("const", node.id) if node.id in CONSTANTS else ("var", node.id)
        return ("num", float(node.value))

    def operator_column(self, node: ast.BinOp) -> int:
        """Where the operator of a BinOp is: the first non-space after its left operand."""
        column = node.left.end_col_offset
        while column < len(self.source) and self.source[column] in " )":
            column += 1
        return column

    def column_of(self, node: ast.expr) -> int:
        if isinstance(node, ast.Attribute):
            return self.source.index(".", node.value.end_col_offset)
        if isinstance(node, ast.Subscript):
            return node.value.end_col_offset
        if isinstance(node, ast.Tuple) and node.elts:
            return self.source.index(",", node.elts[0].end_col_offset)
        return node.col_offset


DEFAULT_LIMITS = Limits()


def compile_formula(text: str, limits: Limits = DEFAULT_LIMITS) -> tuple:
    """The postfix program of a formula, or ParseError; see the module's docstring."""
    if not isinstance(text, str):
        raise TypeError(f"a formula is a str, got {type(text).__name__}")
    if len(text) > limits.max_length:
        raise ParseError(
            f"formula too long: {len(text)} characters (at most {limits.max_length})",
            text,
            limits.max_length,
        )
    _check_tokens(text, limits)
    source, origin = _python_source(text)
    tree = _parse_tree(text, source, origin)
    program = _Walk(text, source, origin, limits).run(tree)
    return tuple(step for step in program if step != ("pos",))
