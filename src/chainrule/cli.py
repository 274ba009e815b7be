"""The ``chainrule`` command: parses the arguments and hands each subcommand to the small
module that does its work (``cli_formulas``, ``cli_descend``, ``cli_train``); every one
returns an ``Output`` that ``cli_output.render`` shows as text, rich tables on a terminal,
Markdown or JSON. Bad input exits with code 2 and one line on stderr (for a formula, the
parser's caret under the bad character), never a traceback.

>>> main(["--version"])
chainrule 0.1.0
0
>>> main(["grad", "x**2 + 3*x*y + y**2", "--at", "x=2,y=1", "--json"])  # doctest: +ELLIPSIS
{
  "formula": "x**2 + 3*x*y + y**2",
  ...
  "gradient": {
    "x": 7.0,
    "y": 8.0
  }
}
0
"""

from __future__ import annotations

import argparse
import sys

from chainrule._version import __version__
from chainrule.cli_output import CommandError, parse_point, render
from chainrule.expr import ParseError

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error shown as one line (the usage is one ``--help`` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _tour(args: argparse.Namespace) -> int:
    from chainrule.tour import render as render_tour

    pictures, note = None, ""
    if not args.no_pictures:
        try:
            from chainrule.viz.tour_pictures import draw_tour_pictures

            pictures = draw_tour_pictures(args.pictures)
        except ImportError:
            note = "pictures: pip install chainrule[viz] to have the tour draw them\n"
    sys.stdout.write(render_tour(markdown=args.markdown, pictures=pictures) + note)
    return 0


def _point(text: str | None, option: str) -> dict:
    return {} if text is None else parse_point(text, option)


def _grad(args):
    from chainrule.cli_formulas import grad_output

    return grad_output(args.formula, _point(args.at, "--at"), args.symbolic, args.explain)


def _derivative(args):
    from chainrule.cli_formulas import derivative_output

    return derivative_output(args.formula, _point(args.at, "--at"), args.n, args.wrt)


def _jacobian(args):
    from chainrule.cli_formulas import jacobian_output

    return jacobian_output(args.formulas, _point(args.at, "--at"))


def _hessian(args):
    from chainrule.cli_formulas import hessian_output

    return hessian_output(args.formula, _point(args.at, "--at"))


def _explain(args):
    from chainrule.cli_formulas import explain_output

    return explain_output(args.formula, _point(args.at, "--at"))


def _descend(args):
    from chainrule.cli_descend import compare_output, descend_output, optimizer_names

    start = None if args.start is None else parse_point(args.start, "--from")
    tol = None if args.tol < 0 else args.tol
    if args.compare is not None:
        names = optimizer_names(args.compare)
        return compare_output(args.target, start, names, args.lr, args.steps, tol)
    optimizer = optimizer_names(args.optimizer)[0]
    return descend_output(args.target, start, optimizer, args.lr, args.steps, tol)


def _animate(args):
    from chainrule.cli_animate import animate_output, learning_rates
    from chainrule.cli_descend import optimizer_names

    start = None if args.start is None else parse_point(args.start, "--from")
    names = optimizer_names(args.optimizers)
    lrs = learning_rates(args.lr, names)
    return animate_output(
        args.target, start, names, lrs, args.steps, args.output, args.fps, args.frames
    )


def _surfaces(args):
    from chainrule.cli_descend import surfaces_output

    return surfaces_output()


def _hiker(args) -> int:
    from chainrule.cli_hiker import run_hiker

    try:
        return run_hiker(args.host, args.port, args.open)
    except CommandError as error:
        sys.stderr.write(f"chainrule hiker: error: {error}\n")
        return 2


def _graph(args):
    from chainrule.cli_graph import graph_command

    return graph_command(args.formula, args.at, args.output, args.max_nodes)


def _train(args):
    from chainrule.cli_train import train_output

    return train_output(
        args.dataset,
        epochs=args.epochs,
        lr=args.lr,
        optimizer=args.optimizer,
        batch_size=args.batch_size,
        hidden=args.hidden,
        seed=args.seed,
        save_path=args.save,
    )


_FORMULA_HELP = (
    "a formula such as 'x**2 + 3*x*y' (operators + - * / ** ^, functions sin, exp, log, "
    "sqrt, tanh, sigmoid, ...); one starting with '-' goes after '--', options first"
)
_AT_HELP = "the point, every variable by name: x=2,y=1"


def _command(commands, name: str, help_text: str, examples: str, run, output: bool = True):
    parser = commands.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if output:
        parser.add_argument("--json", action="store_true", help="print JSON for programs")
        parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.set_defaults(run=run, prints_output=output)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``chainrule`` and all its subcommands.

    >>> args = build_parser().parse_args(["grad", "x**2", "--at", "x=3"])
    >>> args.command, args.formula, args.at
    ('grad', 'x**2', 'x=3')
    """
    parser = _Parser(
        prog="chainrule",
        description="Derivatives, gradients, the chain rule and backpropagation, made visible.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    tour = _command(
        commands,
        "tour",
        "walk through the course's worked examples, computed by chainrule",
        "  chainrule tour                 # pictures in ./chainrule-tour/\n"
        "  chainrule tour --markdown > tour.md\n  chainrule tour --no-pictures\n",
        _tour,
        output=False,
    )
    tour.add_argument("--markdown", action="store_true", help="print Markdown instead of text")
    tour.add_argument("--pictures", default="chainrule-tour", help="folder for the pictures")
    tour.add_argument("--no-pictures", action="store_true", help="draw no pictures")

    grad = _command(
        commands,
        "grad",
        "the value and gradient of a formula at a point",
        '  chainrule grad "x**2 + 3*x*y + y**2" --at x=2,y=1\n'
        '  chainrule grad "sigmoid(w*x + b)" --at w=2,x=1,b=0.5 --symbolic --explain\n'
        '  chainrule grad "x*y" --at x=3,y=-1 --json\n',
        _grad,
    )
    grad.add_argument("formula", help=_FORMULA_HELP)
    grad.add_argument("--at", required=True, help=_AT_HELP)
    grad.add_argument(
        "--symbolic", action="store_true", help="also the derivative formulas (needs SymPy)"
    )
    grad.add_argument("--explain", action="store_true", help="also the chain-rule report")

    derivative = _command(
        commands,
        "derivative",
        "derivatives of orders 0..n of a formula in one variable",
        '  chainrule derivative "sin(x)*x" --at x=1 -n 2\n'
        '  chainrule derivative "x**2*y" --at x=1,y=3 --wrt x -n 3\n',
        _derivative,
    )
    derivative.add_argument("formula", help=_FORMULA_HELP)
    derivative.add_argument("--at", required=True, help=_AT_HELP)
    derivative.add_argument("-n", type=int, default=1, help="the highest order (default 1)")
    derivative.add_argument(
        "--wrt", help="the variable to differentiate by (needed with several variables)"
    )

    jacobian = _command(
        commands,
        "jacobian",
        "the Jacobian of one or more formulas (one row each; give each as its own argument)",
        '  chainrule jacobian "x*y" "x + y**2" --at x=2,y=3\n'
        '  chainrule jacobian "r*cos(t)" "r*sin(t)" --at r=2,t=0.5 --json\n',
        _jacobian,
    )
    jacobian.add_argument("formulas", nargs="+", metavar="formula", help=_FORMULA_HELP)
    jacobian.add_argument("--at", required=True, help=_AT_HELP)

    hessian = _command(
        commands,
        "hessian",
        "the Hessian of a formula at a point, and its eigenvalues",
        '  chainrule hessian "x**2 + 3*x*y + y**2" --at x=2,y=1\n'
        '  chainrule hessian "x**2 - y**2" --at x=0,y=0\n',
        _hessian,
    )
    hessian.add_argument("formula", help=_FORMULA_HELP)
    hessian.add_argument("--at", required=True, help=_AT_HELP)

    explain = _command(
        commands,
        "explain",
        "the chain-rule report: every node's local derivative and what flows back",
        '  chainrule explain "(3*x+1)**2" --at x=1\n'
        '  chainrule explain "sigmoid(a*x + b)" --at a=1,x=2,b=3 --markdown\n',
        _explain,
    )
    explain.add_argument("formula", help=_FORMULA_HELP)
    explain.add_argument("--at", required=True, help=_AT_HELP)

    descend = _command(
        commands,
        "descend",
        "gradient descent step by step on a formula or a named surface",
        '  chainrule descend "(w-3)**2" --from w=0 --lr 0.3 --steps 20\n'
        '  chainrule descend "(w-3)**2" --from w=0 --lr 1.5      # too large: diverges\n'
        "  chainrule descend rosenbrock --compare sgd,momentum,adam --lr 0.001 --steps 500\n",
        _descend,
    )
    descend.add_argument(
        "target", help="a formula, or the name of a surface (see chainrule surfaces)"
    )
    descend.add_argument(
        "--from",
        dest="start",
        help="the starting point: w=0 (a surface has its own start)",
    )
    descend.add_argument("--lr", type=float, help="the learning rate (default: the optimizer's)")
    descend.add_argument("--steps", type=int, default=20, help="the most steps (default 20)")
    descend.add_argument(
        "--optimizer", default="sgd", help="sgd (default), momentum, nesterov, adam, ..."
    )
    descend.add_argument(
        "--compare", metavar="NAMES", help="run each optimizer of a list like sgd,momentum,adam"
    )
    descend.add_argument(
        "--tol",
        type=float,
        default=1e-8,
        help="stop once the gradient's norm is at most this (default 1e-8; negative: never)",
    )

    animate = _command(
        commands,
        "animate",
        "a GIF of optimizers descending a surface together",
        "  chainrule animate rosenbrock --optimizers sgd,momentum,adam -o descent.gif\n"
        "  chainrule animate rosenbrock --optimizers sgd,adam --lr 0.001,0.05 --steps 300\n",
        _animate,
    )
    animate.add_argument("target", help="a surface's name or a formula in two variables")
    animate.add_argument(
        "--optimizers", default="sgd,momentum,adam", help="default sgd,momentum,adam"
    )
    animate.add_argument("--lr", help="one rate, or one per optimizer: 0.001,0.001,0.05")
    animate.add_argument("--steps", type=int, default=200, help="steps per optimizer (default 200)")
    animate.add_argument("--from", dest="start", help="the start: x=-1,y=2 (a surface has its own)")
    animate.add_argument("--fps", type=float, default=10, help="frames a second (default 10)")
    animate.add_argument("--frames", type=int, help="at most this many frames (default 100)")
    animate.add_argument("-o", "--output", default="descent.gif", help="default descent.gif")

    _command(
        commands,
        "surfaces",
        "list the named test surfaces for descend",
        "  chainrule surfaces\n  chainrule surfaces --json\n",
        _surfaces,
    )

    hiker = _command(
        commands,
        "hiker",
        "serve the hiker: a web page where optimisers descend a surface you click",
        "  chainrule hiker --open\n  chainrule hiker --port 8001\n",
        _hiker,
        output=False,
    )
    hiker.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    hiker.add_argument("--port", type=int, default=8000, help="default 8000")
    hiker.add_argument("--open", action="store_true", help="open the page in a browser")

    graph = _command(
        commands,
        "graph",
        "draw the computational graph of a formula: values and gradients at every node",
        '  chainrule graph "sigmoid(a*x + b)" --at a=1,x=2,b=3 -o graph.svg\n'
        '  chainrule graph "x**2 + 3*x*y" --at x=2,y=1 > graph.dot\n',
        _graph,
        output=False,
    )
    graph.add_argument("formula", help=_FORMULA_HELP)
    graph.add_argument("--at", required=True, help=_AT_HELP)
    graph.add_argument(
        "-o", "--output", help="a .svg, .png or .pdf (drawn by Graphviz's dot), or .dot text"
    )
    graph.add_argument("--max-nodes", type=int, default=200, help="fold larger graphs (200)")

    train = _command(
        commands,
        "train",
        "train a small network on digits, moons or iris, with a progress bar",
        "  chainrule train moons --epochs 20\n"
        "  chainrule train digits --optimizer sgd --lr 0.1 --save digits.safetensors\n",
        _train,
    )
    train.add_argument("dataset", help="digits, moons or iris")
    train.add_argument("--epochs", type=int, default=20, help="passes over the data (default 20)")
    train.add_argument("--lr", type=float, help="learning rate (default 0.01 for adam, else 0.1)")
    train.add_argument("--optimizer", default="adam", help="adam (default), sgd, momentum, ...")
    train.add_argument("--batch-size", type=int, default=32, help="default 32")
    train.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    train.add_argument("--seed", type=int, default=0, help="for the split, shuffling, weights")
    train.add_argument("--save", metavar="PATH", help="write the trained weights (safetensors)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: the process's arguments); return its exit code.

    >>> main(["grad", "x**2 + y", "--at", "x=3,y=1"])   # d/dx = 2x = 6, d/dy = 1
    f = x**2 + y at x = 3, y = 1: f = 10
    variable  value  df/d(variable)
    --------  -----  --------------
    x             3               6
    y             1               1
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"chainrule {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    if not args.prints_output:
        return args.run(args)
    where = f"chainrule {args.command}"
    try:
        output = args.run(args)
    except ParseError as error:
        # the parser's message, then the formula with a caret under the bad character
        sys.stderr.write(f"{where}: error: {error}\n")
        return 2
    except CommandError as error:
        sys.stderr.write(f"{where}: error: {error}\n")
        return 2
    except (ValueError, KeyError) as error:  # the library's own checks of its arguments
        message = str(error.args[0]) if error.args else type(error).__name__
        sys.stderr.write(f"{where}: error: {message.splitlines()[0]}\n")
        return 2
    terminal = sys.stdout.isatty()
    sys.stdout.write(render(output, args.json, terminal, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
