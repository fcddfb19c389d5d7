// Face detection with Node's built-in fetch and crypto (Node 18+): node detect.mjs PHOTO
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const { FACEGATE_URL, FACEGATE_APP_KEY, FACEGATE_APP_SECRET, FACEGATE_SERVICE_CODE } = process.env;
const path = `/v1/aiop/api/${FACEGATE_SERVICE_CODE}/face/PERSON/person/detectFaceFromBase64`;
const body = Buffer.from(JSON.stringify({ imageContent: readFileSync(process.argv[2]).toString("base64") }));
const timestamp = String(Date.now());
const sign = createHash("md5")
  .update(FACEGATE_APP_KEY + FACEGATE_APP_SECRET + timestamp + path, "utf8")
  .update(body)
  .digest("hex");
const response = await fetch(FACEGATE_URL + path, {
  method: "POST",
  headers: { "Content-Type": "application/json", AppKey: FACEGATE_APP_KEY, Timestamp: timestamp, Sign: sign },
  body,
});
console.log(JSON.stringify(await response.json()));
