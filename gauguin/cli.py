"""`gauguin [FILE] [--model DIR]` opens the app; `gauguin SUBCOMMAND ...` runs a tool.

Each subcommand lives with its layer (render and bench in spade/, train, quality and anchor in train/, the app
in gauguin_app/) and is imported only when asked for, so `gauguin render` never loads Qt and the app never
loads the trainer.
"""
from __future__ import annotations

import difflib
import sys
from importlib import import_module
from pathlib import Path
from typing import Callable

from spade.usage import EXIT_BAD_INPUT

# name -> (module, function taking (argv, prog) and returning an exit code, one line of help)
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "render": ("spade.cli", "render_command", "render a photo from a label map (no window)"),
    "train": ("train.cli", "main", "train a SPADE model; DIR/latest then loads with --model DIR"),
    "bench": ("spade.bench", "main", "time the renderer (reference forward against the fast path)"),
    "quality": ("train.quality", "main", "measure streaks and texture of a model's renders"),
    "anchor": ("train.anchor", "main", "fine-tune a VAE model on one change of the procedural data"),
}
APP = ("gauguin_app.main", "run_app")


def usage(prog: str) -> str:
    width = max(map(len, SUBCOMMANDS))
    rows = [("app", "open the app (the default; FILE: a .gauguin document or a mask to open)")]
    rows += [(name, text) for name, (_, _, text) in SUBCOMMANDS.items()]
    table = "\n".join(f"  {name:<{width}}  {text}" for name, text in rows)
    return (f"usage: {prog} [FILE] [--model PATH] [--device DEVICE]\n"
            f"       {prog} SUBCOMMAND [--help] ...\n\n"
            "Paint a semantic sketch, get a photo (SPADE, Park et al. 2019).\n\n"
            f"subcommands:\n{table}\n\n"
            f"`{prog} SUBCOMMAND --help` explains each one. --model takes a model folder or file, or the\n"
            f"--checkpoint_dir of a training run (its latest/ is loaded).\n")


def not_a_start(word: str, prog: str) -> str | None:
    """Why `prog WORD` can start nothing (None: it can): WORD is neither a subcommand, an option nor a file to
    open. A name that looks like a file's is a file not found; anything else a mistyped subcommand, with the
    nearest name when one is close."""
    if word.startswith("-") or word in SUBCOMMANDS or word == "app" or Path(word).exists():
        return None
    if Path(word).suffix or "/" in word or "\\" in word:
        return f"{prog}: error: file not found: {word}"
    names = ["app", *SUBCOMMANDS]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.75)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{prog}: error: unknown subcommand '{word}' (choose from {', '.join(names)}){hint}"


def _entry(module: str, function: str) -> Callable[..., int]:
    return getattr(import_module(module), function)


def main(argv: list[str] | None = None, prog: str = "gauguin") -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(usage(prog), end="")
        return 0
    if argv and argv[0] in SUBCOMMANDS:
        module, function, _ = SUBCOMMANDS[argv[0]]
        return _entry(module, function)(argv[1:], prog=f"{prog} {argv[0]}")
    refused = not_a_start(argv[0], prog) if argv else None
    if refused:
        print(refused, file=sys.stderr)
        return EXIT_BAD_INPUT
    if argv and argv[0] == "app":
        argv = argv[1:]
    return _entry(*APP)(argv, prog=prog)


if __name__ == "__main__":
    sys.exit(main())
