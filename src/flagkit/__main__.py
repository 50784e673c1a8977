"""``python -m flagkit``: the command line."""

from flagkit._cli import run

run()
