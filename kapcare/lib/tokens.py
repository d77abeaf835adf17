"""Tokens for links sent by email (invitations, questionnaires).

The link carries 256 random bits; the database keeps only their SHA-256, so a
copy of the database cannot be turned back into working links, and looking a
token up by its hash needs no timing-sensitive comparison.
"""

import hashlib
import secrets


def new_link_token() -> tuple[str, str]:
    """Return (token for the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
