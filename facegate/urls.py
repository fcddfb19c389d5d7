from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from apps_console.views.account import SignInView
from gateway.schema import api_schema
from gateway.views import FaceApiView, healthz
from monitoring.views import metrics

urlpatterns = [
    # Every path that a client could mean as an API call (any case, repeated slashes) gets a wire
    # reply from the pipeline, never an HTML 404; only the canonical form names an API.
    re_path(r"^[/]*[vV]1/+[aA][iI][oO][pP]/+[aA][pP][iI](?:/.*)?$", FaceApiView.as_view(), name="face-api"),
    path("console/", include("apps_console.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", api_schema, name="api-schema"),
    path("metrics", metrics, name="metrics"),
    path("healthz", healthz, name="healthz"),
    # The admin signs in through the console's throttled sign-in (then returns to ?next=/admin/…).
    path("admin/login/", SignInView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/console/", permanent=False)),
]
