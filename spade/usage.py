"""The command-line policy for bad usage, shared by every Gauguin command: one line on stderr, exit code 2."""
from __future__ import annotations

import argparse

EXIT_BAD_INPUT = 2


class UsageParser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line (`PROG: error: ...`) with exit code 2, as all bad input does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")
