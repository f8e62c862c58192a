"""`gauguin train` / `python -m train`: parse, train, and turn user errors into one line with exit code 2."""
from __future__ import annotations

import shlex
import sys

from spade.usage import EXIT_BAD_INPUT

from .options import parse_config


def _one_line(error: BaseException) -> str:
    """The message of a user error; errors re-raised by DataLoader workers carry a traceback: keep its end."""
    text = str(error).strip()
    if text.startswith("Caught ") and "\n" in text:
        last = text.splitlines()[-1]
        text = last.split(": ", 1)[1] if ": " in last else last
    return text.splitlines()[0] if text else type(error).__name__


def main(argv: list[str] | None = None, prog: str = "gauguin train") -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from spade.errors import GauguinError, is_out_of_memory, out_of_memory_line

    try:
        cfg = parse_config(argv, command_line=shlex.join([*prog.split(), *argv]), prog=prog)
        from .trainer import run_training  # torch-heavy imports after the options are known to be fine

        return run_training(cfg, log=print)
    except GauguinError as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (MemoryError, RuntimeError) as e:
        if not is_out_of_memory(e):
            raise
        print("error: " + out_of_memory_line(e, "training", "try a smaller --batch_size or --crop_size"),
              file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
