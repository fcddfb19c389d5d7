"""Placeholder until the gateway lands (issue 2)."""
from django.http import JsonResponse
from rest_framework.views import APIView


class FaceApiView(APIView):
    pass


def healthz(request):
    return JsonResponse({"status": "ok"})
