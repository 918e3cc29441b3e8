from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One prompt cache for the whole run: each text is synthesized once."""
    return tmp_path_factory.mktemp("tts-cache")
