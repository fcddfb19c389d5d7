"""A real requests session that remembers the Sign of every request it sent (retry tests)."""
from __future__ import annotations

import requests


class CountingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.signs: list[str] = []

    def request(self, method, url, *args, **kwargs):
        self.signs.append(kwargs["headers"]["Sign"])
        return super().request(method, url, *args, **kwargs)
