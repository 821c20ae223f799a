#!/usr/bin/env python3
"""Writes the seed corpus for core_fuzzer into test/fuzz/corpus/.

Each seed is "<signature header>\\n<timestamp header>\\n<body>", signed with the
fuzzer's fixed key, id and time (the first standard-webhooks vector), so the
verified paths are reachable from the start. Bodies: every Clerk fixture,
plus a few hand-made edge cases. Run from the repo root; the output is
committed, so this only needs running again when the fixtures change.
"""
import base64, hashlib, hmac, json, os, pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "test" / "fixtures"
OUT = ROOT / "test" / "fuzz" / "corpus"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
NOW = 1614265330
KEY = base64.b64decode(SECRET[len("whsec_"):])


def sign(ts: int, body: bytes) -> bytes:
    mac = hmac.new(KEY, f"{MSG_ID}.{ts}.".encode() + body, hashlib.sha256).digest()
    return b"v1," + base64.b64encode(mac)


def seed(name: str, body: bytes, ts: int = NOW, header: bytes | None = None) -> None:
    header = sign(ts, body) if header is None else header
    (OUT / name).write_bytes(header + b"\n" + str(ts).encode() + b"\n" + body)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    for path in sorted(FIXTURES.glob("clerk/**/*.json")):
        rel = path.relative_to(FIXTURES / "clerk").with_suffix("")
        seed("clerk_" + str(rel).replace(os.sep, "_"), path.read_bytes())

    vectors = json.loads((FIXTURES / "standard_webhooks_vectors.json").read_text())
    for i, v in enumerate(vectors["symmetric_fixed"]):
        seed(f"vector_{i}", v["payload"].encode(), v["timestamp"], v["expected_signature"].encode())
    v1a = vectors["asymmetric_fixed"][0]["expected_signature"].encode()
    body = b'{"test": 2432232314}'
    seed("multi_signature", body, header=b"v2,AAAA " + v1a + b" " + sign(NOW, body) + b" v1,")
    (OUT / "bad_timestamp").write_bytes(sign(NOW, body) + b"\n12a\n" + body)

    user = json.loads((FIXTURES / "clerk" / "user.created.json").read_text())
    user["data"]["email_addresses"] = [
        {"id": "idn_1", "email_address": "first@example.com"},
        {"id": "idn_2", "email_address": "second@example.com"},
    ]
    user["data"]["primary_email_address_id"] = "idn_2"
    seed("user_two_emails", json.dumps(user).encode())
    seed("deleted_no_timestamp", b'{"type":"user.deleted","data":{"id":"user_1","deleted":true}}')
    seed("nul_escape", b'{"type":"organization.created","data":{"id":"org_1","name":"a\\u0000b"}}')
    seed("deep", b'{"type":"organization.created","data":{"id":"org_1","x":' + b"[" * 1000 + b"]" * 1000 + b"}}")
    seed("big_numbers", b'{"type":"organization.created","timestamp":1e400,"data":{"id":"org_1",'
                        b'"max_allowed_memberships":2147483648,"created_at":18446744073709551616}}')
    seed("invitation_other", b'{"type":"organizationInvitation.x","data":{"id":"orginv_1"}}')
    seed("unpaired_surrogate", b'{"type":"organization.created","data":{"id":"org_1","name":"\\ud800"}}')
    seed("exact_numbers", b'{"type":"organization.created","timestamp":1716883200,"data":{"id":"org_1",'
                          b'"members_count":1e999,"public_metadata":{"n":123456789012345678901234567890,"p":1.50}}}')

    # A whole time written with a fraction and an exponent, which the core
    # reads as whole and a round trip through nlohmann writes as 1716883200000.0.
    org = (FIXTURES / "clerk" / "organization.created.json").read_text()
    seed("time_with_exponent", org.replace('"updated_at": 1716883200000', '"updated_at": 1716883200.000e3', 1).encode())

    membership = json.loads((FIXTURES / "clerk" / "organizationMembership.deleted.json").read_text())
    del membership["data"]["public_user_data"]
    seed("membership_deleted_without_user", json.dumps(membership).encode())
    domain = json.loads((FIXTURES / "clerk" / "organizationDomain.updated.json").read_text())
    domain["data"]["affiliation_verification"] = {"status": "unverified"}
    seed("domain_affiliation_verification", json.dumps(domain).encode())

    # Two copies of one membership version, separated by a form feed: the
    # fuzzer joins them (core_fuzzer.cpp: check_join_pair).
    first = json.loads((FIXTURES / "clerk" / "organizationMembership.updated.json").read_text())["data"]
    second = json.loads(json.dumps(first))
    del second["organization"]["slug"]
    second["organization"]["members_count"] = 3
    second["public_user_data"]["identifier"] = None
    seed("join_pair", json.dumps(first).encode() + b"\f" + json.dumps(second).encode())


if __name__ == "__main__":
    main()
