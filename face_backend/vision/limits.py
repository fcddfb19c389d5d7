"""The image limits of the wire protocol, in a module without cv2 so that they can be applied to
OpenCV before it loads (face_backend/__init__.py)."""
from __future__ import annotations

import os

MAX_IMAGE_BYTES = 2 * 1024 * 1024  # the vendor's "2 MB", in decoded bytes
MAX_PIXELS = 40_000_000  # a 7360x4912 camera photo is 36 MP; a bomb is far larger


def limit_opencv() -> None:
    """Make OpenCV itself refuse to decode more than MAX_PIXELS, whatever a header parser missed.

    OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, when cv2 is first imported, so this must run
    before that: face_backend/__init__.py calls it, and the backend process imports face_backend
    before anything imports cv2. Its default (2^30 pixels, 3 GB as BGR) bounds nothing useful.
    """
    os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] = str(MAX_PIXELS)
