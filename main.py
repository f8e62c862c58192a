"""Gauguin: `python main.py` opens the app; `python main.py render ...` renders from the command line."""
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "render":
        from spade.cli import render_command
        return render_command(argv[1:])
    from gauguin_app.main import run_app
    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
