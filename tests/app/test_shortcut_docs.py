"""The shortcut table in the docs is written from the app's command table and must match it."""
import subprocess
import sys
from pathlib import Path

from gauguin_app.actions import TOOLS, commands

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "write_shortcut_docs.py"


def test_docs_shortcut_tables_match_the_command_table():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + "run: python scripts/write_shortcut_docs.py"
    text = (ROOT / "docs" / "app.md").read_text(encoding="utf-8")
    for c in commands():
        if c.keys:
            assert f"| {' / '.join(c.keys)} |" in text, c.name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for _, label, key, _ in TOOLS:
        assert f"| {label} | `{key}` |" in text
        assert f"{label.lower()} `{key}`" in readme, label


def test_a_stale_table_is_reported_and_rewritten(tmp_path, monkeypatch):
    sys.path.insert(0, str(SCRIPT.parent))
    import write_shortcut_docs as w
    doc = tmp_path / "app.md"
    start, end = w.MARK.format("shortcuts"), w.END.format("shortcuts")
    doc.write_text(f"# App\n\n{start}\n| old | table |\n{end}\n\nafter\n", encoding="utf-8")
    monkeypatch.setattr(w, "marked_files", lambda folder=None: [doc])
    assert w.main(["--check"]) == 1 and "old" in doc.read_text()
    assert w.main([]) == 0 and w.main(["--check"]) == 0
    new = doc.read_text()
    assert "| old |" not in new and "| B | Tools |" in new and new.endswith("after\n")
