from django.apps import AppConfig


class AppsConsoleConfig(AppConfig):
    name = "apps_console"
    verbose_name = "Web console"
