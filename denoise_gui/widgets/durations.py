"""Durations as every view writes them: '1:05', '1:02:03', or '–' when unknown."""

from __future__ import annotations

from nnkit.denoise import console_progress


def format_duration(seconds: float) -> str:
    """'1:05' or '1:02:03' (or '–' when unknown), as the CLI writes durations."""
    return console_progress.format_duration(seconds, unknown="–")
