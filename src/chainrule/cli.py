"""The ``chainrule`` command.

>>> main(["--version"])
chainrule 0.1.0
0
"""

from __future__ import annotations

import argparse
import sys

from chainrule._version import __version__


def _tour(args: argparse.Namespace) -> int:
    from chainrule.tour import render

    sys.stdout.write(render(markdown=args.markdown))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Derivatives, gradients, the chain rule and backpropagation, made visible.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    tour = commands.add_parser(
        "tour", help="walk through the course's worked examples, computed by chainrule"
    )
    tour.add_argument("--markdown", action="store_true", help="print Markdown instead of text")
    tour.set_defaults(run=_tour)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: the process's arguments); return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"chainrule {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
