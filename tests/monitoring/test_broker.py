"""The filesystem broker (facegate/broker.py): a consumer never reads a message half written."""
from __future__ import annotations

import threading
from queue import Empty

from kombu import Connection

from facegate.broker import Transport


def _channel(folder):
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder),
               "processed_folder": str(folder / "processed"), "control_folder": str(folder / "control"),
               "store_processed": False}
    for sub in ("processed", "control"):
        (folder / sub).mkdir(exist_ok=True)
    return Connection("filesystem://localhost/", transport=Transport, transport_options=options).channel()


def test_messages_are_read_whole_while_another_thread_writes(tmp_path):
    """A writer puts 400 messages of 200 kB while a reader polls the folder without pause. kombu's
    own channel creates the file before writing it, so a reader could take an empty one; here every
    message read decodes, in full, and none is lost."""
    writer, reader = _channel(tmp_path), _channel(tmp_path)
    payload = "x" * 200_000
    count = 400
    got: list[dict] = []
    errors: list[BaseException] = []

    def read() -> None:
        while len(got) < count and not errors:
            try:
                got.append(reader._get("q"))
            except Empty:
                continue
            except Exception as exc:  # noqa: BLE001 - what a half-written file gives: reported below
                errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    for i in range(count):
        writer._put("q", {"i": i, "body": payload})
    thread.join(timeout=60)
    assert not thread.is_alive() and errors == [], errors
    assert sorted(m["i"] for m in got) == list(range(count))
    assert all(m["body"] == payload for m in got)
    assert not list(tmp_path.glob("*.part"))
