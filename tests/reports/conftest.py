"""Fixtures: the shared hand-made typed frames."""

from typed_frames import deals, leads, rates, tasks  # noqa: F401  (pytest fixtures)
