"""`python -m gauguin ...`, the same as the `gauguin` command."""
import sys

from gauguin.cli import main

if __name__ == "__main__":
    sys.exit(main())
