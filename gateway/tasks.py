"""Celery tasks of the gateway: keeping the replay cache to its one lifetime (gateway.replay), and
removing the face libraries of deleted apps until the backend confirms (gateway.library_admin)."""
from __future__ import annotations

from celery import shared_task

from gateway import library_admin, replay


@shared_task(name="gateway.prune_replay_cache", ignore_result=True)
def prune_replay_cache() -> int:
    """Periodic (Celery beat): delete accepted signs that can no longer pass the timestamp check."""
    return replay.prune()


@shared_task(name="gateway.purge_libraries", ignore_result=True)
def purge_libraries() -> int:
    """Periodic (Celery beat): retry removing deleted apps' face libraries; the apps still pending."""
    return library_admin.purge_deleted_apps()[1]
