#!/bin/sh
# Face detection with curl. The body goes through a file: a base64 photo is larger than one
# command-line argument may be (about 128 KB on Linux).
set -eu
PHOTO=${1:?usage: detect.sh PHOTO}
URL_PATH="/v1/aiop/api/$FACEGATE_SERVICE_CODE/face/PERSON/person/detectFaceFromBase64"
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT
printf '{"imageContent": "%s"}' "$(base64 -w0 "$PHOTO")" > "$BODY"
TS=$(date +%s%3N)
SIGN=$( { printf '%s' "$FACEGATE_APP_KEY$FACEGATE_APP_SECRET$TS$URL_PATH"; cat "$BODY"; } | md5sum | cut -d' ' -f1)
curl -sS -X POST "$FACEGATE_URL$URL_PATH" \
  -H 'Content-Type: application/json' \
  -H "AppKey: $FACEGATE_APP_KEY" -H "Timestamp: $TS" -H "Sign: $SIGN" \
  --data-binary @"$BODY"
echo
