"""bitrix_frames: Bitrix24 CRM data as typed pandas DataFrames, with safe write-back.

Example::

    import bitrix_frames as bf
    portal = bf.connect()            # BITRIX_WEBHOOK_URL from the environment or .env
    deals = portal.deals()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import BitrixError

if TYPE_CHECKING:
    from .portal import Portal, connect

__all__ = ["BitrixError", "Portal", "connect", "__version__"]


def __getattr__(name: str) -> Any:
    # The client layer (requests, pandas) loads on first use, so `import bitrix_frames.sandbox`
    # stays light; loading the portal also registers the ``df.bitrix`` accessor.
    if name in ("Portal", "connect"):
        from . import portal

        return getattr(portal, name)
    raise AttributeError(f"module 'bitrix_frames' has no attribute {name!r}")
