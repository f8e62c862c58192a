"""Gauguin from a checkout: `python main.py` opens the app, `python main.py render|train|bench|...` runs a tool
(the same as the installed `gauguin` command; `python main.py --help` lists the subcommands)."""
import sys

from gauguin.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="main.py"))
