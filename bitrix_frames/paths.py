"""Where bitrix_frames keeps files on this machine: the cache (Parquet frames, write-back journals).

The directory is, in order: the caller's argument, ``$BITRIX_FRAMES_CACHE``, then the platform's
user cache directory from ``platformdirs`` (Linux ``$XDG_CACHE_HOME/bitrix_frames`` or
``~/.cache/bitrix_frames``, macOS ``~/Library/Caches/bitrix_frames``, Windows
``%LOCALAPPDATA%\\bitrix_frames\\Cache``).

Example::

    >>> cache_dir("/tmp/bf")
    PosixPath('/tmp/bf')
    >>> cache_dir().name   # no argument, no $BITRIX_FRAMES_CACHE: the platform's choice
    'bitrix_frames'
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path

__all__ = ["ENV_VAR", "cache_dir"]

ENV_VAR = "BITRIX_FRAMES_CACHE"


def cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory: ``path`` if given, else ``$BITRIX_FRAMES_CACHE``, else the platform's."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return user_cache_path("bitrix_frames", appauthor=False)
