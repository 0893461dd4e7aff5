"""Subcommands of the ``landscape`` command line; each module defines ``register(subparsers)``."""
