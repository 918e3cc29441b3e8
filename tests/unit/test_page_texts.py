"""The pages' words and scripts: both locales say everything, and no script writes HTML.

Every ``static/i18n/<locale>/<bundle>.json`` must exist in each locale with
the same keys (a key missing in one language shows up as its raw key on the
page), keys start with their bundle's name, and no value is empty. No
script under ``static/`` may assign ``innerHTML``/``outerHTML`` or call
``insertAdjacentHTML``/``document.write``: text goes in as text (dom.js).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ivr.vocab.locales import LOCALES

STATIC = Path(__file__).resolve().parents[2] / "ivr" / "web" / "static"
I18N = STATIC / "i18n"
HTML_SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*(\+?=)(?!=)|insertAdjacentHTML|document\.write|createContextualFragment"
)


def _bundles(locale: str) -> dict[str, dict[str, str]]:
    return {
        p.stem: json.loads(p.read_text("utf-8")) for p in sorted((I18N / locale).glob("*.json"))
    }


def test_every_bundle_has_the_same_keys_in_every_locale() -> None:
    first, *others = LOCALES
    reference = _bundles(first)
    assert {"common", "desktop"} <= set(reference)
    for locale in others:
        bundles = _bundles(locale)
        assert set(bundles) == set(reference), locale
        for name, words in reference.items():
            missing = set(words) - set(bundles[name])
            extra = set(bundles[name]) - set(words)
            assert not missing and not extra, (locale, name, sorted(missing), sorted(extra))


def test_keys_are_named_by_their_bundle_and_never_empty() -> None:
    for locale in LOCALES:
        for name, words in _bundles(locale).items():
            for key, text in words.items():
                assert key.startswith(f"{name}."), (locale, name, key)
                assert isinstance(text, str) and text.strip(), (locale, name, key)


def test_placeholders_match_across_locales() -> None:
    slots = re.compile(r"\{(\w+)\}")
    first, *others = LOCALES
    reference = _bundles(first)
    for locale in others:
        for name, words in _bundles(locale).items():
            for key, text in words.items():
                assert set(slots.findall(text)) == set(slots.findall(reference[name][key])), key


def test_no_script_writes_html() -> None:
    scripts = sorted(STATIC.rglob("*.js"))
    assert len(scripts) >= 5
    offenders = [
        f"{p.relative_to(STATIC)}:{n}: {line.strip()}"
        for p in scripts
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if HTML_SINKS.search(line)
    ]
    assert not offenders, offenders


def test_the_check_catches_html_sinks() -> None:
    for bad in ("node.innerHTML = x", "a.outerHTML += y", "el.insertAdjacentHTML('beforeend', s)"):
        assert HTML_SINKS.search(bad), bad
    assert not HTML_SINKS.search("if (node.innerHTML === '') {}")
