"""Advanced Opt-Out, as Twilio runs it for US/Canada (+1) senders.

An inbound STOP (or a synonym) marks the (recipient, sender) pair
unsubscribed and later sends to it answer 21610; START/YES/UNSTOP clears it;
HELP gets the carrier's help text. Twilio answers these keywords itself, with
the texts in :data:`AUTO_REPLIES`. Elsewhere the carrier does nothing and the
application must honour them (its own words are in
:mod:`ivr.messaging.keywords`). Kept apart from the message lifecycle
(:mod:`ivr.sandbox.messages_center`) because these are Twilio's fixed words.
"""

from __future__ import annotations

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
AUTO_REPLIES = {
    "STOP": "You have successfully been unsubscribed. You will not receive any more "
    "messages from this number. Reply START to resubscribe.",
    "START": "You have successfully been re-subscribed to messages from this number. "
    "Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    "HELP": "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}
"""Twilio's default answers to the opt-out, opt-in and help keywords on +1 numbers."""


def keyword_of(body: str) -> str | None:
    """``STOP``/``START``/``HELP`` when the whole body is one of their keywords."""
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return "STOP"
    if word in OPT_IN_WORDS:
        return "START"
    if word in HELP_WORDS:
        return "HELP"
    return None
