"""The last digits of a debtor's document number, as a verification factor.

A call may ask for the last digits of the document number imported with the
debtor (CPF, Social Security number) before it says anything about a debt.
The whole number is never stored: the importer keeps only a salted hash of
its last :data:`DIGITS` digits, and the call compares what the caller keys
against that hash. Four digits are few (a determined reader of the database
could try all 10,000), so the hash keeps them out of sight rather than out
of reach; what matters is that no copy of the full number exists here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

DIGITS = 4
_SCHEME = "s256"


class DocumentInvalid(ValueError):
    """The document column holds fewer digits than a check needs."""


def document_tail(raw: str) -> str:
    """The last :data:`DIGITS` digits of a document number written any way
    ("123.456.789-09", "123-45-6789"); never echoes the number in an error."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) < DIGITS:
        raise DocumentInvalid(f"document has fewer than {DIGITS} digits")
    return digits[-DIGITS:]


def hash_tail(tail: str, salt: str | None = None) -> str:
    """``s256$<salt>$<sha256(salt + tail)>``: what the store keeps."""
    salt = salt if salt is not None else secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}{tail}".encode()).hexdigest()
    return f"{_SCHEME}${salt}${digest}"


def hash_document(raw: str) -> str:
    """The stored form of a document number: a salted hash of its last digits."""
    return hash_tail(document_tail(raw))


def tail_matches(entry: str, stored: str | None) -> bool:
    """Whether the digits the caller keyed are the stored document's last digits."""
    if not stored or len(entry) != DIGITS or not entry.isdigit():
        return False
    scheme, _, rest = stored.partition("$")
    salt, _, _ = rest.partition("$")
    if scheme != _SCHEME or not salt:
        return False
    return hmac.compare_digest(hash_tail(entry, salt), stored)
