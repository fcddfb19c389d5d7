"""The Python SDK (facegate.client) against `facegate serve`: every API, every kind of image input,
shrinking, typed results, error families, retries and strictly increasing timestamps."""
from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import pytest
from PIL import Image

from facegate.client import (
    AuthError, Client, CompareResult, Face, FacesResult, ImageError, MillisecondClock, QuotaError, TransportError,
    image_bytes, shrink,
)
from facegate.procs import free_port
from tests.api.counting import CountingSession

pytestmark = pytest.mark.slow


def client_for(api_stack, app=None, **options) -> Client:
    app = app or api_stack.app
    return Client(api_stack.url, app.app_key, app.app_secret, app.service_codes, **options)


@pytest.fixture(scope="module")
def annotations(photos: Path) -> dict[str, int]:
    images = json.loads((photos / "annotations.json").read_text())["images"]
    return {image["file"]: len(image["noses"]) for image in images}


def test_detect_accepts_path_bytes_pil_and_numpy(api_stack, photos: Path, annotations):
    client = client_for(api_stack)
    photo = photos / "012_4.jpg"
    inputs = {"path": photo, "str": str(photo), "bytes": photo.read_bytes(), "pil": Image.open(photo),
              "numpy": cv2.imread(str(photo))}
    counts = {}
    for kind, image in inputs.items():
        result = client.detect(image)
        assert isinstance(result, FacesResult) and result.request_id
        assert all(isinstance(face, Face) and len(face.landmarks) == 5 for face in result.faces)
        counts[kind] = len(result.faces)
    assert set(counts.values()) == {annotations["012_4.jpg"]}, counts


def test_attributes_liveness_mask_and_compare_are_typed(api_stack, photos: Path, shared_dir: Path):
    client = client_for(api_stack)
    person = client.attributes(photos / "004_A.jpg").faces[0]
    assert person.gender in ("Male", "Female") and isinstance(person.age, int) and 0 < person.age < 100
    live = client.liveness(shared_dir / "data" / "liveness" / "live_1.jpg").faces[0]
    spoof = client.liveness(shared_dir / "data" / "liveness" / "spoof_1.jpg").faces[0]
    assert live.is_live is True and spoof.is_live is False
    assert live.liveness_score > 0.5 > spoof.liveness_score
    masked = client.mask(shared_dir / "data" / "mask" / "with_mask" / "with_mask_0001.jpg").faces[0]
    assert masked.mask == "wearing" and masked.mask_score >= 0.5
    same = client.compare(photos / "007_B.jpg", photos / "008_B.jpg")
    different = client.compare(photos / "007_B.jpg", photos / "009_C.jpg")
    assert isinstance(same, CompareResult) and same.same_person and not different.same_person


def test_images_over_2_mb_are_shrunk_unless_disabled(api_stack, photos: Path):
    big = photos / "001_A.jpg"
    assert big.stat().st_size > 2 * 1024 * 1024
    assert len(client_for(api_stack).detect(big).faces) == 1
    with pytest.raises(ImageError) as refused:
        client_for(api_stack, shrink_images=False).detect(big)
    assert refused.value.code == "4103"


def test_shrink_keeps_small_images_and_fits_large_ones(photos: Path):
    small = (photos / "007_B.jpg").read_bytes()
    assert shrink(small) is small
    big = (photos / "001_A.jpg").read_bytes()
    out = shrink(big, limit=300_000)
    decoded = cv2.imdecode(__import__("numpy").frombuffer(out, "uint8"), cv2.IMREAD_COLOR)
    assert len(out) <= 300_000 and decoded is not None and min(decoded.shape[:2]) > 100
    with pytest.raises(TypeError):
        image_bytes(42)


def test_error_families_and_no_retry_on_4xxx(api_stack, photos: Path):
    session = CountingSession()
    client = client_for(api_stack, session=session)
    with pytest.raises(ImageError) as no_face:
        client.detect(photos / "017_0.jpg")
    assert no_face.value.code == "4105" and no_face.value.request_id
    with pytest.raises(ImageError) as undecodable:
        client.detect(b"not an image")
    assert undecodable.value.code == "4104"
    assert len(session.signs) == 2  # one attempt each: 41xx is never retried
    app = api_stack.app
    wrong_secret = Client(api_stack.url, app.app_key, "0" * 32, app.service_codes)
    with pytest.raises(AuthError) as auth:
        wrong_secret.detect(photos / "007_B.jpg")
    assert auth.value.code == "4003"
    with pytest.raises(QuotaError) as quota:
        client_for(api_stack, api_stack.app_without_packs).detect(photos / "007_B.jpg")
    assert quota.value.code == "4291"


def test_identical_calls_at_once_are_not_replays(api_stack, photos: Path):
    client = client_for(api_stack)
    image = (photos / "009_C.jpg").read_bytes()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.detect(image), range(16)))
    assert all(len(result.faces) == 1 for result in results)
    clock = MillisecondClock()
    stamps = [int(clock.next()) for _ in range(2000)]  # far more than one per millisecond
    assert all(b > a for a, b in zip(stamps, stamps[1:]))


def test_connection_errors_are_retried_with_a_fresh_sign(photos: Path):
    session = CountingSession()
    client = Client(f"http://127.0.0.1:{free_port()}", "key", "secret", {"detect": "code"}, retries=2,
                    backoff=0.01, session=session)
    with pytest.raises(TransportError):
        client.detect(photos / "009_C.jpg")
    assert len(session.signs) == 3 and len(set(session.signs)) == 3


def test_read_timeout_is_raised_without_a_retry(photos: Path):
    # A socket that accepts connections (the kernel's backlog) but never answers: the read times out.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        session = CountingSession()
        client = Client(f"http://127.0.0.1:{silent.getsockname()[1]}", "key", "secret", {"detect": "code"},
                        timeout=(2, 0.5), retries=2, backoff=0.01, session=session)
        with pytest.raises(TransportError) as failed:
            client.detect(photos / "009_C.jpg")
    assert "ReadTimeout" in failed.value.details and len(session.signs) == 1


def test_the_sdk_states_the_engines_image_limit():
    """The SDK (standalone: it imports no backend code) and the console's shrinking follow this number."""
    from face_backend.vision.limits import MAX_IMAGE_BYTES as engine_limit
    from facegate.client import MAX_IMAGE_BYTES as sdk_limit
    assert sdk_limit == engine_limit
