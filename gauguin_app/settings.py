"""Preferences, window state, recent files and classes, persisted with QSettings as they change."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings, QTimer

MAX_RECENT_FILES = 10
SYNC_DELAY_MS = 300
DEFAULT_BRUSH_SHARE = 1 / 16


class AppSettings:
    """Typed access to the app's QSettings (tests pass an .ini file of their own).

    Every change reaches the disk within SYNC_DELAY_MS (changes in a burst, a brush slider dragged, are written
    once), so a crash keeps what was set before it; writing on every change would cost a file write per slider
    step."""

    def __init__(self, qsettings: QSettings | None = None):
        self.q = qsettings or QSettings("Gauguin", "Gauguin")
        self._trying_device: str | None = None
        self._sync_timer: QTimer | None = None

    @classmethod
    def at(cls, ini_path: str | Path) -> "AppSettings":
        return cls(QSettings(str(ini_path), QSettings.Format.IniFormat))

    def _set(self, key: str, value) -> None:
        self.q.setValue(key, value)
        if QCoreApplication.instance() is None:
            self.q.sync()
            return
        if self._sync_timer is None:
            self._sync_timer = QTimer()
            self._sync_timer.setSingleShot(True)
            self._sync_timer.setInterval(SYNC_DELAY_MS)
            self._sync_timer.timeout.connect(self.q.sync)
        self._sync_timer.start()

    def _get(self, key: str, default, kind=str):
        value = self.q.value(key, default)
        try:
            if kind is bool and isinstance(value, str):
                return value.lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    @property
    def device(self) -> str:
        """Where models load: the device being tried (see try_device), else the saved one."""
        return self._trying_device or self._get("device", "auto")

    @device.setter
    def device(self, value: str) -> None:
        self._trying_device = None
        self._set("device", value)

    def try_device(self, value: str) -> None:
        """Load models on `value` from now on, but save it only once a model has loaded there (keep_device):
        a device that fails must not fail every later start too."""
        self._trying_device = value

    def keep_device(self, value: str) -> None:
        """A model has loaded on `value`: save it if it is the device being tried."""
        if value == self._trying_device:
            self.device = value

    @property
    def model_path(self) -> str:
        """The last model the user loaded ('' = the bundled default)."""
        return self._get("model_path", "")

    @model_path.setter
    def model_path(self, value: str) -> None:
        self._set("model_path", value)

    @property
    def autosave_seconds(self) -> int:
        return max(5, self._get("autosave_seconds", 30, int))

    @autosave_seconds.setter
    def autosave_seconds(self, value: int) -> None:
        self._set("autosave_seconds", int(value))

    @property
    def live_render(self) -> bool:
        """Render during strokes too (off: only when a stroke ends)."""
        return self._get("live_render", True, bool)

    @live_render.setter
    def live_render(self, value: bool) -> None:
        self._set("live_render", bool(value))

    @property
    def official_colours(self) -> bool:
        """Draw classes in their label set's own colours instead of the distinct display palette."""
        return self._get("official_colours", False, bool)

    @official_colours.setter
    def official_colours(self, value: bool) -> None:
        self._set("official_colours", bool(value))

    @property
    def brush_share(self) -> float:
        """The brush's diameter as a share of the canvas's longer side, so a new canvas of any size gets a brush
        that covers as much of it."""
        share = self._get("brush_share", DEFAULT_BRUSH_SHARE, float)
        return share if 0.0 < share <= 1.0 else DEFAULT_BRUSH_SHARE

    @brush_share.setter
    def brush_share(self, value: float) -> None:
        self._set("brush_share", float(value))

    def folder(self, kind: str) -> str:
        """The folder last used for `kind` (open, save, export, style, model)."""
        return self._get(f"folders/{kind}", str(Path.home()))

    def set_folder(self, kind: str, path: str | Path) -> None:
        p = Path(path)
        self._set(f"folders/{kind}", str(p if p.is_dir() else p.parent))

    @property
    def recent_files(self) -> list[str]:
        value = self.q.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        files = [f for f in self.recent_files if f != p]
        self._set("recent_files", [p] + files[:MAX_RECENT_FILES - 1])

    def remove_recent(self, path: str | Path) -> None:
        self._set("recent_files", [f for f in self.recent_files if f != str(path)])

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """The saved geometry and dock layout (None for one that is missing or not what Qt saved)."""
        values = self.q.value("window/geometry"), self.q.value("window/state")
        return tuple(v if isinstance(v, QByteArray) else None for v in values)  # type: ignore[return-value]

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._set("window/geometry", geometry)
        self._set("window/state", state)

    def recent_classes(self, label_set_name: str) -> list[str]:
        """The names of the classes last picked in a label set, newest first."""
        value = self.q.value(f"recent_classes/{label_set_name}", [])
        return [str(v) for v in ([value] if isinstance(value, str) else value or [])]

    def set_recent_classes(self, label_set_name: str, names: list[str]) -> None:
        self._set(f"recent_classes/{label_set_name}", list(names))

    def sync(self) -> None:
        if self._sync_timer is not None:
            self._sync_timer.stop()
        self.q.sync()
