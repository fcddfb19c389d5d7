"""Routes of the web console, mounted at /console/."""
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.static import serve

from apps_console.views import account, alerts, apps, buy, library, monitor, reference, tryit

app_name = "console"
urlpatterns = [
    path("login/", account.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", apps.app_list, name="home"),
    path("apps/", apps.app_list, name="apps"),
    path("apps/new/", apps.app_create, name="app-create"),
    path("apps/<int:app_id>/", apps.app_detail, name="app-detail"),
    path("apps/<int:app_id>/rotate/", apps.app_rotate, name="app-rotate"),
    path("apps/<int:app_id>/status/", apps.app_status, name="app-status"),
    path("apps/<int:app_id>/delete/", apps.app_delete, name="app-delete"),
    path("apps/<int:app_id>/alert-rules/", alerts.alert_rules, name="alert-rules"),
    path("buy/", buy.buy, name="buy"),
    path("orders/", buy.order_list, name="orders"),
    path("orders/<int:order_id>/", buy.order_detail, name="order-detail"),
    path("orders/<int:order_id>/pay/", buy.order_pay, name="order-pay"),
    path("orders/<int:order_id>/cancel/", buy.order_cancel, name="order-cancel"),
    path("account/password/", account.password_change, name="password"),
    path("account/activity/", account.audit_log, name="audit"),
    path("monitoring/", monitor.monitoring_page, name="monitoring"),
    path("monitoring/data/", monitor.monitoring_data, name="monitoring-data"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/ack/", alerts.alert_ack, name="alert-ack"),
    path("try/", tryit.tryit_page, name="tryit"),
    path("try/run/", tryit.tryit_run, name="tryit-run"),
    path("library/", library.library_page, name="library"),
    path("library/<int:app_id>/<slug:action>/", library.library_action, name="library-action"),
    path("reference/", reference.reference_page, name="reference"),
    # The console's own CSS/JS and the vendored chart library, served by Django itself so the
    # console works offline under any server set-up (no CDN, no separate static server needed).
    path("assets/<path:path>", serve, {"document_root": settings.BASE_DIR / "static"}, name="asset"),
]
