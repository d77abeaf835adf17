"""Hash chain over audit events (pure Python).

Each event's hash is HMAC-SHA-256, under a key kept outside the database, over its
own fields and the previous event's hash, so editing, deleting or reordering any
stored event breaks every later link (Crosby and Wallach, USENIX Security 2009;
see security-reliability.md §2c), and the chain cannot be recomputed without the key.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64

CHAINED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "actor_role",
    "patient_id",
    "action",
    "information",
    "object_type",
    "object_id",
    "summary",
    "detail",
    "ip_address",
    "user_agent",
    "request_id",
)


def event_hash(fields: Mapping[str, Any], prev_hash: str, key: str) -> str:
    payload = {name: fields[name] for name in CHAINED_FIELDS}
    payload["prev_hash"] = prev_hash
    blob = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hmac.new(key.encode(), blob.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def find_first_break(
    events: Iterable[tuple[Mapping[str, Any], str, str]],
    *,
    head_seq: int,
    head_hash: str,
    key: str,
) -> ChainBreak | None:
    """Walk (fields, prev_hash, hash) in seq order; return the first broken link.

    Checks that sequence numbers run 1, 2, 3... with no gap (a deleted event),
    that each event points at its predecessor's hash, that each stored hash matches
    its fields (an edited event), and that the chain reaches the head (the newest
    events deleted). Events past the head are the caller's to check.
    """
    expected_seq = 1
    prev = GENESIS_HASH
    for fields, prev_hash, stored_hash in events:
        seq = int(fields["seq"])
        if seq != expected_seq:
            return ChainBreak(expected_seq, f"event #{expected_seq} is missing")
        if not hmac.compare_digest(prev_hash, prev):
            return ChainBreak(seq, f"event #{seq} does not follow event #{seq - 1}")
        if not hmac.compare_digest(event_hash(fields, prev_hash, key), stored_hash):
            return ChainBreak(seq, f"event #{seq} was changed after it was written")
        prev = stored_hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if last_seq < head_seq:
        return ChainBreak(
            last_seq + 1, f"events #{last_seq + 1} to #{head_seq} are missing"
        )
    if not hmac.compare_digest(prev, head_hash):
        return ChainBreak(last_seq, f"event #{last_seq} does not match the chain head")
    return None
