"""Write the tool and shortcut tables of the docs from the app's command table (gauguin_app/actions.py).

README.md and every docs/*.md file with the markers below get the tables between them; run this after changing a command:

    python scripts/write_shortcut_docs.py          # rewrite the tables
    python scripts/write_shortcut_docs.py --check  # exit 1 when a table is out of date
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from gauguin_app.actions import keys_markdown, shortcut_markdown, tools_markdown

ROOT = Path(__file__).resolve().parent.parent

TABLES = {"shortcuts": shortcut_markdown, "tools": tools_markdown, "keys": keys_markdown}
MARK = "<!-- {}: written by scripts/write_shortcut_docs.py from gauguin_app/actions.py -->"
END = "<!-- end of {} -->"


def with_table(text: str) -> str:
    """`text` with every marked table replaced by the current one."""
    for name, table in TABLES.items():
        start, end = MARK.format(name), END.format(name)
        block = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
        text = block.sub(lambda _: f"{start}\n{table()}{end}", text)
    return text


def marked_files(folder: Path = ROOT / "docs") -> list[Path]:
    return [p for p in [ROOT / "README.md", *sorted(folder.glob("*.md"))]
            if any(MARK.format(name) in p.read_text(encoding="utf-8") for name in TABLES)]


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--check", action="store_true", help="only check that the tables are up to date")
    check = args.parse_args(argv).check
    stale = []
    for path in marked_files():
        text = path.read_text(encoding="utf-8")
        new = with_table(text)
        if new != text:
            stale.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if check else 'wrote'}: {path}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
