"""The package version, in a module of its own so low layers can read it without a cycle.

Example::

    from bitrix_frames._version import __version__
    headers = {"User-Agent": f"bitrix-frames/{__version__}"}
"""

__version__ = "0.1.0"
