"""Alert rules per application: checking them, raising each condition once, acknowledging, and the
optional webhook.

Raised once: no new Alert while an unacknowledged one of the same (app, kind, api) exists. After an
acknowledgement, rate rules (error rate, p95, quota exhausted) only look at calls after it, and
standing conditions (pack low, pack expiring) carry a key of the packs involved, so the same packs
never alert twice; buying a new pack makes a new condition.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record
from billing.models import ResourcePack
from facegate import errors
from facegate.apis import API_NAMES
from gateway.models import Application
from monitoring.models import LATENCY_BUCKETS_MS, Alert, AlertRule, CallRecord, MinuteRollup
from monitoring.percentiles import merge_buckets, percentile
from monitoring.webhooks import WebhookRefused, deliver, validate_url

log = logging.getLogger(__name__)
Kind = AlertRule.Kind

RATE_WINDOW = timedelta(minutes=5)


def min_calls() -> int:
    """Calls needed in the window before error rate or p95 can alert: 1 error in 3 calls is noise."""
    return int(getattr(settings, "FACEGATE_ALERT_MIN_CALLS", 20))


@dataclass
class Finding:
    api: str
    message: str
    values: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # identifies a standing condition (pack ids); "" for rate rules


# ---- rules ----------------------------------------------------------------------------------

def rules_for(app: Application) -> list[AlertRule]:
    """The app's rules, one per kind, creating the default ones on first use."""
    rules = {r.kind: r for r in AlertRule.objects.filter(application=app)}
    missing = [AlertRule(application=app, kind=k, threshold=AlertRule.DEFAULT_THRESHOLDS[k])
               for k in Kind.values if k not in rules]
    if missing:
        AlertRule.objects.bulk_create(missing, ignore_conflicts=True)  # a racing worker may win
        rules = {r.kind: r for r in AlertRule.objects.filter(application=app)}
    return [rules[k] for k in Kind.values]


def update_rule(rule: AlertRule, threshold: float | None = None, enabled: bool | None = None,
                webhook_url: str | None = None, actor: Any = None) -> AlertRule:
    before = (rule.threshold, rule.enabled, rule.webhook_url)
    if threshold is not None:
        if float(threshold) < 0:
            raise ValidationError("threshold must be zero or more")
        rule.threshold = float(threshold)
    if enabled is not None:
        rule.enabled = bool(enabled)
    if webhook_url is not None:
        webhook_url = webhook_url.strip()
        if webhook_url:
            URLValidator(schemes=["http", "https"])(webhook_url)
            try:
                validate_url(webhook_url)
            except WebhookRefused as exc:
                raise ValidationError(f"webhook URL refused: {exc}") from None
        rule.webhook_url = webhook_url
    with transaction.atomic():
        rule.save()
        if (rule.threshold, rule.enabled, rule.webhook_url) != before:
            record(AuditEvent.Action.RULE_CHANGED, actor, rule.application, kind=rule.kind,
                   threshold=rule.threshold, enabled=rule.enabled,
                   webhook=bool(rule.webhook_url))  # a webhook URL may carry a token: not logged
    return rule


def acknowledge(alert: Alert, user: Any) -> Alert:
    """Mark acknowledged; a second acknowledgement keeps the first time and user."""
    Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user if getattr(user, "pk", None) else None)
    alert.refresh_from_db()
    return alert


# ---- checks ---------------------------------------------------------------------------------

def _last_ack(app_id: int, kind: str, api: str) -> datetime | None:
    return (Alert.objects.filter(application_id=app_id, kind=kind, api=api, acknowledged_at__isnull=False)
            .order_by("-acknowledged_at").values_list("acknowledged_at", flat=True).first())


def _window_rollups(app_id: int, kind: str, api: str, now: datetime) -> list[dict]:
    """Rollups of the last 5 minutes (current one included), only minutes after the last ack."""
    start = now.replace(second=0, microsecond=0) - RATE_WINDOW + timedelta(minutes=1)
    qs = MinuteRollup.objects.filter(application_id=app_id, api=api, minute__gte=start)
    ack = _last_ack(app_id, kind, api)
    if ack is not None:
        qs = qs.filter(minute__gt=ack)
    return list(qs.values("count", "errors", "latency_buckets", "latency_max_ms"))


def check_error_rate(rule: AlertRule, api: str, now: datetime) -> Finding | None:
    rows = _window_rollups(rule.application_id, rule.kind, api, now)
    count = sum(r["count"] for r in rows)
    errs = sum(r["errors"] for r in rows)
    if count < min_calls() or errs * 100.0 / count <= rule.threshold:
        return None
    rate = round(errs * 100.0 / count, 2)
    return Finding(api, f"{api}: error rate {rate}% over {rule.threshold:g}% in 5 minutes ({errs}/{count} calls)",
                   {"error_rate_pct": rate, "errors": errs, "calls": count, "threshold": rule.threshold})


def check_latency(rule: AlertRule, api: str, now: datetime) -> Finding | None:
    rows = _window_rollups(rule.application_id, rule.kind, api, now)
    count = sum(r["count"] for r in rows)
    if count < min_calls():
        return None
    buckets = [0] * len(LATENCY_BUCKETS_MS)
    for r in rows:
        merge_buckets(buckets, r["latency_buckets"])
    p95 = percentile(buckets, 0.95, max(r["latency_max_ms"] for r in rows))
    if p95 is None or p95 <= rule.threshold:
        return None
    return Finding(api, f"{api}: p95 latency {p95:.0f} ms over {rule.threshold:g} ms in 5 minutes",
                   {"p95_ms": round(p95, 1), "calls": count, "threshold": rule.threshold})


def check_quota_exhausted(rule: AlertRule, api: str, now: datetime) -> Finding | None:
    since = now - RATE_WINDOW
    ack = _last_ack(rule.application_id, rule.kind, api)
    if ack is not None and ack > since:
        since = ack
    n = CallRecord.objects.filter(application_id=rule.application_id, api=api, code=errors.NO_QUOTA,
                                  created_at__gt=since).count()
    if not n:
        return None
    return Finding(api, f"{api}: quota exhausted, {n} call(s) refused with {errors.NO_QUOTA}",
                   {"refused_calls": n, "since": since.isoformat()})


def check_pack_low(rule: AlertRule, api: str, now: datetime) -> Finding | None:
    packs = ResourcePack.objects.active(rule.application_id, now, api)
    agg = packs.aggregate(total=Sum("calls_total"), used=Sum("calls_used"))
    total, used = agg["total"] or 0, agg["used"] or 0
    if not total:
        return None
    left_pct = (total - used) * 100.0 / total
    if left_pct >= rule.threshold:
        return None
    ids = sorted(packs.values_list("pk", flat=True))
    return Finding(api, f"{api}: {left_pct:.1f}% of pack calls left ({total - used} of {total})",
                   {"left_pct": round(left_pct, 2), "calls_left": total - used, "calls_total": total,
                    "pack_ids": ids, "threshold": rule.threshold}, key="packs:" + ",".join(map(str, ids)))


def check_pack_expiring(rule: AlertRule, api: str, now: datetime) -> Finding | None:
    soon = (ResourcePack.objects.active(rule.application_id, now, api)
            .filter(expires_at__lte=now + timedelta(days=rule.threshold), calls_used__lt=F("calls_total"))
            .order_by("expires_at"))
    rows = list(soon.values("pk", "expires_at", "calls_total", "calls_used"))
    if not rows:
        return None
    left = sum(r["calls_total"] - r["calls_used"] for r in rows)
    first = rows[0]["expires_at"]
    ids = [r["pk"] for r in rows]
    return Finding(api, f"{api}: {left} unused calls in {len(rows)} pack(s) expire by {first:%Y-%m-%d}",
                   {"pack_ids": ids, "calls_left": left, "expires_at": first.isoformat(),
                    "days_left": round((first - now).total_seconds() / 86400, 1), "threshold": rule.threshold},
                   key="packs:" + ",".join(map(str, ids)))


CHECKS = {
    Kind.PACK_LOW: check_pack_low,
    Kind.PACK_EXPIRING: check_pack_expiring,
    Kind.ERROR_RATE: check_error_rate,
    Kind.LATENCY_P95: check_latency,
    Kind.QUOTA_EXHAUSTED: check_quota_exhausted,
}


# ---- raising --------------------------------------------------------------------------------

def _raise(rule: AlertRule, finding: Finding, now: datetime) -> Alert | None:
    with transaction.atomic():
        # Locking the rule row serialises workers that found the same condition at once.
        AlertRule.objects.select_for_update().filter(pk=rule.pk).first()
        same = Alert.objects.filter(application_id=rule.application_id, kind=rule.kind, api=finding.api)
        if same.filter(acknowledged_at__isnull=True).exists():
            return None
        if finding.key and same.filter(values__key=finding.key).exists():
            return None
        return Alert.objects.create(rule=rule, application_id=rule.application_id, kind=rule.kind,
                                    api=finding.api, message=finding.message,
                                    values={**finding.values, "key": finding.key} if finding.key else finding.values,
                                    raised_at=now)


def _run(app: Application, kinds: list[str], apis: tuple[str, ...], now: datetime) -> list[Alert]:
    raised = []
    for rule in rules_for(app):
        if not rule.enabled or rule.kind not in kinds:
            continue
        for api in apis:
            finding = CHECKS[rule.kind](rule, api, now)
            alert = _raise(rule, finding, now) if finding else None
            if alert is not None:
                log.warning("alert %s for app %s: %s", alert.kind, app.app_key, alert.message)
                raised.append(alert)
                if rule.webhook_url:
                    send_webhook(alert, rule.webhook_url)
    return raised


def evaluate(app: Application | None = None, now: datetime | None = None) -> list[Alert]:
    """Check every rule of one app, or of every active app; returns the alerts newly raised."""
    now = now or timezone.now()
    apps = [app] if app is not None else Application.objects.filter(status=Application.Status.ACTIVE)
    raised: list[Alert] = []
    for one in apps:
        raised += _run(one, list(Kind.values), API_NAMES, now)
    return raised


def evaluate_call(app_id: int, api: str, code: str, now: datetime | None = None) -> list[Alert]:
    """The rules one recorded call could trip: quota exhausted on 4291 (always), and error rate,
    p95 and (for a charged call) pack low at most once per FACEGATE_ALERT_CHECK_SECONDS per
    (app, API): at hundreds of calls a second, checking after every call would double the cost of
    recording it, and the periodic check catches anything skipped within a minute."""
    app = Application.objects.filter(pk=app_id).first()
    if app is None:
        return []
    kinds = [Kind.QUOTA_EXHAUSTED] if code == errors.NO_QUOTA else []
    if _check_due(app_id, api):
        kinds += [Kind.ERROR_RATE, Kind.LATENCY_P95]
        if code in errors.CHARGEABLE_CODES:
            kinds.append(Kind.PACK_LOW)
    return _run(app, kinds, (api,), now or timezone.now()) if kinds else []


def _check_due(app_id: int, api: str) -> bool:
    interval = float(getattr(settings, "FACEGATE_ALERT_CHECK_SECONDS", 5))
    # cache.add is atomic (Redis SET NX when REDIS_URL is set; per process otherwise).
    return interval <= 0 or cache.add(f"facegate:alert-check:{app_id}:{api}", 1, timeout=interval)


# ---- webhook --------------------------------------------------------------------------------

def send_webhook(alert: Alert, url: str) -> str:
    """POST the alert as JSON (monitoring.webhooks: public addresses only, time-boxed); the outcome
    and its time go to the alert. Never raises: a dead receiver must not lose the alert or the call
    record that raised it."""
    payload = {
        "alert_id": alert.pk, "app_key": alert.application.app_key, "app_name": alert.application.name,
        "kind": alert.kind, "api": alert.api, "message": alert.message, "values": alert.values,
        "raised_at": alert.raised_at.isoformat(),
    }
    status = deliver(url, payload)[:64]
    if status.startswith(("refused", "error")):
        log.warning("webhook for alert %s: %s", alert.pk, status)
    alert.webhook_status, alert.webhook_attempted_at = status, timezone.now()
    Alert.objects.filter(pk=alert.pk).update(webhook_status=status, webhook_attempted_at=alert.webhook_attempted_at)
    return status
