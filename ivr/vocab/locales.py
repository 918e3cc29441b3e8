"""The languages the service speaks, as BCP 47 tags.

* ``pt-BR`` -- Brazilian Portuguese, the default.
* ``en-US`` -- US English.

A locale picks the prompts, grammars and voice of a call, the words spoken
around a transfer, and the agents who may take it. Settings, the API, the
importer and the CLI accept exactly these.
"""

from __future__ import annotations

import enum


class Locale(enum.StrEnum):
    PT_BR = "pt-BR"
    EN_US = "en-US"


DEFAULT_LOCALE = Locale.PT_BR

#: Every supported locale as plain strings, the default first (prompt folders,
#: messages, ``choices=`` lists).
LOCALES: tuple[str, ...] = tuple(locale.value for locale in Locale)
