"""Where the web app keeps patients' files: Django's storage API over a folder that every
machine running leafletpress shares (``LEAFLETPRESS_SHARED``; by default the data folder).

Files are written atomically and owner-only (a reader on another machine never sees half a
PDF). A clinic day is made by the engine in a folder of its own, so the storage must have real
paths: a local or network folder (NFS, SMB), not an object store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

from ..common.files import own_folder, write_atomic


class SharedStorage(FileSystemStorage):
    def __init__(self, **options: Any) -> None:
        owner_only = {"file_permissions_mode": 0o600, "directory_permissions_mode": 0o700}
        super().__init__(**(options | owner_only))

    @property
    def base_location(self) -> Any:  # follows settings.SHARED (tests change it per test)
        return settings.SHARED

    @property
    def location(self) -> Any:
        return str(Path(settings.SHARED).resolve())

    def _save(self, name: str, content: Any) -> str:
        path = Path(self.path(name))
        own_folder(path.parent, Path(self.location))
        write_atomic(path, content.read())
        return name


def shared() -> SharedStorage:
    found = storages["default"]
    assert isinstance(found, SharedStorage), "STORAGES['default'] is the shared folder"
    return found


def path_of(name: str) -> Path:
    """A stored file's path (the engine reads and writes paths)."""
    return Path(shared().path(name))


def keep(name: str, data: bytes) -> None:
    """Store ``data`` under ``name``, replacing what was there."""
    from django.core.files.base import ContentFile

    storage = shared()
    storage.delete(name)
    storage.save(name, ContentFile(data))
