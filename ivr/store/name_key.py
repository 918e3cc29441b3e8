"""A person's name as the search compares it: lower case, accents dropped,
spaces collapsed ("JOSÉ  da Conceição" -> "jose da conceicao").

Kept in ``debtors.name_key`` (written with the name by the ORM and the
importer) so a search is one ``LIKE`` on both SQLite and PostgreSQL, with no
database extension. The search matches the start of any word of the name,
so it reads the table, not an index (see migration ``0033_name_key_idx``).
"""

from __future__ import annotations

import unicodedata


def fold_name(name: str) -> str:
    """``name`` folded for case- and accent-insensitive comparison."""
    if name.isascii():  # most names: nothing to decompose, and casefold is lower
        return " ".join(name.lower().split())[:200]
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())[:200]
