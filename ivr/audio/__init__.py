"""Audio formats shared by the voice engines and the telephone line.

Neither :mod:`ivr.voice` (synthesis, recognition) nor the Twilio side
(:mod:`ivr.calls`, :mod:`ivr.sandbox`) owns these conversions: both need
16-bit PCM (:mod:`ivr.audio.pcm`) and 8 kHz G.711 mu-law
(:mod:`ivr.audio.mulaw`), so they live here, once, with no I/O.
"""
