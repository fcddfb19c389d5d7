"""facegate: the Django project (settings, URLs, Celery app) and the `facegate` command line.

This package's top level stays free of Django imports so that `facegate.apis` and
`facegate.errors` can be shared with the Django-free face backend.
"""
