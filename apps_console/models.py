"""Console-side records: failed sign-ins, kept in the database so a lock holds across every gateway
process and restart (the cache may be per-process memory when Redis is not configured)."""
from __future__ import annotations

from django.db import models


class SignInFailure(models.Model):
    # "account:<e-mail>" or "address:<ip>": one row per failed attempt, pruned after the window.
    key = models.CharField(max_length=200)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["key", "at"])]
