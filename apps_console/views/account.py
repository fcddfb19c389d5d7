"""Signing in (throttled by account and address), changing the password, and the audit log."""
from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps_console import signin
from audit.models import AuditEvent
from audit.selectors import events_for
from audit.services import record


def locked_message(minutes: int) -> str:
    return ngettext("Too many failed sign-ins. Try again in %(n)d minute.",
                    "Too many failed sign-ins. Try again in %(n)d minutes.", minutes) % {"n": minutes}


class SignInView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True

    def _who(self) -> tuple[str, str]:
        return self.request.POST.get("username", ""), self.request.META.get("REMOTE_ADDR", "")

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        until = signin.locked_until(*self._who())
        if until is not None:
            minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
            # An unbound form: the password is not checked at all while locked.
            form = self.get_form_class()(request=request, initial={"username": self._who()[0]})
            return self.render_to_response(self.get_context_data(form=form, locked=locked_message(minutes)),
                                           status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        signin.record_failure(*self._who())
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        signin.record_success(self._who()[0])
        return super().form_valid(form)



@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # stay signed in here; other sessions end
        record(AuditEvent.Action.PASSWORD_CHANGED, user, owner=user)
        messages.success(request, _("Your password has been changed."))
        return redirect("console:password")
    return render(request, "console/password.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    return render(request, "console/audit.html", {"events": events_for(request.user)})
