from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from apps_console.views.account import SignInView
from gateway.views import FaceApiView, healthz
from monitoring.views import metrics

urlpatterns = [
    path("v1/aiop/api/<str:service_code>/<path:api_path>", FaceApiView.as_view(), name="face-api"),
    path("console/", include("apps_console.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("metrics", metrics, name="metrics"),
    path("healthz", healthz, name="healthz"),
    # The admin signs in through the console's throttled sign-in (then returns to ?next=/admin/…).
    path("admin/login/", SignInView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/console/", permanent=False)),
]
