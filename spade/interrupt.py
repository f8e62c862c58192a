"""Ctrl+C and SIGTERM for command-line tools: stop quietly, clean up, exit 130 / 143 (no traceback).

SIGTERM is turned into an exception like Ctrl+C's KeyboardInterrupt, so that every `except BaseException`
cleanup on the way out runs (spade.atomic deletes its staging file: no partial output is left).
"""
from __future__ import annotations

import functools
import signal
from typing import Callable


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame) -> None:
    raise Terminated(signum)


def quiet_on_interrupt(command: Callable[..., int]) -> Callable[..., int]:
    """Wrap a CLI entry point: SIGTERM gives exit 143 and Ctrl+C exit 130, after the cleanups have run."""
    @functools.wraps(command)
    def run(*args, **kwargs) -> int:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            return 128 + signal.SIGINT
        except Terminated as e:
            return 128 + e.signum
        finally:
            signal.signal(signal.SIGTERM, previous)
    return run
