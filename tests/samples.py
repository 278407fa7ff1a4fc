"""Where the documented Bitrix24 samples live: ``../shared`` beside the repository, as on CI
(``BITRIX_SAMPLES`` overrides)."""

import os
from pathlib import Path

SAMPLES = Path(
    os.environ.get(
        "BITRIX_SAMPLES",
        Path(__file__).resolve().parents[2] / "shared" / "bitrix24" / "samples",
    )
)
