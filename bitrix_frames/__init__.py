"""bitrix_frames: Bitrix24 CRM data as typed pandas DataFrames, with safe write-back.

Example::

    import bitrix_frames as bf
    portal = bf.connect()            # BITRIX_WEBHOOK_URL from the environment or .env
    deals = portal.deals()
"""

from __future__ import annotations

__version__ = "0.1.0"  # before the imports: transport reads it for the User-Agent

from .errors import BitrixError  # noqa: E402
from .portal import Portal, connect  # noqa: E402

__all__ = ["BitrixError", "Portal", "connect", "__version__"]
