"""Wire replies as bytes: HTTP 200 with a JSON body {"code","message",...}, as the vendor protocol has it."""
from __future__ import annotations

import json
from typing import Any


def encode(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
