"""Words the console shows for values stored as codes: alert kinds and messages, order statuses, API
titles, result codes with the next step to take. Models and services keep plain English (they belong
to other rooms and to logs); the console renders them in the user's language from the stored values."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import pgettext_lazy

from facegate import errors
from facegate.apis import APIS

ALERT_KINDS = {
    "pack_low": gettext_lazy("Pack under threshold (percent of calls left)"),
    "pack_expiring": gettext_lazy("Pack expiring within threshold days"),
    "error_rate": gettext_lazy("Error rate over threshold (percent) in 5 minutes"),
    "latency_p95": gettext_lazy("p95 latency over threshold ms in 5 minutes"),
    "quota_exhausted": gettext_lazy("Quota exhausted"),
}

# The status "created" and the column "Created" (a date) are different words in Chinese.
ORDER_STATUSES = {
    "created": pgettext_lazy("order status", "Awaiting payment"),
    "paid": pgettext_lazy("order status", "Paid"),
    "active": pgettext_lazy("order status", "Active"),
    "cancelled": pgettext_lazy("order status", "Cancelled"),
}

RESULT_CODES = {
    errors.SUCCESS: gettext_lazy("Success"),
    errors.MISSING_HEADERS: gettext_lazy("Missing AppKey, Timestamp or Sign header"),
    errors.UNKNOWN_APP: gettext_lazy("Unknown AppKey or disabled app"),
    errors.BAD_SIGN: gettext_lazy("Wrong signature"),
    errors.STALE_OR_REPLAYED: gettext_lazy("Timestamp too old, or request replayed"),
    errors.WRONG_SERVICE_CODE: gettext_lazy("Service code does not match the app or API"),
    errors.IMAGE_MISSING: gettext_lazy("Photo missing or empty"),
    errors.BAD_BODY: gettext_lazy("Request body is not valid JSON"),
    errors.IMAGE_TOO_LARGE: gettext_lazy("Photo over 2 MB"),
    errors.IMAGE_UNDECODABLE: gettext_lazy("Photo could not be read"),
    errors.NO_FACE: gettext_lazy("No face found"),
    errors.INTERNAL: gettext_lazy("Internal error"),
    errors.FACE_LIMIT_REACHED: gettext_lazy("The app's face library is full"),
    errors.LIBRARY_NOT_FOUND: gettext_lazy("Group, person or face not found"),
    errors.LIBRARY_EXISTS: gettext_lazy("Group or person already exists"),
    errors.NO_QUOTA: gettext_lazy("No calls left for this API"),
    errors.RATE_LIMITED: gettext_lazy("Too many requests"),
}

# The vendor's wire value of FaceAntiSpoofing for a live face (the other is "非活体人脸"); the page shows
# its own words for it in either language.
LIVE_FACE_WIRE_VALUE = "活体人脸"

NEXT_STEPS = {
    errors.UNKNOWN_APP: gettext_lazy("Enable the app on its page, then try again."),
    errors.IMAGE_MISSING: gettext_lazy("Choose a photo first."),
    errors.IMAGE_TOO_LARGE: gettext_lazy("Resize the photo to under 2 MB and try again."),
    errors.IMAGE_UNDECODABLE: gettext_lazy("Use a JPG, PNG or BMP photo."),
    errors.NO_FACE: gettext_lazy("Use a photo with a clear, front-facing face."),
    errors.NO_QUOTA: gettext_lazy("Buy a pack for this API."),
    errors.FACE_LIMIT_REACHED: gettext_lazy("Delete faces you no longer need, or ask the operator for a higher limit."),
    errors.LIBRARY_EXISTS: gettext_lazy("Choose another id, or add the photo to the existing person."),
    errors.RATE_LIMITED: gettext_lazy("Wait a moment and try again."),
    errors.INTERNAL: gettext_lazy("Try again; if it keeps failing, the server log says why."),
}


# The false accept rate a compare score implies (facegate.operating_points.far_band), in words.
FAR_TEXTS = {
    "1e-5": gettext_lazy("At most 1 in 100,000 pairs of strangers score this high."),
    "1e-4": gettext_lazy("At most 1 in 10,000 pairs of strangers score this high."),
    "1e-3": gettext_lazy("At most 1 in 1,000 pairs of strangers score this high."),
    "": gettext_lazy("More than 1 in 1,000 pairs of strangers score this high."),
}


def far_text(band: str) -> str:
    return str(FAR_TEXTS[band])


# A library operating point (facegate.operating_points.OPERATING_POINT_NAMES), in words.
OPERATING_POINT_WORDS = {
    "1e-3": gettext_lazy("1 in 1,000 strangers (finds more of the enrolled)"),
    "1e-4": gettext_lazy("1 in 10,000 strangers (default)"),
    "1e-5": gettext_lazy("1 in 100,000 strangers (strictest)"),
}


def far_words(point: str) -> str:
    return str(OPERATING_POINT_WORDS[point])


def lang_is_zh() -> bool:
    return (get_language() or "").startswith("zh")


def api_title(name: str) -> str:
    spec = APIS.get(name)
    if spec is None:
        return name
    return spec.title_zh if lang_is_zh() else spec.title_en


def code_label(code: str) -> str:
    return str(RESULT_CODES.get(str(code), _("Error")))


def thousands(value: Any) -> str:
    """12345 -> 12,345; 1234.5 -> 1,234.5 (one decimal at most); other values as they are."""
    if isinstance(value, bool) or value is None or value == "":
        return "" if value is None else str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{int(number):,}" if number == int(number) else f"{number:,.1f}"


def money(value: Any) -> str:
    """An amount with thousands separators and two decimals: 1234.5 -> 1,234.50."""
    try:
        return f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return str(value)


def local_time(value: Any) -> str:
    """An ISO timestamp (or datetime) as local 'Y-m-d H:i'."""
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is None:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


def alert_text(kind: str, api: str, values: dict[str, Any], fallback: str) -> str:
    """The alert's message in the user's language, from the values it was raised with."""
    v = values or {}
    args = {"api": api_title(api)}
    try:
        if kind == "error_rate":
            args.update(rate=thousands(v["error_rate_pct"]), threshold=thousands(v["threshold"]),
                        errors=thousands(v["errors"]), calls=thousands(v["calls"]))
            return _("%(api)s: error rate %(rate)s%% over %(threshold)s%% in 5 minutes "
                     "(%(errors)s of %(calls)s calls)") % args
        if kind == "latency_p95":
            args.update(p95=thousands(round(v["p95_ms"])), threshold=thousands(v["threshold"]),
                        calls=thousands(v["calls"]))
            return _("%(api)s: 95%% of calls took up to %(p95)s ms, over the %(threshold)s ms threshold, "
                     "in 5 minutes (%(calls)s calls)") % args
        if kind == "quota_exhausted":
            args.update(n=thousands(v["refused_calls"]), since=local_time(v["since"]))
            return _("%(api)s: no calls left; %(n)s call(s) refused since %(since)s") % args
        if kind == "pack_low":
            args.update(pct=thousands(v["left_pct"]), left=thousands(v["calls_left"]),
                        total=thousands(v["calls_total"]))
            return _("%(api)s: %(pct)s%% of pack calls left (%(left)s of %(total)s)") % args
        if kind == "pack_expiring":
            args.update(left=thousands(v["calls_left"]), packs=len(v["pack_ids"]),
                        date=local_time(v["expires_at"])[:10])
            return _("%(api)s: %(left)s unused calls in %(packs)s pack(s) expire on %(date)s") % args
    except (KeyError, TypeError, ValueError):
        pass
    return fallback


AUDIT_ACTIONS = {
    "app_created": gettext_lazy("App created"),
    "secret_rotated": gettext_lazy("AppSecret rotated"),
    "app_disabled": gettext_lazy("App disabled"),
    "app_enabled": gettext_lazy("App enabled"),
    "app_deleted": gettext_lazy("App deleted"),
    "library_settings": gettext_lazy("Face library settings changed"),
    "order_paid": gettext_lazy("Order paid"),
    "order_cancelled": gettext_lazy("Order cancelled"),
    "pack_granted": gettext_lazy("Pack granted"),
    "rule_changed": gettext_lazy("Alert rule changed"),
    "password_changed": gettext_lazy("Password changed"),
}


LIBRARY_SETTING_NAMES = {
    "face_limit": gettext_lazy("face limit"),
    "operating_point": gettext_lazy("operating point (FAR)"),
    "store_photos": gettext_lazy("keep photos"),
}


def audit_text(action: str, details: dict[str, Any]) -> str:
    """What an audit event changed, in words; "" when the action says it all."""
    d = details or {}
    try:
        if action in ("order_paid", "order_cancelled"):
            return _("Order #%(order)s · %(amount)s %(currency)s") % {
                "order": d["order"], "amount": money(d["amount"]), "currency": d["currency"]}
        if action == "library_settings":
            return " · ".join(f"{LIBRARY_SETTING_NAMES.get(name, name)}: {value}" for name, value in sorted(d.items()))
        if action == "pack_granted":
            return _("%(api)s: %(calls)s calls for %(days)s days") % {
                "api": api_title(d["api"]), "calls": thousands(d["calls"]), "days": thousands(d["days"])}
        if action == "rule_changed":
            state = _("on") if d["enabled"] else _("off")
            return _("%(rule)s: threshold %(threshold)s, %(state)s") % {
                "rule": ALERT_KINDS.get(d["kind"], d["kind"]), "threshold": thousands(d["threshold"]), "state": state}
    except (KeyError, TypeError, ValueError):
        pass
    return ""


def webhook_status(status: str) -> tuple[str, str]:
    """(words, badge class) for an alert's webhook delivery status ("HTTP 204", "error: Timeout", …)."""
    if not status:
        return "", ""
    if status.startswith("HTTP 2"):
        return _("Delivered (%(status)s)") % {"status": status}, "good"
    detail = status.split(":", 1)[-1].strip() if ":" in status else status
    return _("Not delivered (%(reason)s)") % {"reason": detail}, "bad"
