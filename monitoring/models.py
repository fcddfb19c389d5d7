"""Per-call records, per-minute rollups, alert rules and raised alerts."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from facegate.apis import API_CHOICES
from gateway.models import Application


class CallRecord(models.Model):
    """One gateway call as the Celery task received it."""

    request_id = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="call_records")
    api = models.CharField(max_length=16, blank=True, default="")
    code = models.CharField(max_length=8)
    latency_ms = models.FloatField()
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["application", "api", "created_at"])]


# Latency histogram bucket upper bounds (ms) kept per minute, so p50/p95 of any period can be
# computed by adding minutes up.
LATENCY_BUCKETS_MS: tuple[float, ...] = (5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500,
                                         2000, 3000, 5000, 10000, 30000, float("inf"))


class CallAggregate(models.Model):
    """Counters of a set of calls; the fields monitoring.tasks adds one call to."""

    count = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    latency_sum_ms = models.FloatField(default=0)
    latency_max_ms = models.FloatField(default=0)
    latency_buckets = models.JSONField(default=list)  # counts per LATENCY_BUCKETS_MS bucket
    codes = models.JSONField(default=dict)  # {"0": n, "4105": n, ...}
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class MinuteRollup(CallAggregate):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="rollups")
    api = models.CharField(max_length=16, choices=API_CHOICES)
    minute = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "api", "minute"], name="one_rollup_per_minute")]


class ApiTotal(CallAggregate):
    """All-time counters per (app, API), updated with the rollups: /metrics reads a handful of rows
    instead of summing every minute, and the counters stay monotonic when old rollups are pruned."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="api_totals")
    api = models.CharField(max_length=16, choices=API_CHOICES)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "api"], name="one_total_per_api")]


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        PACK_LOW = "pack_low", "Pack under threshold % left"
        PACK_EXPIRING = "pack_expiring", "Pack expiring within threshold days"
        ERROR_RATE = "error_rate", "Error rate over threshold % in 5 minutes"
        LATENCY_P95 = "latency_p95", "p95 latency over threshold ms in 5 minutes"
        QUOTA_EXHAUSTED = "quota_exhausted", "Quota exhausted"

    DEFAULT_THRESHOLDS = {"pack_low": 10.0, "pack_expiring": 30.0, "error_rate": 5.0, "latency_p95": 2000.0,
                          "quota_exhausted": 0.0}

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    threshold = models.FloatField()
    enabled = models.BooleanField(default=True)
    webhook_url = models.URLField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "kind"], name="one_rule_per_kind")]


class Alert(models.Model):
    """A raised alert; raised once per condition and kept until acknowledged."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertRule.Kind.choices)
    api = models.CharField(max_length=16, blank=True, default="")
    message = models.TextField()
    values = models.JSONField(default=dict)
    raised_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    # Outcome of the webhook delivery ("HTTP 204", "refused: ...", "error: Timeout") and when it was tried.
    webhook_status = models.CharField(max_length=64, blank=True, default="")
    webhook_attempted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
