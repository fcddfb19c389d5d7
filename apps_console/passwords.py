"""A password validator beyond Django's: refuse a password that is mostly the account's own name.

Django's UserAttributeSimilarityValidator compares the whole password with each attribute, so
'alicealice' for alice@example.com passes (similarity 0.67 < 0.7). Here every part of the user name
and e-mail of 3+ characters is cut out of the password; too little left means it is refused."""
from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class AccountNameValidator:
    def __init__(self, min_other_chars: int = 4) -> None:
        self.min_other_chars = min_other_chars

    def validate(self, password: str, user: Any = None) -> None:
        if user is None:
            return
        parts = set()
        for attr in ("username", "email", "first_name", "last_name"):
            value = str(getattr(user, attr, "") or "").lower()
            parts.update(p for p in re.split(r"\W+", value) if len(p) >= 3)
        rest = password.lower()
        for part in sorted(parts, key=len, reverse=True):
            rest = rest.replace(part, "")
        if parts and len(rest) < self.min_other_chars:
            raise ValidationError(_("The password is too close to your e-mail address."),
                                  code="password_too_similar")

    def get_help_text(self) -> str:
        return _("Your password must not be made of your e-mail address or name.")
