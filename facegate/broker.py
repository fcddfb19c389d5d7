"""kombu's filesystem transport with whole message files: the Celery broker when no Redis is set.

kombu 5.x's filesystem channel creates a message file in the queue folder and only then writes it.
A worker listing the folder in between moves and reads an empty file and fails with "Expecting
value: line 1 column 1" (kombu issue 1551); seen here once as a beat tick the worker lost in a CI
run of tests/test_ops_housekeeping.py. Here every message is written under a name no consumer
picks (".part" after ".msg") and renamed into place: a rename within one folder is atomic, so a
consumer sees a message whole or not at all.
"""
from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put `payload` onto `queue`, as kombu does, but through a temporary name."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # consumers match names ending in ".<queue>.msg" only
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
