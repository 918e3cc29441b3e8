"""Benchmark of the Media Streams codec: mu-law encoding and message parsing.

Run: ``.venv/bin/python bench/codec.py``. Prints p50/p99 per operation and
throughput; a live call needs one 20 ms frame each way every 20 ms, so the
"x real time" figures say how many calls one core could carry on codec work.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from ivr.audio import mulaw
from ivr.telephony.media_codec import (
    Media,
    OutMedia,
    Start,
    StreamSequence,
    encode_inbound,
    encode_outbound,
    new_account_sid,
    new_call_sid,
    new_stream_sid,
    parse_inbound,
    parse_outbound,
)


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 / 1000.0, p99 / 1000.0


def _time_each(
    label: str, op: Callable[[int], object], count: int, unit: str, *, warm_up: bool = True
) -> list[int]:
    if warm_up:
        op(0)  # warm caches before timing
    timings: list[int] = []
    for i in range(count):
        begin = time.perf_counter_ns()
        op(i)
        timings.append(time.perf_counter_ns() - begin)
    p50, p99 = _percentiles(timings)
    total_s = sum(timings) / 1e9
    print(
        f"{label:<44} n={count:<6} p50={p50:9.2f} us  p99={p99:9.2f} us  "
        f"{count / total_s:12,.0f} {unit}/s"
    )
    return timings


def main() -> None:
    rng = np.random.default_rng(7)
    seconds = 60
    t = np.arange(seconds * 22050) / 22050
    voice_22k = (8000 * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 500, t.size)).astype(np.int16)
    voice_8k = voice_22k[:: 22050 // 8000][: seconds * 8000].copy()
    pcm_8k_bytes = voice_8k.astype("<i2").tobytes()
    frames_8k = [
        pcm_8k_bytes[i : i + 2 * mulaw.FRAME_BYTES]
        for i in range(0, len(pcm_8k_bytes), 2 * mulaw.FRAME_BYTES)
    ]
    ulaw_60s = mulaw.encode(pcm_8k_bytes)
    ulaw_frames = list(mulaw.frames(ulaw_60s))

    print(f"audio: {seconds} s; {len(ulaw_frames)} frames of {mulaw.FRAME_MS} ms\n")
    runs = 20
    timings = _time_each(
        "encode 60 s PCM16 8 kHz -> mu-law", lambda _: mulaw.encode(pcm_8k_bytes), runs, "calls"
    )
    print(f"{'':<44} = {seconds / (statistics.median(timings) / 1e9):,.0f} x real time")
    timings = _time_each(
        "resample 60 s 22.05 kHz + encode (prompt)",
        lambda _: mulaw.pcm16_to_ulaw8k(voice_22k, 22050),
        runs,
        "calls",
    )
    print(f"{'':<44} = {seconds / (statistics.median(timings) / 1e9):,.0f} x real time")
    timings = _time_each(
        "decode 60 s mu-law -> PCM16", lambda _: mulaw.decode(ulaw_60s), runs, "calls"
    )
    print(f"{'':<44} = {seconds / (statistics.median(timings) / 1e9):,.0f} x real time")
    _time_each(
        "encode one 20 ms frame",
        lambda i: mulaw.encode(frames_8k[i % len(frames_8k)]),
        len(frames_8k),
        "frames",
    )
    upsampler = mulaw.UlawUpsampler(16000)
    _time_each(
        "decode + upsample one frame to 16 kHz",
        lambda i: upsampler.feed(ulaw_frames[i % len(ulaw_frames)]),
        len(ulaw_frames),
        "frames",
    )

    print()
    sid = new_stream_sid()
    count = 10_000
    inbound = [
        encode_inbound(
            Media(
                stream_sid=sid,
                sequence_number=i + 2,
                chunk=i + 1,
                timestamp=20 * i,
                payload=ulaw_frames[i % len(ulaw_frames)],
            )
        )
        for i in range(count)
    ]
    outbound = [
        encode_outbound(sid, OutMedia(payload=ulaw_frames[i % len(ulaw_frames)]))
        for i in range(count)
    ]
    _time_each(
        "parse_inbound media (160 B payload)", lambda i: parse_inbound(inbound[i]), count, "msgs"
    )
    sequence = StreamSequence()
    sequence.feed(
        Start(
            stream_sid=sid,
            sequence_number=1,
            account_sid=new_account_sid(),
            call_sid=new_call_sid(),
        )
    )
    _time_each(
        "parse_inbound + StreamSequence.feed",
        lambda i: sequence.feed_text(inbound[i]),
        count,
        "msgs",
        warm_up=False,  # each message may be fed only once
    )
    _time_each(
        "encode_outbound media (160 B payload)",
        lambda i: encode_outbound(sid, OutMedia(payload=ulaw_frames[i % len(ulaw_frames)])),
        count,
        "msgs",
    )
    _time_each(
        "parse_outbound media (sandbox side)",
        lambda i: parse_outbound(outbound[i], sid),
        count,
        "msgs",
    )


if __name__ == "__main__":
    main()
