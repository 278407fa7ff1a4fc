"""An embedded, faithful Bitrix24 portal on SQLite (the oracle of the tests).

It imports nothing from the rest of bitrix_frames.

Example::

    from bitrix_frames.sandbox import Sandbox
    with Sandbox(deals=500) as sb:
        print(sb.webhook_url)        # http://127.0.0.1:<port>/rest/1/<secret>/
"""

from .config import SandboxConfig
from .sandbox import Sandbox

__all__ = ["Sandbox", "SandboxConfig"]
