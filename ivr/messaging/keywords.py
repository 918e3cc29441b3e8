"""The words that stop or restart SMS, read the way people type them.

A keyword counts only when it is the *whole* message: ``" Sair "``,
``"PARAR!"``, ``"párar"`` and ``"stop."`` all stop messages, while
"não consigo parar de pensar nisso" is a reply for an agent to read. Case,
accents, spaces and punctuation around the word are ignored.

The list is Twilio's standard opt-out and opt-in words (its Advanced Opt-Out
defaults) plus the Portuguese ones the compliance notes name (SAIR, PARAR,
VOLTAR) and two more a Brazilian debtor writes to unsubscribe (CANCELAR,
DESCADASTRAR). Stopping on a doubtful word costs one message the debtor
did not want to stop; not stopping on a real one is a complaint, so the
opt-out list leans wide. The opt-in list does not: YES and START only act
when the sender is opted out (see :mod:`ivr.web.sms_hooks`).
"""

from __future__ import annotations

import unicodedata

from ivr.vocab.messages import SmsKeyword

OPT_OUT_WORDS = frozenset(
    {
        "sair",
        "parar",
        "cancelar",
        "descadastrar",
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
    }
)
OPT_IN_WORDS = frozenset({"voltar", "start", "unstop", "yes"})
_LONGEST = max(len(w) for w in OPT_OUT_WORDS | OPT_IN_WORDS)


def fold(text: str) -> str:
    """Lower case, accents removed, everything but letters and digits stripped
    from both ends (``" PÁRAR!! "`` -> ``"parar"``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    start, end = 0, len(bare)
    while start < end and not bare[start].isalnum():
        start += 1
    while end > start and not bare[end - 1].isalnum():
        end -= 1
    return bare[start:end]


def keyword(body: str | None) -> SmsKeyword | None:
    """The keyword the whole message is, if it is one."""
    if not body or len(body) > 4 * _LONGEST:
        return None
    word = fold(body)
    if word in OPT_OUT_WORDS:
        return SmsKeyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return SmsKeyword.OPT_IN
    return None
