"""The Celery app; configured from Django settings (CELERY_* keys)."""
from __future__ import annotations

import os

from celery import Celery

from facegate.config import private_umask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facegate.settings")
private_umask()  # the worker writes broker messages and the beat schedule into the data dir

app = Celery("facegate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
