"""Finds English words in a page rendered in Chinese: visible text, the attributes a user sees
(title, placeholder, aria-label, confirmations, the page scripts' word lists) and the page's JSON
word tables. Code (keys, curl/Python samples, raw JSON) and product names are allowed."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

# Product, protocol and unit names that stay as they are in Chinese.
ALLOWED = {"facegate", "AppKey", "AppSecret", "API", "APIs", "curl", "Python", "JSON", "MD5", "URL", "CNY", "ms",
           "MB", "JPG", "PNG", "BMP", "HTTP", "Sign", "Timestamp", "English", "ConnectTimeout", "p95", "Webhook",
           "LFW", "NASA", "ID"}
SKIP_ELEMENTS = {"script", "style", "code", "pre"}
SEEN_ATTRIBUTES = {"title", "placeholder", "aria-label", "data-confirm", "data-copied", "value"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.chunks: list[str] = []
        self.json_blocks: list[str] = []
        self._json = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attrs_d = dict(attrs)
        if tag in SKIP_ELEMENTS:
            self.skip += 1
        self._json = tag == "script" and attrs_d.get("type") == "application/json"
        for name, value in attrs:
            if not value:
                continue
            # A button's value is sent, not shown; an input button's value is its label.
            visible_value = name == "value" and tag == "input" and attrs_d.get("type") in ("submit", "button")
            if (name in SEEN_ATTRIBUTES and name != "value") or visible_value:
                self.chunks.append(value)
            elif name.startswith("data-") and attrs_d.get("id", "").endswith("-i18n"):
                self.chunks.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_ELEMENTS and self.skip:
            self.skip -= 1
        self._json = False

    def handle_data(self, data: str) -> None:
        if self._json:
            self.json_blocks.append(data)
        elif not self.skip:
            self.chunks.append(data)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def english_words(html: str, allowed: set[str] = frozenset()) -> list[str]:
    parser = _Text()
    parser.feed(html)
    texts = list(parser.chunks)
    for block in parser.json_blocks:
        texts += _strings(json.loads(block))
    found = []
    for text in texts:
        text = EMAIL.sub(" ", text)
        text = re.sub(r"https?://\S+|/console/\S*|%\(\w+\)[sd]", " ", text)
        found += [w for w in WORD.findall(text) if w not in ALLOWED and w not in allowed]
    return found
