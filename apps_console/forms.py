"""Console forms. Validation that belongs to a service (app names, orders) stays in the service;
the forms only shape the input and give clear messages in the user's language."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps_console.labels import api_title
from billing.orders import MAX_QUANTITY
from facegate.apis import APIS
from gateway.models import APP_NAME_MAX, APP_NAME_MIN, Application


def api_choices() -> list[tuple[str, str]]:
    # Evaluated at render time (callable choices), so the titles follow the active language.
    return [(name, api_title(name)) for name in APIS]


def tier_choices() -> list[tuple[str, str]]:
    return [(key, _("%(calls)s calls — %(price)s %(currency)s") % {
                "calls": f"{calls:,}", "price": f"{price:,.2f}", "currency": settings.FACEGATE_CURRENCY})
            for key, (calls, price) in settings.FACEGATE_PACK_TIERS.items()]


class CreateAppForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), min_length=APP_NAME_MIN, max_length=APP_NAME_MAX, strip=True,
        error_messages={"min_length": _("The name must be 4 to 15 characters long."),
                        "max_length": _("The name must be 4 to 15 characters long."),
                        "required": _("Please enter a name.")},
        widget=forms.TextInput(attrs={"maxlength": 15, "autocomplete": "off"}),
    )
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class BuyForm(forms.Form):
    application = forms.ModelChoiceField(label=_("Application"), queryset=Application.objects.none())
    api = forms.ChoiceField(label=_("API"), choices=api_choices)
    tier = forms.ChoiceField(label=_("Tier"), choices=tier_choices)
    quantity = forms.IntegerField(label=_("Number of packs"), min_value=1, max_value=MAX_QUANTITY, initial=1)

    def __init__(self, *args, apps=None, **kwargs):
        super().__init__(*args, **kwargs)
        if apps is not None:
            self.fields["application"].queryset = apps
        self.fields["application"].label_from_instance = lambda app: app.name


class AlertRuleForm(forms.Form):
    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    threshold = forms.FloatField(label=_("Threshold"), min_value=0)
    webhook_url = forms.URLField(label=_("Webhook URL"), required=False, assume_scheme="https")

