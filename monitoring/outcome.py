"""CallOutcome: what monitoring records of one gateway call (the pipeline makes it, the worker stores it)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from facegate.apis import API_NAMES


@dataclass(frozen=True)
class CallOutcome:
    request_id: str
    app_id: int | None
    api: str
    code: str
    latency_ms: float
    bytes_in: int
    bytes_out: int
    ts: float  # epoch seconds when the call arrived
    signed: bool = True  # the Sign verified (an authenticated caller)

    def as_record(self) -> dict[str, Any]:
        """The Celery task payload (plain JSON types)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "CallOutcome":
        """A payload read back, normalised and bounded to the columns' sizes."""
        return cls(
            request_id=str(record["request_id"])[:64], app_id=record.get("app_id"),
            api=str(record.get("api") or "")[:16], code=str(record["code"])[:8],
            latency_ms=max(0.0, float(record.get("latency_ms") or 0.0)),
            bytes_in=int(record.get("bytes_in") or 0), bytes_out=int(record.get("bytes_out") or 0),
            ts=float(record["ts"]), signed=bool(record.get("signed", True)),
        )

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.ts, tz=dt_timezone.utc)

    @property
    def has_dashboard(self) -> bool:
        # Calls without an app (bad AppKey) or API (unknown path) have no dashboard to go to.
        return self.app_id is not None and self.api in API_NAMES
