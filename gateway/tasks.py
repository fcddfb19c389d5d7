"""Celery tasks of the gateway: keeping the replay cache to its one lifetime (gateway.replay)."""
from __future__ import annotations

from celery import shared_task

from gateway import replay


@shared_task(name="gateway.prune_replay_cache", ignore_result=True)
def prune_replay_cache() -> int:
    """Periodic (Celery beat): delete accepted signs that can no longer pass the timestamp check."""
    return replay.prune()
