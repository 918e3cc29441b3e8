"""SMS segment counting: GSM-7 (with its extension table) versus UCS-2."""

from __future__ import annotations

import pytest

from ivr.messaging.segments import MAX_BODY_CHARS, count_segments, is_gsm7


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (1600, 11)],
)
def test_gsm7_segments_by_length(length: int, segments: int) -> None:
    counted = count_segments("a" * length)
    assert counted.encoding == "GSM-7"
    assert counted.segments == segments
    assert counted.units == length


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_segments_by_length(length: int, segments: int) -> None:
    counted = count_segments("ã" * length)
    assert counted.encoding == "UCS-2"
    assert counted.segments == segments


@pytest.mark.parametrize("ch", list("ãõçêáíóúâô"))
def test_portuguese_accents_outside_gsm7_force_ucs2(ch: str) -> None:
    body = "Ola, " + ch + " " + "x" * 100
    assert not is_gsm7(ch)
    counted = count_segments(body)
    assert counted.encoding == "UCS-2"
    assert counted.segments == 2  # 106 characters: one GSM segment, two UCS-2 ones


@pytest.mark.parametrize("ch", list("éùìòÇØøÅåÄÖÑÜ§¿äöñüàÉÆæß£¥è"))
def test_gsm7_basic_accents_stay_gsm7(ch: str) -> None:
    counted = count_segments(ch * 160)
    assert counted.encoding == "GSM-7"
    assert counted.segments == 1


def test_a_single_accent_changes_the_whole_message() -> None:
    plain = "Voce tem uma mensagem sobre o seu acordo. " * 3  # 126 characters
    assert count_segments(plain).segments == 1
    accented = plain.replace("Voce", "Você", 1)
    assert count_segments(accented) == count_segments(accented)  # deterministic
    assert count_segments(accented).encoding == "UCS-2"
    assert count_segments(accented).segments == 2


@pytest.mark.parametrize("ch", list("€[]{}|^~\\\f"))
def test_extension_characters_cost_two_septets(ch: str) -> None:
    assert count_segments(ch * 80).units == 160
    assert count_segments(ch * 80).segments == 1
    assert count_segments(ch * 80 + "a").segments == 2
    assert count_segments(ch * 80).encoding == "GSM-7"


def test_an_extension_character_is_not_split_across_segments() -> None:
    # 152 plain septets then an escape pair: the pair does not fit in part one (153).
    body = "a" * 152 + "€" + "a" * 10
    assert count_segments(body).units == 164
    assert count_segments(body).segments == 2
    body = "a" * 152 + "€" + "a" * 152  # 152 | 2 + 152 = 154 > 153: three parts
    assert count_segments(body).segments == 3


def test_emoji_counts_two_utf16_units_and_is_not_split() -> None:
    assert count_segments("🙂" * 35).units == 70
    assert count_segments("🙂" * 35).segments == 1
    assert count_segments("🙂" * 35 + "a").segments == 2
    # 66 units then a pair: it moves whole to part two.
    assert count_segments("a" * 66 + "🙂" + "a" * 66).segments == 3


def test_empty_body_is_one_segment_and_the_limit_is_1600() -> None:
    assert count_segments("").segments == 1
    assert MAX_BODY_CHARS == 1600
