"""Errors raised by the audio engines.

Both carry a message meant for an operator: it names the missing package,
voice, model directory or grammar words, so start-up can stop with it as is.
"""

from __future__ import annotations


class VoiceError(Exception):
    """Base class for every synthesis or recognition failure."""


class TtsError(VoiceError):
    """Speech synthesis is unavailable or a render failed (after a retry)."""


class AsrError(VoiceError):
    """The speech model is missing or wrong, or a grammar cannot be used with it."""
