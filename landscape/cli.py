"""The ``landscape`` command line: one subcommand per module of :mod:`landscape.commands`.

Error contract
--------------
Every error a person can cause (a bad option, a bad spec, a missing or damaged input file, a
model that cannot be loaded, a run that cannot go on) is reported as ONE line on stderr::

    landscape <command>: error: <what is wrong> (valid: ...)

and the process exits non-zero, before any work where the input can be checked first:

====  =========================================================================================
exit  meaning
====  =========================================================================================
0     done
1     the input was accepted but the work could not be done or finished: a run, a live
      experiment or a sweep failed or was refused (:class:`~landscape.record.RunError`,
      :class:`~landscape.sweep.SweepError`), a model could not be loaded (:class:`~landscape.zoo.ZooError`),
      a file could not be written (disk full, permissions), a package is missing
2     bad input: argparse's usage errors, and every value, spec or input file the command
      rejects (``ValueError`` and its subclasses such as :class:`~landscape.sweep.spec.SpecError`,
      a named input file that does not exist or is the wrong kind of file)
3     a bug: an exception the project does not expect. Its traceback is printed (it is what a bug
      report needs), followed by one line saying so
130   interrupted (Ctrl-C)
====  =========================================================================================

``landscape --debug <command> ...`` (or ``LANDSCAPE_DEBUG=1``) prints the traceback of an
expected error too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from typing import NoReturn

#: exit status of a rejected input (argparse's own code for usage errors)
EXIT_USAGE = 2
#: exit status of work that could not be done
EXIT_FAILED = 1
#: exit status of an unexpected exception (a bug)
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``landscape <cmd>: error: ... (see --help)``.

    argparse prints the whole usage block before the message; on a long command line that
    hides the one thing that matters, so the usage is left to ``--help``.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see `{self.prog} --help`)\n")


def one_line(text: object) -> str:
    """``text`` on one line (newlines and runs of spaces collapsed)."""
    return " ".join(str(text).split())


def build_parser() -> argparse.ArgumentParser:
    from . import commands

    parser = OneLineParser(prog="landscape", description=(
        "Evolve the images a visual neuron prefers, and map the geometry and topology of its tuning."),
        epilog="Errors are one line on stderr; exit status 2: bad input, 1: the work failed, 3: a bug "
               "(traceback printed). --debug or LANDSCAPE_DEBUG=1 shows the traceback of any error.")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error (also LANDSCAPE_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "checks":
            continue
        importlib.import_module(f"landscape.commands.{info.name}").register(sub)
    return parser


def _expected_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(work-failed errors, bad-input errors) the command line reports in one line."""
    import zipfile

    from .record import RunError
    from .zoo import ZooError

    failed: tuple[type[BaseException], ...] = (RunError, ZooError, ImportError, MemoryError)
    try:
        from .sweep.engine import SweepError

        failed += (SweepError,)
    except ImportError:  # dask missing: sweep itself says so
        pass
    bad_input = (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError, zipfile.BadZipFile)
    # any other OSError (disk full, permissions, an unreachable scheduler) is the work failing
    return failed + (OSError,), bad_input


def report_error(command: str, e: BaseException) -> int:
    """Print ``e`` as the one-line error of ``command``; its exit status (None: not an expected error)."""
    failed, bad_input = _expected_errors()
    # the work-failed types first: a RunError that is also a ValueError (a rig's bad response) is not bad input
    if isinstance(e, failed) and not isinstance(e, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        code = EXIT_FAILED
    elif isinstance(e, bad_input):
        code = EXIT_USAGE
    else:
        return -1
    text = one_line(e) or type(e).__name__
    if isinstance(e, (MemoryError, ImportError)) or (isinstance(e, OSError) and not str(e).strip()):
        text = f"{type(e).__name__}: {text}"
    print(f"landscape {command}: error: {text}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named by the subcommand whose options they are not
            commands.get(getattr(args, "command", None) or "", parser).error(
                f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:  # argparse: --help (0) or a usage error (2), already printed
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_USAGE
    if not getattr(args, "func", None):
        print(f"landscape: error: give a COMMAND (valid: {', '.join(commands)}; see `landscape --help`)",
              file=sys.stderr)
        return EXIT_USAGE
    debug = args.debug or os.environ.get("LANDSCAPE_DEBUG", "") not in ("", "0")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"landscape {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        if debug:
            traceback.print_exc()
        code = report_error(args.command, e)
        if code >= 0:
            return code
        if not debug:
            traceback.print_exc()
        print(f"landscape {args.command}: internal error: {type(e).__name__}: {one_line(e)} -- this is a bug; "
              "please report it with the traceback above", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
