"""What a scripted callee does once its call is answered, and how AMD reads it.

ivr/sandbox/callee.py describes a callee (data only); this module plays that
description on the call's :class:`Line`: waits for prompts, presses keys,
speaks, stays silent, hangs up. It runs as its own task beside the TwiML
walker, so it lives apart from the engine that starts it.
"""

from __future__ import annotations

from ivr.sandbox.callee import CalleeScript, HangUp, Press, Silence, Speak, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.legs import LiveCall
from ivr.sandbox.line import SpeechInput
from ivr.sandbox.webhooks import SignedPoster


def amd_verdict(
    script: CalleeScript, machine_detection: str, config: SandboxConfig
) -> tuple[str, int]:
    """What answering-machine detection reports for ``script`` (AnsweredBy), after how many ms."""
    if script.answered_by is not None:
        answered_by = script.answered_by
    elif script.answer == "voicemail":
        detect_end = machine_detection.lower() == "detectmessageend"
        answered_by = "machine_end_beep" if detect_end else "machine_start"
    else:
        answered_by = "human"
    if script.amd_ms is not None:
        amd_ms = script.amd_ms
    elif answered_by == "human":
        amd_ms = config.amd_human_ms
    else:
        amd_ms = config.amd_machine_ms
    return answered_by, amd_ms


async def detect_in_background(live: LiveCall, answered_by: str, poster: SignedPoster) -> None:
    """Asynchronous AMD: the verdict after ``live.amd_ms`` of call, posted to its callback."""
    rec, line = live.record, live.line
    assert line is not None and live.amd_ms is not None
    amd_ms = live.amd_ms
    await line.wait_until(lambda: line.media_ms >= amd_ms, None)
    if live.gone.is_set() or line.closed:
        return
    rec.answered_by = answered_by
    rec.log("amd", answered_by=answered_by, ms=amd_ms)
    if not rec.async_amd_status_callback:
        return
    params = {
        "AccountSid": rec.account_sid,
        "CallSid": rec.sid,
        "AnsweredBy": answered_by,
        "MachineDetectionDuration": str(amd_ms),
    }
    await poster.send(
        "amd",
        rec.async_amd_status_callback,
        params,
        rec.async_amd_status_callback_method,
        rec.callbacks,
    )


async def run_callee(live: LiveCall) -> None:
    """Play the callee's steps in order until the call ends or the script runs out."""
    line, rec, script = live.line, live.record, live.script
    assert line is not None
    for step in script.steps:
        if live.gone.is_set() or line.closed:
            return
        if isinstance(step, WaitForPrompt):
            await _wait_for_prompt(live, step)
        elif isinstance(step, Press):
            await _press(live, step)
        elif isinstance(step, Speak):
            rec.log("speak", bytes=len(step.ulaw_audio), transcript=step.transcript)
            await line.speak(step.ulaw_audio)
            sink = line.input_sink
            if step.transcript is not None and sink is not None and sink.speech:
                sink.queue.put_nowait(SpeechInput(step.transcript, step.confidence))
        elif isinstance(step, Silence):
            await line.sleep(step.seconds)
        elif isinstance(step, HangUp):
            live.hang_up("callee-hangup")
            return
    if script.hangup_when_done and not live.gone.is_set():
        live.hang_up("callee-hangup")


async def _wait_for_prompt(live: LiveCall, step: WaitForPrompt) -> None:
    line = live.line
    assert line is not None
    base_audible = line.audible_ms
    base_marks = line.marks_played
    started = line.media_ms

    def prompt_over() -> bool:
        if line.audible_ms - base_audible < step.min_audible_ms:
            return False
        if line.silence_run_ms >= step.then_silence_ms:
            return True
        return line.marks_played > base_marks and line.playback_idle

    done = await line.wait_until(prompt_over, step.timeout_s)
    if done:
        live.record.log("prompt-heard", waited_ms=line.media_ms - started)
    elif not line.closed:
        live.record.log("prompt-timeout", waited_ms=line.media_ms - started)


async def _press(live: LiveCall, step: Press) -> None:
    line, rec = live.line, live.record
    assert line is not None
    if not await line.wait_for_listener(live.script.patience_s):
        if not line.closed:
            rec.log("dtmf-lost", digits=step.digits)
        return
    for i, digit in enumerate(step.digits):
        if i:
            await line.sleep(step.gap_ms / 1000)
        if line.closed:
            return
        rec.digits_sent.append(digit)
        if line.stream is not None:
            rec.log("press", digit=digit, via="stream")
            await line.stream.send_dtmf(digit)
        elif line.input_sink is not None and line.input_sink.dtmf:
            rec.log("press", digit=digit, via="gather")
            line.input_sink.queue.put_nowait(digit)
        else:
            rec.log("dtmf-lost", digits=digit)
