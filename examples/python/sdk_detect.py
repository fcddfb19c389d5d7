"""Face detection with the facegate SDK: it signs, encodes, shrinks photos over 2 MB and retries."""
import os
import sys

from facegate.client import Client, FacegateError

client = Client(os.environ["FACEGATE_URL"], os.environ["FACEGATE_APP_KEY"], os.environ["FACEGATE_APP_SECRET"],
                {"detect": os.environ["FACEGATE_SERVICE_CODE"]})
try:
    result = client.detect(sys.argv[1])
except FacegateError as exc:  # AuthError, QuotaError, ImageError, ServerError, TransportError
    sys.exit(f"refused: {exc.code} {exc.details}")
print(f"{len(result.faces)} face(s), request {result.request_id}")
for face in result.faces:
    print(f"  box {face.box}, score {face.score:.2f}")
