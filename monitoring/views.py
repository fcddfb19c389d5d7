"""Placeholder until monitoring lands (issue 2)."""
from django.http import HttpResponse


def metrics(request):
    return HttpResponse("", content_type="text/plain")
