"""Placeholder until the console lands (issue 3)."""
from django.urls import path
from django.views.generic import TemplateView

app_name = "console"
urlpatterns = [path("", TemplateView.as_view(template_name="base.html"), name="home")]
