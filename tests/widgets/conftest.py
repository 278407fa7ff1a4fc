"""Fixtures: the shared hand-made typed frames."""

from typed_frames import deals, history  # noqa: F401  (pytest fixtures)
