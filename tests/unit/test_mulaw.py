"""G.711 mu-law codec: exhaustive bit-exactness, framing, resampling and levels.

The reference below is written from the G.711 algorithm as the classic
``g711.c`` states it (reduce to 14 bits, clip, add the bias, search the
segment, complement), one sample at a time in plain Python, so that it shares
nothing with the table-driven implementation under test.
"""

from __future__ import annotations

import math
import warnings
from types import ModuleType

import numpy as np
import pytest

from ivr.audio import mulaw

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int64).astype(np.int16)
ALL_CODES = bytes(range(256))


def _audioop() -> ModuleType | None:
    """audioop exists up to Python 3.12; when it does, it is a second witness."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            return None
    return audioop


def ref_linear_to_ulaw(sample: int) -> int:
    """One 16-bit sample to its mu-law code, straight from the G.711 segment search."""
    segment_ends = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
    value = sample // 4  # to 14 bits, rounding towards minus infinity
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, 8159) + 33  # clip, then add the bias (0x84 on 16 bits)
    segment = 0
    while segment < 8 and value > segment_ends[segment]:
        segment += 1
    if segment == 8:
        return 0x7F ^ mask
    mantissa = (value >> (segment + 1)) & 0x0F
    return ((segment << 4) | mantissa) ^ mask


def ref_ulaw_to_linear(code: int) -> int:
    """One mu-law code to its 16-bit value: ((mantissa * 8 + 132) << exponent) - 132, signed."""
    inverted = ~code & 0xFF
    exponent = (inverted >> 4) & 0x07
    mantissa = inverted & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    return 0x84 - magnitude if inverted & 0x80 else magnitude - 0x84


def _sine(freq: float, seconds: float, rate: int, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.round(amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1.0 / rate)[int(np.argmax(spectrum))])


# --------------------------------------------------------------------------- constants


def test_frame_constants_describe_20ms_at_8khz() -> None:
    assert mulaw.SAMPLE_RATE == 8000
    assert mulaw.FRAME_MS == 20
    assert mulaw.FRAME_BYTES == 160
    assert mulaw.SILENCE_BYTE == 0xFF
    assert mulaw.decode(bytes([mulaw.SILENCE_BYTE])).tolist() == [0]


# --------------------------------------------------------------------------- bit exactness


def test_encode_every_int16_matches_g711_reference() -> None:
    expected = bytes(ref_linear_to_ulaw(int(s)) for s in ALL_INT16)
    got = mulaw.encode(ALL_INT16.astype("<i2").tobytes())
    mismatches = [i for i in range(65536) if got[i] != expected[i]]
    assert not mismatches, [(int(ALL_INT16[i]), got[i], expected[i]) for i in mismatches[:10]]
    audioop = _audioop()
    if audioop is not None:
        assert got == audioop.lin2ulaw(ALL_INT16.astype("<i2").tobytes(), 2)


def test_decode_every_code_matches_g711_reference() -> None:
    expected = [ref_ulaw_to_linear(c) for c in ALL_CODES]
    got = mulaw.decode(ALL_CODES)
    assert got.dtype == np.int16
    assert got.tolist() == expected
    assert mulaw.decode_bytes(ALL_CODES) == np.array(expected, dtype="<i2").tobytes()
    audioop = _audioop()
    if audioop is not None:
        assert mulaw.decode_bytes(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)


def test_known_code_points() -> None:
    assert mulaw.encode(np.array([0, -1, 32767, -32768, 32124, -32124], dtype=np.int16)) == bytes(
        [0xFF, 0x7E, 0x80, 0x00, 0x80, 0x00]
    )
    assert mulaw.decode(bytes([0x00, 0x80, 0x7F, 0xFF])).tolist() == [-32124, 32124, 0, 0]


def test_decode_is_monotonic_within_each_sign() -> None:
    values = mulaw.decode(ALL_CODES).astype(np.int64)
    assert np.all(np.diff(values[:0x80]) > 0)  # 0x00 (most negative) up to 0x7F (zero)
    assert np.all(np.diff(values[0x80:]) < 0)  # 0x80 (most positive) down to 0xFF (zero)


def test_encode_of_decode_is_identity_except_negative_zero() -> None:
    reencoded = mulaw.encode(mulaw.decode(ALL_CODES))
    differing = [c for c in ALL_CODES if reencoded[c] != c]
    assert differing == [0x7F]  # "negative zero" decodes to 0, which encodes as 0xFF
    assert reencoded[0x7F] == 0xFF


def test_round_trip_error_stays_within_half_a_step_of_its_segment() -> None:
    original = ALL_INT16.astype(np.int64)
    codes = np.frombuffer(mulaw.encode(ALL_INT16), dtype=np.uint8).astype(np.int64)
    restored = mulaw.decode(codes.astype(np.uint8).tobytes()).astype(np.int64)
    error = np.abs(restored - original)
    segment = ((~codes) >> 4) & 0x07
    in_range = np.abs(original) <= 32124
    # Step is 8 << segment on 16 bits; reconstruction is mid-step, and the 14-bit
    # reduction may lose up to 3 more.
    bound = (4 << segment) + 3
    assert np.all(error[in_range] <= bound[in_range])
    # Beyond the largest code the value saturates at +/-32124.
    assert np.all(np.abs(restored[~in_range]) == 32124)
    assert np.all(np.sign(restored[~in_range]) == np.sign(original[~in_range]))


def test_round_trip_snr_of_a_speech_level_sine() -> None:
    tone = _sine(440, 1.0, 8000, 8000.0)
    restored = mulaw.decode(mulaw.encode(tone)).astype(np.float64)
    noise = restored - tone
    snr_db = 10 * math.log10(np.sum(tone.astype(np.float64) ** 2) / np.sum(noise**2))
    assert snr_db > 33.0  # G.711 gives about 38 dB over its whole range


# --------------------------------------------------------------------------- input forms


def test_bytes_and_arrays_encode_the_same() -> None:
    tone = _sine(1000, 0.1, 8000, 12000.0)
    from_bytes = mulaw.encode(tone.astype("<i2").tobytes())
    assert mulaw.encode(tone) == from_bytes
    assert mulaw.encode(tone.astype(">i2")) == from_bytes
    assert mulaw.encode(bytearray(tone.astype("<i2").tobytes())) == from_bytes
    assert mulaw.encode(memoryview(tone.astype("<i2").tobytes())) == from_bytes
    assert len(from_bytes) == tone.size


def test_encode_rejects_odd_bytes_and_non_int16_arrays() -> None:
    with pytest.raises(ValueError):
        mulaw.encode(b"\x00\x01\x02")
    with pytest.raises(TypeError):
        mulaw.encode(np.zeros(4, dtype=np.float32))
    with pytest.raises(TypeError):
        mulaw.encode(np.zeros(4, dtype=np.int32))


def test_empty_audio() -> None:
    assert mulaw.encode(b"") == b""
    assert mulaw.decode(b"").size == 0
    assert mulaw.decode_bytes(b"") == b""
    assert mulaw.pcm16_to_ulaw8k(b"", 22050) == b""
    assert mulaw.ulaw8k_to_pcm16(b"", 16000).size == 0


# --------------------------------------------------------------------------- framing


def test_frames_split_exact_multiples() -> None:
    data = bytes(range(256)) * 5  # 1280 bytes = 8 frames
    chunks = list(mulaw.frames(data))
    assert [len(c) for c in chunks] == [160] * 8
    assert b"".join(chunks) == data


def test_frames_pad_the_last_frame_with_silence() -> None:
    data = bytes([0x10]) * 170
    chunks = list(mulaw.frames(data))
    assert len(chunks) == 2
    assert chunks[0] == data[:160]
    assert chunks[1] == bytes([0x10]) * 10 + bytes([0xFF]) * 150


def test_frames_without_padding_and_custom_size() -> None:
    assert list(mulaw.frames(b"abcdefg", size=3, pad=False)) == [b"abc", b"def", b"g"]
    assert list(mulaw.frames(b"abcdefg", size=3)) == [b"abc", b"def", b"g\xff\xff"]
    assert list(mulaw.frames(b"")) == []
    with pytest.raises(ValueError):
        list(mulaw.frames(b"abc", size=0))


# --------------------------------------------------------------------------- resampling


def test_pcm16_to_ulaw8k_resamples_prompt_audio() -> None:
    tone = _sine(440, 1.0, 22050, 10000.0)
    ulaw = mulaw.pcm16_to_ulaw8k(tone, 22050)
    assert abs(len(ulaw) - 8000) <= 1
    decoded = mulaw.decode(ulaw)
    assert abs(_peak_hz(decoded, 8000) - 440) <= 2
    expected_dbfs = 20 * math.log10(10000 / 32768 / math.sqrt(2))
    assert abs(mulaw.rms_dbfs(ulaw[400:-400]) - expected_dbfs) < 0.5
    assert mulaw.pcm16_to_ulaw8k(tone.astype("<i2").tobytes(), 22050) == ulaw


def test_pcm16_to_ulaw8k_at_8khz_is_plain_encoding() -> None:
    tone = _sine(300, 0.2, 8000, 5000.0)
    assert mulaw.pcm16_to_ulaw8k(tone, 8000) == mulaw.encode(tone)
    with pytest.raises(ValueError):
        mulaw.pcm16_to_ulaw8k(tone, 0)


def test_pcm16_to_ulaw8k_removes_content_above_nyquist() -> None:
    # 6 kHz cannot exist at 8 kHz; a naive decimation would alias it to 2 kHz.
    tone = _sine(6000, 0.5, 22050, 20000.0)
    assert mulaw.rms_dbfs(mulaw.pcm16_to_ulaw8k(tone, 22050)) < -50


def test_ulaw8k_to_pcm16_upsamples_for_a_16khz_recognizer() -> None:
    ulaw = mulaw.encode(_sine(440, 1.0, 8000, 10000.0))
    pcm = mulaw.ulaw8k_to_pcm16(ulaw, 16000)
    assert pcm.dtype == np.int16
    assert pcm.size == 16000
    assert abs(_peak_hz(pcm, 16000) - 440) <= 2
    assert mulaw.ulaw8k_to_pcm16(ulaw, 8000).tolist() == mulaw.decode(ulaw).tolist()


def test_streaming_upsampler_matches_one_shot() -> None:
    ulaw = mulaw.encode(_sine(440, 1.0, 8000, 10000.0))
    up = mulaw.UlawUpsampler(16000)
    pieces = [up.feed(frame) for frame in mulaw.frames(ulaw)]
    streamed = np.concatenate([*pieces, up.flush()])
    one_shot = mulaw.ulaw8k_to_pcm16(ulaw, 16000)
    assert streamed.size == one_shot.size
    assert int(np.max(np.abs(streamed.astype(np.int64) - one_shot.astype(np.int64)))) <= 4
    passthrough = mulaw.UlawUpsampler(8000)
    assert passthrough.feed(ulaw[:160]).tolist() == mulaw.decode(ulaw[:160]).tolist()
    assert passthrough.flush().size == 0


# --------------------------------------------------------------------------- levels


def test_rms_dbfs_of_silence_is_minus_infinity() -> None:
    assert mulaw.rms_dbfs(b"") == -math.inf
    assert mulaw.rms_dbfs(bytes([0xFF]) * 160) == -math.inf
    assert mulaw.rms_dbfs(bytes([0x7F, 0xFF]) * 80) == -math.inf


def test_rms_dbfs_tracks_the_signal_level() -> None:
    square = bytes([0x80, 0x00]) * 80  # +/-32124
    assert mulaw.rms_dbfs(square) == pytest.approx(20 * math.log10(32124 / 32768), abs=1e-9)
    loud = mulaw.encode(_sine(440, 0.5, 8000, 16000.0))
    quiet = mulaw.encode(_sine(440, 0.5, 8000, 160.0))
    assert mulaw.rms_dbfs(loud) == pytest.approx(20 * math.log10(16000 / 32768 / 2**0.5), abs=0.2)
    assert mulaw.rms_dbfs(loud) - mulaw.rms_dbfs(quiet) == pytest.approx(40.0, abs=1.0)
