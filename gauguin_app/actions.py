"""Every command of the window in one declarative table: menus, toolbars, tooltips, the shortcut sheet and
the shortcut table in docs/app.md are all built from it, so they cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar


@dataclass(frozen=True)
class Command:
    """One user command. `call` is what it runs: a dotted path from the window and its arguments
    (empty: the window's method called `name`); `keys` are portable key strings."""

    name: str
    text: str
    keys: tuple[str, ...] = ()
    tip: str = ""
    checkable: bool = False
    group: str = ""          # mutually exclusive commands (the tools)
    toolbar: str = ""        # "tools" (left bar) or "options" (top bar)
    icon_text: str = ""      # a fixed toolbar label, so the bar does not move when `text` changes
    call: tuple = ()


@dataclass(frozen=True)
class Submenu:
    """A menu filled at run time (recent files, examples)."""

    name: str
    text: str


SEPARATOR = None


def _tool(name: str, label: str, key: str, help_text: str) -> Command:
    return Command(f"tool_{name}", label, (key,), f"{label}: {help_text}", True, "tools", "tools",
                   call=("set_tool", name))


TOOLS = (("brush", "Brush", "B", "paint the current class with a round, hard-edged brush (size: slider, [ and ])"),
         ("eraser", "Eraser", "E", "paint 'unlabeled' (class 0)"),
         ("fill", "Fill", "G", "fill the connected region under the cursor"),
         ("line", "Line", "L", "drag a straight line as wide as the brush"),
         ("polygon", "Polygon / Lasso", "P", "click corners (double-click or Enter closes), or drag a freehand lasso"),
         ("rectangle", "Rectangle", "U", "drag a filled rectangle (Shift: a square)"),
         ("ellipse", "Ellipse", "Shift+U", "drag a filled ellipse (Shift: a circle)"),
         ("eyedropper", "Eyedropper", "I", "pick the class under the cursor (Alt+click or right-click with any tool)"))

MENUS: tuple[tuple[str, tuple], ...] = (
    ("&File", (
        Command("new_canvas", "&New Canvas…", ("Ctrl+N",), "Start a new sketch", call=("files.new_canvas",)),
        Command("open", "&Open…", ("Ctrl+O",), "Open a .gauguin document or a mask", call=("files.open_dialog",)),
        Submenu("recent", "Open &Recent"),
        Submenu("examples", "E&xamples"),
        SEPARATOR,
        Command("save", "&Save", ("Ctrl+S",), "Save the document", call=("files.save",)),
        Command("save_as", "Save &As…", ("Ctrl+Shift+S",), "Save the document under a new name",
                call=("files.save_as",)),
        Command("save_mask", "Save &Mask…", (), "Save the sketch as an index PNG", call=("files.save_mask", False)),
        Command("save_mask_color", "Save Mask + &Colour PNG…", (), "Save the index PNG and a colour PNG next to it",
                call=("files.save_mask", True)),
        SEPARATOR,
        Command("export_photo", "&Export Photo…", ("Ctrl+E",), "Export the photo", call=("files.export", "photo")),
        Command("export_sketch", "Export S&ketch…", ("Ctrl+Shift+E",), "Export the sketch in palette colours",
                call=("files.export", "sketch")),
        Command("export_side_by_side", "Export Side &by Side…", ("Ctrl+Alt+E",),
                "Export the sketch and the photo side by side", call=("files.export", "side_by_side")),
        SEPARATOR,
        Command("quit", "&Quit", ("Ctrl+Q",), "Quit Gauguin", call=("close",)))),
    ("&Edit", (
        Command("undo", "&Undo", ("Ctrl+Z",), "Undo the last step", toolbar="options", icon_text="Undo",
                call=("step", -1)),
        Command("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo the undone step", toolbar="options",
                icon_text="Redo", call=("step", 1)),
        Command("history", "&History", ("Ctrl+H",), "Show the list of steps (click one to go back to it)", True,
                call=("toggle_history",)),
        SEPARATOR,
        Command("fill_canvas", "Fill Canvas with Current Class", ("Ctrl+Shift+Backspace",),
                "Fill the whole canvas with the current class"),
        SEPARATOR,
        Command("preferences", "&Preferences…", ("Ctrl+,",), "Device, autosave and live rendering"))),
    ("&Tools", tuple(_tool(*t) for t in TOOLS) + (
        SEPARATOR,
        Command("smaller_brush", "Smaller Brush", ("[",), "Smaller brush", call=("options.change_brush", -1)),
        Command("bigger_brush", "Bigger Brush", ("]",), "Bigger brush", call=("options.change_brush", 1)))),
    ("&View", (
        Command("zoom_in", "Zoom &In", ("Ctrl++", "Ctrl+="), "Zoom in", call=("canvas.zoom_by", 1.25)),
        Command("zoom_out", "Zoom &Out", ("Ctrl+-",), "Zoom out", call=("canvas.zoom_by", 0.8)),
        Command("fit", "&Fit to Window", ("Ctrl+0",), "Fit the sketch to the window", call=("canvas.fit",)),
        Command("actual_size", "&Actual Size (100%)", ("Ctrl+1",), "One sketch pixel per screen pixel",
                call=("canvas.actual_size",)),
        Command("overlay", "Sketch &Overlay on Photo", ("O",), "Show the sketch over the photo", True,
                call=("overlay_check.toggle",)),
        Command("official_colours", "Official &Class Colours", (),
                "Draw the classes in their label set's own colours, some of them alike (files always use them)",
                True, call=("toggle_official_colours",)),
        Command("photo_full", "&Photo Full Window", ("F",),
                "Show the photo over the whole window (F, double-click the photo or Esc to come back)", True,
                call=("full_view.toggle",)))),
    ("&Style", (
        Command("style_photo", "Style from &Photo…", ("Ctrl+Shift+O",), "Take the style of a photo",
                call=("styles.pick_photo", "a")),
        Command("random_style", "&Random Style", ("R",), "Draw a random style", call=("styles.random", "a", -1)),
        Command("clear_blend", "&Clear Blend", (), "Forget the second style", call=("styles.clear_blend",)))),
    ("&Model", (
        Command("load_model_folder", "Load Model &Folder…", ("Ctrl+M",),
                "Load a Gauguin checkpoint folder or an official SPADE checkpoint folder",
                call=("models.load_folder",)),
        Command("load_model_file", "Load Model F&ile…", (),
                "Load an official SPADE checkpoint file (latest_net_G.pth) or a config.json",
                call=("models.load_file",)),
        Command("load_bundled_model", "Load &Bundled Model", (), "Load the model that comes with Gauguin",
                call=("models.load", None)),
        SEPARATOR,
        Command("model_info", "Model &Info…", ("Ctrl+I",), "What the loaded model is and how it was trained",
                call=("models.show_info",)))),
    ("&Help", (
        Command("shortcuts", "&Keyboard Shortcuts", ("F1",), "List every shortcut", call=("show_help", "shortcuts")),
        Command("about", "&About Gauguin", (), "About Gauguin", call=("show_help", "about")))),
)

TOOLBAR_ONLY = (Command("dice", "\u2684 Random style", (), "Draw a random style (R)", toolbar="options",
                        call=("styles.random", "a", -1)),)

# Mouse gestures and keys that belong to a gesture in progress (no menu command): listed in the sheet too.
GESTURES = (("Space + drag, middle drag", "Pan the canvas"), ("Wheel", "Zoom at the cursor"),
            ("Alt+click, right-click", "Pick the class under the cursor"),
            ("Enter, double-click", "Close the polygon"), ("Shift + drag", "A square or circle with the shape tools"),
            ("Double-click the photo", "Photo full window, and back"),
            ("Esc", "Cancel the line or polygon"))


def plain(text: str) -> str:
    """A menu text without its mnemonic and ellipsis."""
    return text.replace("&", "").replace("…", "")


def commands() -> list[Command]:
    """Every command of the table, in menu order, then the toolbar-only ones."""
    return [c for _, items in MENUS for c in items if isinstance(c, Command)] + list(TOOLBAR_ONLY)


def shortcut_rows() -> list[tuple[str, str, str]]:
    """(menu, keys, what it does) for every command with a shortcut, then the gestures (menu '')."""
    rows = [(plain(menu), " / ".join(c.keys), c.tip or plain(c.text))
            for menu, items in MENUS for c in items if isinstance(c, Command) and c.keys]
    return rows + [("", keys, what) for keys, what in GESTURES]


def shortcut_sheet_html() -> str:
    """The Help ▸ Keyboard Shortcuts sheet."""
    return "<table>" + "".join(f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>"
                               for _, keys, what in shortcut_rows()) + "</table>"


def tools_markdown() -> str:
    """The tool table of docs/app.md."""
    lines = ["| Tool | Key | What it does |", "|---|---|---|"]
    lines += [f"| {label} | `{key}` | {help_text} |" for _, label, key, help_text in TOOLS]
    return "\n".join(lines) + "\n"


def shortcut_markdown() -> str:
    """The shortcut table of docs/app.md."""
    lines = ["| Keys | Menu | What it does |", "|---|---|---|"]
    lines += [f"| {keys} | {menu or 'canvas'} | {what} |" for menu, keys, what in shortcut_rows()]
    return "\n".join(lines) + "\n"


README_KEYS = ("undo", "history", "photo_full", "random_style", "save", "export_photo")


def keys_markdown() -> str:
    """The one-line key summary of the README: every tool, then the commands of README_KEYS."""
    by_name = {c.name: c for c in commands()}
    items = [f"{label.lower()} `{key}`" for _, label, key, _ in TOOLS]
    items += [f"{by_name[n].text.replace('&', '').rstrip('…').lower()} `{by_name[n].keys[0]}`" for n in README_KEYS]
    return ", ".join(items) + ".\n"


class ActionSet:
    """The QActions of the table, with the menus and toolbars built from it."""

    def __init__(self, owner: QObject):
        self.actions: dict[str, QAction] = {}
        self.submenus: dict[str, QMenu] = {}
        self.groups: dict[str, QActionGroup] = {}
        for c in commands():
            self.actions[c.name] = self._make(owner, c)

    @staticmethod
    def run(owner: object, c: Command) -> object:
        """Run a command's call on `owner` (looked up when triggered, so it reaches what exists then)."""
        path, *args = c.call or (c.name,)
        target = owner
        for part in path.split("."):
            target = getattr(target, part)
        return target(*args)

    def _make(self, owner: QObject, c: Command) -> QAction:
        a = QAction(c.text, owner)
        a.setObjectName(c.name)
        a.setShortcuts([QKeySequence(k) for k in c.keys])
        a.setCheckable(c.checkable)
        if c.icon_text:
            a.setIconText(c.icon_text)
        keys = " / ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
        a.setToolTip((c.tip or plain(c.text)) + (f" ({keys})" if keys else ""))
        a.setStatusTip(c.tip or plain(c.text))
        a.triggered.connect(lambda _=False, cmd=c: self.run(owner, cmd))
        if c.group:
            self.groups.setdefault(c.group, QActionGroup(owner)).addAction(a)
        if hasattr(owner, "addAction"):
            owner.addAction(a)  # shortcuts work while the menu bar is hidden (full-window photo)
        return a

    def __getitem__(self, name: str) -> QAction:
        return self.actions[name]

    def build_menus(self, bar: QMenuBar) -> None:
        for title, items in MENUS:
            menu = bar.addMenu(title)
            for item in items:
                if item is SEPARATOR:
                    menu.addSeparator()
                elif isinstance(item, Submenu):
                    self.submenus[item.name] = menu.addMenu(item.text)
                else:
                    menu.addAction(self.actions[item.name])

    def fill_toolbar(self, bar: QToolBar, which: str) -> None:
        for c in commands():
            if c.toolbar == which:
                bar.addAction(self.actions[c.name])
