"""An embedded, faithful Bitrix24 portal on SQLite (the oracle of the tests).

It imports nothing from the rest of bitrix_frames.
"""
