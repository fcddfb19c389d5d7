"""At-a-glance figures of an app for the console: per API, the calls left in live packs, their share
of what those packs held, and the days until the first of them (with calls left) expires."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from apps_console.labels import api_title
from billing.models import ResourcePack
from facegate.apis import APIS
from gateway.models import Application


@dataclass(frozen=True)
class ApiStanding:
    api: str
    title: str
    remaining: int
    total: int
    days_left: int | None  # days until the first live pack with calls left expires

    @property
    def percent_left(self) -> int:
        return round(self.remaining * 100 / self.total) if self.total else 0

    @property
    def level(self) -> str:
        """ok / low / empty: the bar's colour."""
        if not self.remaining:
            return "empty"
        return "low" if self.percent_left < 10 or (self.days_left is not None and self.days_left <= 7) else "ok"


def app_overview(app: Application, now: datetime | None = None) -> list[ApiStanding]:
    now = now or timezone.now()
    live = list(ResourcePack.objects.filter(application=app, starts_at__lte=now, expires_at__gt=now))
    out = []
    for name in APIS:
        packs = [p for p in live if p.api == name]
        with_calls = [p for p in packs if p.calls_left > 0]
        first = min((p.expires_at for p in with_calls), default=None)
        out.append(ApiStanding(
            api=name, title=api_title(name),
            remaining=sum(p.calls_left for p in packs), total=sum(p.calls_total for p in packs),
            days_left=None if first is None else max(0, (first - now).days),
        ))
    return out
