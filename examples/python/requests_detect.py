"""Face detection with plain `requests`: sign the exact bytes that are sent."""
import base64
import hashlib
import json
import os
import sys
import time

import requests

url, app_key, app_secret = (os.environ[name] for name in ("FACEGATE_URL", "FACEGATE_APP_KEY", "FACEGATE_APP_SECRET"))
path = f"/v1/aiop/api/{os.environ['FACEGATE_SERVICE_CODE']}/face/PERSON/person/detectFaceFromBase64"
with open(sys.argv[1], "rb") as photo:
    body = json.dumps({"imageContent": base64.b64encode(photo.read()).decode()}).encode()
timestamp = str(int(time.time() * 1000))
sign = hashlib.md5((app_key + app_secret + timestamp + path).encode() + body).hexdigest()
headers = {"Content-Type": "application/json", "AppKey": app_key, "Timestamp": timestamp, "Sign": sign}
reply = requests.post(url + path, data=body, headers=headers, timeout=60).json()
print(json.dumps(reply, ensure_ascii=False))
