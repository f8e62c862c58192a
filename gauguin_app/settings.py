"""Preferences, window state and recent files, persisted with QSettings."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT_FILES = 10


class AppSettings:
    """Typed access to the app's QSettings (tests pass an .ini file of their own)."""

    def __init__(self, qsettings: QSettings | None = None):
        self.q = qsettings or QSettings("Gauguin", "Gauguin")
        self._trying_device: str | None = None

    @classmethod
    def at(cls, ini_path: str | Path) -> "AppSettings":
        return cls(QSettings(str(ini_path), QSettings.Format.IniFormat))

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
        self.q.setValue("device", value)

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
        self.q.setValue("model_path", value)

    @property
    def autosave_seconds(self) -> int:
        return max(5, self._get("autosave_seconds", 30, int))

    @autosave_seconds.setter
    def autosave_seconds(self, value: int) -> None:
        self.q.setValue("autosave_seconds", int(value))

    @property
    def live_render(self) -> bool:
        """Render during strokes too (off: only when a stroke ends)."""
        return self._get("live_render", True, bool)

    @live_render.setter
    def live_render(self, value: bool) -> None:
        self.q.setValue("live_render", bool(value))

    @property
    def brush_size(self) -> int:
        return self._get("brush_size", 24, int)

    @brush_size.setter
    def brush_size(self, value: int) -> None:
        self.q.setValue("brush_size", int(value))

    def folder(self, kind: str) -> str:
        """The folder last used for `kind` (open, save, export, style, model)."""
        return self._get(f"folders/{kind}", str(Path.home()))

    def set_folder(self, kind: str, path: str | Path) -> None:
        p = Path(path)
        self.q.setValue(f"folders/{kind}", str(p if p.is_dir() else p.parent))

    @property
    def recent_files(self) -> list[str]:
        value = self.q.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        files = [f for f in self.recent_files if f != p]
        self.q.setValue("recent_files", [p] + files[:MAX_RECENT_FILES - 1])

    def remove_recent(self, path: str | Path) -> None:
        self.q.setValue("recent_files", [f for f in self.recent_files if f != str(path)])

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """The saved geometry and dock layout (None for one that is missing or not what Qt saved)."""
        values = self.q.value("window/geometry"), self.q.value("window/state")
        return tuple(v if isinstance(v, QByteArray) else None for v in values)  # type: ignore[return-value]

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def sync(self) -> None:
        self.q.sync()
