from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring: call metrics, rollups and alerts"

    def ready(self) -> None:
        # Bind shared tasks to our Celery app (broker from settings) in every Django process.
        import facegate.celery  # noqa: F401
