"""Signed 16-bit PCM: reading it, writing it and resampling it.

The synthesizer writes 16-bit WAV at its own rate, the recognizer takes
16-bit little-endian bytes at its model's rate, and the telephone carries
8 kHz mu-law (:mod:`ivr.audio.mulaw`, which builds on this module). This is
the one place those conversions happen, so that every engine agrees on the
byte order and on the resampler.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import soxr

__all__ = ["Int16Array", "PcmInput", "check_rate", "pcm16_array", "pcm16_bytes", "resample"]

Int16Array: TypeAlias = npt.NDArray[np.int16]
PcmInput: TypeAlias = bytes | bytearray | memoryview | npt.NDArray[np.integer]
"""PCM as little-endian int16 bytes (the WAV and pyttsx3 layout) or an int16 array."""


def check_rate(rate: int) -> None:
    """Reject a sample rate that is not a positive number of Hz."""
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")


def pcm16_array(pcm16: PcmInput) -> Int16Array:
    """View PCM input as a flat native int16 array.

    Bytes are read as little-endian int16; arrays must already be int16 so
    that no silent rescaling happens here.
    """
    if isinstance(pcm16, np.ndarray):
        if pcm16.dtype.kind != "i" or pcm16.dtype.itemsize != 2:
            raise TypeError(f"expected an int16 array, got dtype {pcm16.dtype}")
        return np.ascontiguousarray(pcm16.reshape(-1), dtype=np.int16)
    raw = bytes(pcm16)
    if len(raw) % 2:
        raise ValueError(f"PCM16 byte length must be even, got {len(raw)}")
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def pcm16_bytes(samples: Int16Array) -> bytes:
    """Int16 samples as little-endian bytes, whatever the machine's byte order."""
    return samples.astype("<i2").tobytes()


def resample(samples: Int16Array, from_rate: int, to_rate: int) -> Int16Array:
    """Resample a whole signal (soxr, high quality); the input itself when nothing changes.

    One-shot: a stream of short chunks needs a resampler that keeps its filter
    state between them (see :class:`ivr.audio.mulaw.UlawUpsampler`).
    """
    check_rate(from_rate)
    check_rate(to_rate)
    if from_rate == to_rate or not samples.size:
        return samples
    return soxr.resample(samples, from_rate, to_rate).astype(np.int16, copy=False)
