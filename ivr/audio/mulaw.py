"""G.711 mu-law codec and 8 kHz framing: telephone audio as Twilio carries it.

Twilio carries call audio as raw mu-law at 8 kHz, 20 ms (160 bytes) per frame,
with no header. This module converts between that and signed 16-bit PCM
(:mod:`ivr.audio.pcm`), with no I/O: synthesized prompts go out through it,
caller audio comes in through it to the recognizer.

Why numpy lookup tables instead of ``audioop``: ``audioop`` is gone in Python
3.13. The tables below reproduce, bit for bit, the classic Sun ``g711.c``
algorithm that ``audioop.lin2ulaw`` / ``audioop.ulaw2lin`` implement: the 16-bit
sample is taken down to 14 bits by an arithmetic (flooring) shift, the magnitude
is clipped at 8159 and biased by 33 (``0x84 >> 2``, the 16-bit bias 0x84), the
segment is found by searching the segment end points, and the code is
complemented. Every one of the 65,536 inputs has one precomputed code, so
encoding is a single table lookup per sample.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final

import numpy as np
import numpy.typing as npt
import soxr

from ivr.audio.pcm import Int16Array, PcmInput, check_rate, pcm16_array, pcm16_bytes, resample

__all__ = [
    "FRAME_BYTES",
    "FRAME_MS",
    "SAMPLE_RATE",
    "SILENCE_BYTE",
    "UlawUpsampler",
    "decode",
    "decode_bytes",
    "encode",
    "frames",
    "pcm16_to_ulaw8k",
    "rms_dbfs",
    "ulaw8k_to_pcm16",
]

SAMPLE_RATE: Final = 8000
"""Twilio Media Streams sample rate (Hz)."""
FRAME_MS: Final = 20
"""Duration of one Media Streams frame (ms)."""
FRAME_BYTES: Final = SAMPLE_RATE * FRAME_MS // 1000
"""Bytes (= samples) in one 20 ms mu-law frame at 8 kHz: 160."""
SILENCE_BYTE: Final = 0xFF
"""The mu-law code for digital zero; used to pad partial frames."""

_BIAS14: Final = 0x84 >> 2  # 33: the G.711 bias 0x84 expressed on 14 bits
_CLIP14: Final = 8159  # largest 14-bit magnitude before the bias is added
_SEG_UEND: Final = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)


def _build_encode_table() -> npt.NDArray[np.uint8]:
    """Compute the mu-law code of every int16 value, indexed by its uint16 bit pattern."""
    pcm = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int32)
    shifted = pcm >> 2  # arithmetic shift: floors negatives, exactly as g711.c does
    negative = shifted < 0
    mask = np.where(negative, 0x7F, 0xFF).astype(np.int32)
    magnitude = np.minimum(np.abs(shifted), _CLIP14) + _BIAS14
    # First segment whose end point is >= magnitude (the g711.c linear search).
    seg = np.searchsorted(_SEG_UEND, magnitude, side="left").astype(np.int32)
    mantissa = (magnitude >> (seg + 1)) & 0x0F
    code = ((seg << 4) | mantissa) ^ mask
    # seg == 8 cannot happen after clipping, but keep g711.c's overflow rule explicit.
    code = np.where(seg >= 8, 0x7F ^ mask, code)
    return code.astype(np.uint8)


def _build_decode_table() -> Int16Array:
    """Compute the int16 value of every mu-law code (g711.c ulaw2linear)."""
    u = (~np.arange(256, dtype=np.int32)) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    linear = np.where(u & 0x80, 0x84 - t, t - 0x84)
    return linear.astype(np.int16)


_ENCODE_TABLE: Final = _build_encode_table()
_DECODE_TABLE: Final = _build_decode_table()


def encode(pcm16: PcmInput) -> bytes:
    """Encode little-endian int16 PCM (bytes) or an int16 array to mu-law bytes."""
    samples = pcm16_array(pcm16)
    return _ENCODE_TABLE[samples.view(np.uint16)].tobytes()


def decode(ulaw: bytes | bytearray | memoryview) -> Int16Array:
    """Decode mu-law bytes to an int16 array (one sample per byte)."""
    codes = np.frombuffer(bytes(ulaw), dtype=np.uint8)
    return _DECODE_TABLE[codes]


def decode_bytes(ulaw: bytes | bytearray | memoryview) -> bytes:
    """Decode mu-law bytes to little-endian int16 PCM bytes."""
    return pcm16_bytes(decode(ulaw))


def frames(
    ulaw: bytes | bytearray | memoryview, size: int = FRAME_BYTES, pad: bool = True
) -> Iterator[bytes]:
    """Split mu-law audio into frames of ``size`` bytes.

    The last partial frame is padded with mu-law silence (0xFF) when ``pad`` is
    true, so that every frame sent to Twilio has the same 20 ms duration;
    otherwise it is yielded short. Empty input yields nothing.
    """
    if size <= 0:
        raise ValueError(f"frame size must be positive, got {size}")
    data = bytes(ulaw)
    for start in range(0, len(data), size):
        chunk = data[start : start + size]
        if pad and len(chunk) < size:
            chunk += bytes([SILENCE_BYTE]) * (size - len(chunk))
        yield chunk


def pcm16_to_ulaw8k(pcm16: PcmInput, rate: int) -> bytes:
    """Resample int16 PCM at ``rate`` Hz to 8 kHz (soxr, high quality) and encode to mu-law.

    This is how synthesized prompts (typically 22.05 kHz) become Twilio audio.
    """
    check_rate(rate)
    return encode(resample(pcm16_array(pcm16), rate, SAMPLE_RATE))


def ulaw8k_to_pcm16(ulaw: bytes | bytearray | memoryview, rate: int = 16000) -> Int16Array:
    """Decode 8 kHz mu-law and resample it to ``rate`` Hz int16 (e.g. a 16 kHz recognizer).

    One-shot: fine for whole utterances. For a live 20 ms frame stream use
    :class:`UlawUpsampler`, which keeps filter state across frames so that
    frame edges do not click.
    """
    check_rate(rate)
    return resample(decode(ulaw), SAMPLE_RATE, rate)


class UlawUpsampler:
    """Streaming mu-law 8 kHz -> int16 PCM at ``rate`` Hz, frame by frame.

    Keeps the resampler state between calls so that a stream of 20 ms frames
    gives the same audio as resampling the whole call at once (minus the
    filter delay, which :meth:`flush` releases at the end).
    """

    def __init__(self, rate: int = 16000, quality: str = "HQ") -> None:
        """``quality`` is soxr's: "HQ" hands out audio in 100 ms bursts (its
        filter needs look-ahead); "QQ" (cubic) returns every frame at once,
        for a recognizer that must hear the end of a word without delay."""
        check_rate(rate)
        self.rate = rate
        self._stream: soxr.ResampleStream | None = (
            None
            if rate == SAMPLE_RATE
            else soxr.ResampleStream(SAMPLE_RATE, rate, 1, "int16", quality=quality)
        )

    def feed(self, ulaw: bytes | bytearray | memoryview) -> Int16Array:
        """Decode and resample one chunk; returns the samples available so far."""
        samples = decode(ulaw)
        if self._stream is None:
            return samples
        return self._stream.resample_chunk(samples, last=False).astype(np.int16, copy=False)

    def flush(self) -> Int16Array:
        """Return the samples still held in the resampler at the end of a stream."""
        if self._stream is None:
            return np.zeros(0, dtype=np.int16)
        return self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True).astype(
            np.int16, copy=False
        )


def rms_dbfs(ulaw: bytes | bytearray | memoryview) -> float:
    """RMS level of mu-law audio in dBFS (0 dBFS = a full-scale square wave).

    Used to tell audible audio from silence, e.g. to check that a caller heard
    a prompt. Empty or all-zero audio returns ``-inf``.
    """
    samples = decode(ulaw)
    if samples.size == 0:
        return -math.inf
    mean_square = float(np.mean(np.square(samples.astype(np.float64))))
    if mean_square == 0.0:
        return -math.inf
    return 10.0 * math.log10(mean_square / (32768.0 * 32768.0))
