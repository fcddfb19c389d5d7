"""How many calls a request asks for, and how many of them its reply charges (pure; one definition).

One call per image-API request; a batch compare ({"pairs": [...]}) one per pair; a library operation
what LIBRARY_OPS says (one per item of a batch enrolment). The reply decides what is charged: for a
batch, each item whose code is chargeable; otherwise all or nothing by the reply's code.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from facegate.apis import LIBRARY, LIBRARY_OPS, MAX_BATCH_ITEMS, MAX_COMPARE_PAIRS
from facegate.errors import CHARGEABLE_CODES, SUCCESS

# The backend refuses larger batches (4102), so no more is ever reserved.
MAX_BATCH_UNITS = max(MAX_BATCH_ITEMS, MAX_COMPARE_PAIRS)


@dataclass(frozen=True)
class Metering:
    units: int  # calls to reserve before forwarding; 0 for free operations
    batch_field: str = ""  # the body's (and the reply's) list of items, for a batch


def _batch_length(body: bytes, field: str) -> int:
    """Items in the body's list `field`; 1 when there is no such list (the backend refuses it)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return 1
    items = data.get(field) if isinstance(data, dict) else None
    return min(max(len(items), 1), MAX_BATCH_UNITS) if isinstance(items, list) else 1


def plan(api: str, op: str, body: bytes) -> Metering:
    """What a request costs at most, from its API, library operation and body."""
    if api == LIBRARY:
        cost = LIBRARY_OPS[op]
        return Metering(_batch_length(body, "items"), "items") if cost == "items" else Metering(int(cost))
    if api == "compare" and b'"pairs"' in body:  # a cheap test first: only batch bodies are parsed
        return Metering(_batch_length(body, "pairs"), "pairs")
    return Metering(1)


def charged_units(metering: Metering, reply: dict[str, Any]) -> int:
    """Of the reserved calls, how many the backend's wire reply charges."""
    code = str(reply.get("code", ""))
    if not metering.batch_field or code != SUCCESS:
        return metering.units if code in CHARGEABLE_CODES else 0
    result = reply.get("result")
    items = result.get(metering.batch_field) if isinstance(result, dict) else result
    if not isinstance(items, list):
        return 0
    return min(metering.units, sum(1 for item in items
                                   if isinstance(item, dict) and str(item.get("code", "")) in CHARGEABLE_CODES))
