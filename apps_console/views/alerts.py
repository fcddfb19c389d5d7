"""Alerts: the raised alerts (time, rule, values, app), acknowledge, and the alert rules per app."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps_console.access import get_app, visible_alerts, visible_apps
from apps_console.forms import AlertRuleForm
from monitoring import alerts as alert_service
from monitoring import queries
from monitoring.models import AlertRule


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    items = queries.alert_list(visible_apps(request.user), include_acknowledged=(show != "open"), limit=300)
    return render(request, "console/alert_list.html", {"alerts": items, "show": show})


@login_required
@require_POST
def alert_ack(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(visible_alerts(request.user), pk=alert_id)
    if alert.acknowledged_at is None:
        alert_service.acknowledge(alert, request.user)
        messages.success(request, _("Alert acknowledged."))
    target = request.POST.get("next", "")
    # Only a path on this site: an acknowledge form must not become an open redirect.
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "console:alerts"
    return redirect(target)


def _save_rules(forms: list[tuple[AlertRule, AlertRuleForm]], actor: Any) -> bool:
    """Save every rule or none; a rule the service refuses (e.g. a webhook address it does not allow)
    puts the reason on that rule's form instead of a 500."""
    try:
        with transaction.atomic():
            for rule, form in forms:
                failing = form
                alert_service.update_rule(rule, **form.cleaned_data, actor=actor)
    except ValidationError:
        failing.add_error("webhook_url", _("This address cannot receive alerts: use a public http(s) URL."))
        return False
    return True


@login_required
def alert_rules(request: HttpRequest, app_id: int) -> HttpResponse:
    app = get_app(request.user, app_id)
    rules = alert_service.rules_for(app)
    forms = [(rule, AlertRuleForm(request.POST or None, prefix=rule.kind,
                                  initial={"enabled": rule.enabled, "threshold": rule.threshold,
                                           "webhook_url": rule.webhook_url}))
             for rule in rules]
    if request.method == "POST":
        if all(form.is_valid() for _rule, form in forms) and _save_rules(forms, request.user):
            messages.success(request, _("Alert rules saved."))
            return redirect("console:alert-rules", app_id=app.pk)
        return render(request, "console/alert_rules.html", {"app": app, "forms": forms}, status=400)
    return render(request, "console/alert_rules.html", {"app": app, "forms": forms})
