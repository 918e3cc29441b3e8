"""Prompt texts per locale, loaded from ``prompts/<locale>/prompts.yaml``.

Prompt wording lives in data, not code, so it can be reviewed for tone and
translated without touching the call flow. Every prompt has a few variants: a
re-ask uses different words instead of repeating the same sentence louder.
Placeholders are checked when the file is loaded, so a typo in a prompt fails
at start-up with the prompt's name instead of mid-call in front of a debtor.

Beside the prompts, the file's ``lines`` section holds the sentences said once
at a fixed moment around a transfer to a person (hold, queue, callback, the
agent's whisper): nothing re-asks them, so each has one wording, checked the
same way.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from ivr.vocab.locales import LOCALES

#: Every placeholder a prompt may use, and what the dialog fills it with.
KNOWN_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "first_name",  # the debtor's first name
        "company",  # the calling company, a name that does not reveal collection
        "creditor",  # who the money is owed to
        # the creditor as said after "em nome" / "on behalf of": pt-BR with "de"
        # and its article ("do Banco Horizonte"), en-US the name ("Bright Star Stores")
        "creditor_with_article",
        "amount",  # the amount due, in words
        "due_date",  # the due date, spoken
        "promise_date",  # the promised payment date, spoken
        "promise_amount",  # the promised amount, in words
        "callback_number",  # the number to call back, digit by digit
        "installment_amount",  # one installment, in words
        "installments",  # how many installments
        "latest_date",  # the latest date a promise may have, spoken
        "max_instalments",  # the most instalments a plan may have (campaign)
        "max_plan_days",  # the most days from a plan's first instalment to its last
        "said_date",  # a closed day the caller named, spoken (before it moved)
        "moved_date",  # the business day it moved to, spoken
        "split_count",  # how many parts a split the caller proposed has
        "split_plan",  # each part of that split, amount and day, spoken
        "callback_when",  # when we will call back, spoken
        "people",  # inbound, a shared number: "1 para Ana, 2 para Bruno"
        "callback_day",  # the day of a callback, spoken
        "callback_time",  # the time of day of a callback
        "callers_ahead",  # how many callers wait before this one in the agents' queue
        "full_name",  # the debtor's full name, for the agent's whisper
        "transfer_reason",  # why the call goes to a person, in words, for the agent
        "caller_number",  # an unidentified caller's number, for the agent's screen and whisper
        "recording_notice",  # "this call is recorded" when it is, else nothing
    }
)

#: Placeholders that carry the debtor's personal data or debt details. Prompts
#: using them are rendered per call (before dialing); the rest are shared.
PERSONAL_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "first_name",
        "full_name",
        "caller_number",
        "creditor",
        "creditor_with_article",
        "amount",
        "due_date",
        "installment_amount",
        "latest_date",
        "people",
    }
)

#: Placeholders whose values many calls share (the company, a campaign's
#: limits, whether calls are recorded): a prompt using only these says the
#: same words to many callers, so its audio is cached as a common prompt.
SHARED_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "company",
        "callback_number",
        "recording_notice",
        "max_instalments",
        "max_plan_days",
        "installments",
        "callers_ahead",
        "transfer_reason",
    }
)

_FORMATTER = string.Formatter()


class PromptError(Exception):
    """A prompt file is malformed, or a prompt id or placeholder is wrong."""


class _HasPromptIds(Protocol):
    def prompt_ids(self) -> frozenset[str]: ...


def default_root() -> Path:
    """``./prompts`` when run from the project, else the copy beside the package."""
    here = Path("prompts")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "prompts"


def _placeholders_of(text: str, where: str) -> set[str]:
    """Names used in ``text``; only plain ``{name}`` fields are allowed."""
    names: set[str] = set()
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise PromptError(f"{where}: malformed placeholder ({exc})") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise PromptError(f"{where}: placeholder '{{{field}}}' must be a plain name")
        if field not in KNOWN_PLACEHOLDERS:
            raise PromptError(f"{where}: unknown placeholder '{{{field}}}'")
        names.add(field)
    return names


def _checked_text(text: object, where: str) -> str:
    """A prompt or line text from the file: non-empty, known placeholders, spaces collapsed."""
    if not isinstance(text, str) or not text.strip():
        raise PromptError(f"{where}: empty or not a text")
    _placeholders_of(text, where)
    return " ".join(text.split())


def _fill(text: str, variables: Mapping[str, Any], where: str) -> str:
    needed = _placeholders_of(text, where)
    missing = sorted(needed - set(variables))
    if missing:
        raise PromptError(f"{where}: no value for {', '.join(missing)}")
    values = {name: str(variables[name]) for name in needed}
    filled = text.format_map(values)
    if any(not value for value in values.values()):
        # A sentence left out (an empty value) leaves no double space behind.
        filled = re.sub(r" {2,}", " ", filled).strip()
    return filled


@dataclass(frozen=True)
class PromptCatalog:
    """All prompts of one locale: id -> variants (at least one); and its lines: id -> text."""

    locale: str
    prompts: Mapping[str, tuple[str, ...]]
    lines: Mapping[str, str]

    @classmethod
    def load(cls, locale: str, root: Path | None = None) -> PromptCatalog:
        """Read and validate ``<root>/<locale>/prompts.yaml``."""
        base = default_root() if root is None else Path(root)
        path = base / locale / "prompts.yaml"
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PromptError(f"no prompts for locale {locale!r}: {path} is missing") from None
        except yaml.YAMLError as exc:
            raise PromptError(f"{path}: not valid YAML ({exc})") from None
        return cls.from_mapping(locale, raw, source=str(path))

    @classmethod
    def from_mapping(cls, locale: str, raw: Any, source: str = "<prompts>") -> PromptCatalog:
        """Validate an already parsed prompt document."""
        if not isinstance(raw, dict) or not isinstance(raw.get("prompts"), dict):
            raise PromptError(f"{source}: expected a mapping with a 'prompts' mapping")
        declared = raw.get("locale", locale)
        if declared != locale:
            raise PromptError(f"{source}: declares locale {declared!r}, expected {locale!r}")
        prompts: dict[str, tuple[str, ...]] = {}
        for prompt_id, value in raw["prompts"].items():
            where = f"{source}: prompt '{prompt_id}'"
            variants = [value] if isinstance(value, str) else value
            if not isinstance(variants, list) or not variants:
                raise PromptError(f"{where}: expected a text or a list of texts")
            texts = [
                _checked_text(text, f"{where}, variant {i}") for i, text in enumerate(variants)
            ]
            prompts[str(prompt_id)] = tuple(texts)
        raw_lines = raw.get("lines", {})
        if not isinstance(raw_lines, dict):
            raise PromptError(f"{source}: 'lines' must be a mapping")
        lines = {
            str(line_id): _checked_text(text, f"{source}: line '{line_id}'")
            for line_id, text in raw_lines.items()
        }
        return cls(locale=locale, prompts=prompts, lines=lines)

    def ids(self) -> frozenset[str]:
        """Every prompt id in this locale."""
        return frozenset(self.prompts)

    def variants(self, prompt_id: str) -> int:
        """How many wordings ``prompt_id`` has."""
        return len(self._variants(prompt_id))

    def placeholders(self, prompt_id: str) -> frozenset[str]:
        """The placeholders any variant of ``prompt_id`` uses."""
        names: set[str] = set()
        for i, text in enumerate(self._variants(prompt_id)):
            names |= _placeholders_of(text, f"prompt '{prompt_id}', variant {i}")
        return frozenset(names)

    def personal(self, prompt_id: str) -> bool:
        """True when ``prompt_id``'s words belong to one call (a name, an
        amount, a date the caller said): its audio is not a common prompt's."""
        return not self.placeholders(prompt_id) <= SHARED_PLACEHOLDERS

    def render(self, prompt_id: str, variables: Mapping[str, Any], variant: int = 0) -> str:
        """The text to speak; ``variant`` wraps around the available wordings."""
        variants = self._variants(prompt_id)
        return _fill(variants[variant % len(variants)], variables, f"prompt '{prompt_id}'")

    def line(self, line_id: str, variables: Mapping[str, Any] | None = None) -> str:
        """The line ``line_id`` to speak, its placeholders filled from ``variables``."""
        try:
            text = self.lines[line_id]
        except KeyError:
            raise PromptError(f"unknown line id '{line_id}' in {self.locale}") from None
        return _fill(text, variables or {}, f"line '{line_id}'")

    def _variants(self, prompt_id: str) -> tuple[str, ...]:
        try:
            return self.prompts[prompt_id]
        except KeyError:
            raise PromptError(f"unknown prompt id '{prompt_id}' in {self.locale}") from None


def load_catalogs(
    root: Path | None = None, locales: Iterable[str] = LOCALES
) -> dict[str, PromptCatalog]:
    """Every locale's catalog, keyed by locale."""
    return {loc: PromptCatalog.load(loc, root) for loc in locales}


def validate_catalogs(
    flow: _HasPromptIds, root: Path | None = None, locales: Iterable[str] = LOCALES
) -> dict[str, PromptCatalog]:
    """Check that every prompt the flow plays, and every line, exists in every
    locale, with the same placeholders everywhere (a translation must not need
    other data).

    Returns the loaded catalogs; raises :class:`PromptError` naming every problem.
    """
    catalogs = load_catalogs(root, locales)
    problems: list[str] = []
    for prompt_id in sorted(flow.prompt_ids()):
        for loc, cat in catalogs.items():
            if prompt_id not in cat.prompts:
                problems.append(f"prompt '{prompt_id}' is missing in {loc}")
    all_ids = set().union(*(c.ids() for c in catalogs.values())) if catalogs else set()
    for prompt_id in sorted(all_ids):
        shapes = {
            loc: cat.placeholders(prompt_id)
            for loc, cat in catalogs.items()
            if prompt_id in cat.prompts
        }
        problems += _mismatched("prompt", prompt_id, shapes)
    problems += _line_problems(catalogs)
    if problems:
        raise PromptError("; ".join(problems))
    return catalogs


def _line_problems(catalogs: Mapping[str, PromptCatalog]) -> list[str]:
    """Every locale has every line, with the same placeholders (as for prompts)."""
    problems: list[str] = []
    all_ids = set().union(*(c.lines for c in catalogs.values())) if catalogs else set()
    for line_id in sorted(all_ids):
        shapes: dict[str, frozenset[str]] = {}
        for loc, cat in catalogs.items():
            if line_id in cat.lines:
                shapes[loc] = frozenset(_placeholders_of(cat.lines[line_id], f"line '{line_id}'"))
            else:
                problems.append(f"line '{line_id}' is missing in {loc}")
        problems += _mismatched("line", line_id, shapes)
    return problems


def _mismatched(kind: str, text_id: str, shapes: Mapping[str, frozenset[str]]) -> list[str]:
    """The problem, if any, of one prompt or line whose locales use different placeholders."""
    if len(set(shapes.values())) <= 1:
        return []
    detail = "; ".join(f"{loc}: {sorted(v)}" for loc, v in shapes.items())
    return [f"{kind} '{text_id}' has different placeholders ({detail})"]
