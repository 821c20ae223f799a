// Signs Clerk's sample events with the official svix package and POSTs them
// to the relay the way Svix would: out of order, one delivered twice, and one
// of a type orgsync does not model.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

// The svix package is installed with the test tools, in test/node_modules.
const { Webhook } = createRequire(new URL("../test/package.json", import.meta.url))("svix");

const [url, fixtures] = process.argv.slice(2);
const signer = new Webhook(process.env.ORGSYNC_WEBHOOK_SECRET);
const body = (name) => readFileSync(`${fixtures}/${name}.json`, "utf8");

const membership = { id: `msg_${randomUUID()}`, body: body("organizationMembership.created") };
const deliveries = [
  membership, // before its organization and user exist
  { id: `msg_${randomUUID()}`, body: body("organization.updated") },
  { id: `msg_${randomUUID()}`, body: body("organization.created") }, // older than the update
  { id: `msg_${randomUUID()}`, body: body("user.created") },
  membership, // Svix retrying: same delivery id
  { id: `msg_${randomUUID()}`, body: body("session.created") },
];

for (const { id, body: payload } of deliveries) {
  const timestamp = new Date();
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": id,
        "svix-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "svix-signature": signer.sign(id, timestamp, payload),
      },
      body: payload,
    });
  } catch (error) {
    console.error(`demo: no answer from ${url}: ${error.cause?.message ?? error.message}`);
    process.exit(1);
  }
  console.log(`${response.status} ${JSON.parse(payload).type.padEnd(32)} ${await response.text()}`);
}
