"""Fixtures: the shared hand-made typed frames."""

from typed_frames import deals  # noqa: F401  (pytest fixture)
