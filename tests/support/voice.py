"""The recognizer tests' locale and its grammars, unit and integration.

The Korean test locale (grammars/ko-KR) is the only one with both a Vosk model
and a synthesis voice on a test machine, so the recognizer tests all use it.
The ``model`` fixture that loads its Vosk model lives in tests/conftest.py.
"""

from __future__ import annotations

from ivr.dialog.grammars import all_contexts, load_grammar

TEST_LOCALE = "ko-KR"


def ko_grammars() -> dict[str, list[str]]:
    """Every listening context of the test locale and its phrases, as the service loads them."""
    return {context: load_grammar(TEST_LOCALE, context) for context in all_contexts(TEST_LOCALE)}
