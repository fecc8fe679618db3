#!/usr/bin/env python3
"""Test-only launcher: runs moto's IAM emulator in-process plus a control API.

Starts ``moto.server.ThreadedMotoServer`` on 127.0.0.1 (free port) and a small
JSON control server (also 127.0.0.1, free port) whose endpoints mutate moto's
IAM backend objects directly, so tests and benchmarks can create thousands of
users quickly and backdate the timestamps that AWS would only let time set.

On start it prints exactly one line to stdout and flushes it:

    READY {"endpoint":"http://127.0.0.1:PORT","control":"http://127.0.0.1:CPORT"}

It exits when stdin reaches EOF (so a dying parent takes it along) or on
SIGTERM/SIGINT.

Control endpoints (POST, JSON in/out; any error -> 400 {"error": "..."}):

  /seed      {"account"?, "users"?:[{"name", "path"?, "createDate"?, "password"?,
                         "passwordLastUsed"?, "tags"?, "keys"?:[{"createDate"?,
                         "lastUsed"?, "status"?, "service"?, "region"?}]}],
              "roles"?:[{"name", "path"?, "createDate"?, "lastUsed"?,
                         "lastUsedRegion"?, "trustPolicy"?, "tags"?,
                         "description"?, "maxSessionDuration"?, "replace"?,
                         "inlinePolicies"?}]}
             -> {"users":[{"name", "arn", "keys":["AKIA..."]}],
                 "roles":[{"name", "arn", "id"}]}
  /backdate  {"account"?, "users"?:[{"name", "createDate"?, "passwordLastUsed"?,
                         "keys"?:[{"id", "createDate"?, "lastUsed"?,
                                   "service"?, "region"?}]}],
              "roles"?:[{"name", "createDate"?, "lastUsed"?,
                         "lastUsedRegion"?}]}  -> {}

A role's "lastUsed" is its RoleLastUsed.LastUsedDate (GetRole and
GetAccountAuthorizationDetails show it; null clears it, like a role never
used); "trustPolicy" is its trust policy document (default: the account's root
may assume it). moto itself also sets a role's last use to "now" whenever a
session of it makes a request, as AWS does.
  /reset     {} -> {}   (clears all moto state, like /moto-api/reset, and
             moto_org_ext.py's trust checks, faults and counts)
  /trust, /faults, /calls   see moto_org_ext.py (AssumeRole trust checks,
             per-account IAM faults, IAM calls per account; the moto server
             runs behind its WSGI middleware, see Server below)

"account" (12 digits, default 123456789012, moto's account for unknown keys)
picks the account whose IAM /seed and /backdate act on: a member account of
an Organization made through moto's API, reached by AssumeRole into it. A
role's "replace": true replaces a role of that name if there is one (the role
moto's CreateAccount makes, say); "inlinePolicies" maps policy names to policy
documents (objects) put on the role, as PutRolePolicy does.

Timestamps are ISO 8601 strings. Offsets are honoured; strings without an
offset are taken as UTC. They are stored as *naive UTC* datetimes, which is
what ``moto.core.utils.utcnow()`` produces, so moto's own responses
(ListUsers, GetAccessKeyLastUsed, the credential report) show exactly the
time that was set. Like AWS, dates are whole seconds: fractions are dropped,
and the dates of seeded users/keys that get no explicit date are moto's "now"
cut to the second.

It also swaps moto's O(all keys) GetAccessKeyLastUsed lookup for an O(1) one
with identical answers (see install_fast_key_lookup; MOTO_LAUNCHER_STOCK=1
turns that off).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
SEEDED_PASSWORD = "Seeded-Passw0rd!"
DEFAULT_KEY_SERVICE = "iam"
DEFAULT_KEY_REGION = "us-east-1"

# Keep stdout for the READY line only; keep stderr quiet (request logs would
# otherwise fill the parent's pipe).
logging.getLogger("werkzeug").setLevel(logging.ERROR)

from moto.iam.models import AccessKeyLastUsed, iam_backends  # noqa: E402
from moto.iam.policy_validation import IAMPolicyDocumentValidator  # noqa: E402
from moto.moto_api._internal.models import moto_api_backend  # noqa: E402
from moto.moto_server import threaded_moto_server  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

# Import the extension beside this file without leaving a __pycache__ in the checkout.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moto_org_ext  # noqa: E402


def install_fast_key_lookup() -> None:
    """Make GetAccessKeyLastUsed O(1), like AWS, instead of moto's O(all keys).

    moto 5.2 answers GetAccessKeyLastUsed by listing every access key of every
    user of every account: at 5,000 users a call costs ~8 ms instead of ~4 ms,
    growing with the account, which would skew benchmarks of the per-key
    approach. This looks the key up in the backend's
    key index first and falls back to moto's own code when that misses, so
    answers and errors are unchanged. Set MOTO_LAUNCHER_STOCK=1 to skip it.
    """
    from moto.iam.models import IAMBackend

    original = IAMBackend.get_access_key_last_used

    def get_access_key_last_used(self: Any, access_key_id: str) -> dict[str, Any]:
        for account in list(iam_backends.values()):
            be = account[self.partition]
            key = be.access_keys.get(access_key_id)
            if key is None or key.user_name is None:
                continue
            user = be.users.get(key.user_name)
            if user is not None and any(k is key for k in user.access_keys):
                return {"user_name": key.user_name, "last_used": key.last_used}
        return original(self, access_key_id)

    IAMBackend.get_access_key_last_used = get_access_key_last_used  # type: ignore[method-assign]


if os.environ.get("MOTO_LAUNCHER_STOCK") != "1":
    install_fast_key_lookup()

# One lock for every control mutation; moto itself does not lock.
_lock = threading.Lock()


class BadRequest(Exception):
    pass


def backend() -> Any:
    # Always look the backend up: a reset may replace its state.
    return iam_backends[ACCOUNT_ID]["global"]


def account_backend(body: dict[str, Any]) -> tuple[str, Any]:
    """The account a /seed or /backdate names (popped from the body) and its IAM backend."""
    if "account" not in body:
        # backend() (not iam_backends[ACCOUNT_ID]) so launchers that wrap this one and swap
        # backend() keep working.
        return ACCOUNT_ID, backend()
    account = body.pop("account")
    if not isinstance(account, str) or not moto_org_ext.ACCOUNT.match(account):
        raise BadRequest(f"account: expected 12 digits, got {account!r}")
    return account, iam_backends[account]["global"]


# ---------------------------------------------------------------- validation


def parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{field}: expected an ISO 8601 string, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{field}: not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    # AWS reports whole seconds; moto would echo microseconds in the API but
    # drop them in the credential report. Whole seconds keep both in step.
    return parsed.replace(microsecond=0)


def whole_seconds(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def parse_optional_time(value: Any, field: str) -> datetime | None:
    return None if value is None else parse_time(value, field)


def expect_dict(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{field}: expected an object")
    return value


def expect_list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequest(f"{field}: expected an array")
    return value


def expect_str(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{field}: expected a non-empty string")
    return value


def check_keys(obj: dict[str, Any], allowed: set[str], field: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise BadRequest(f"{field}: unknown field(s) {', '.join(unknown)}")


# ---------------------------------------------------------------- endpoints


def make_last_used(when: datetime | None, service: Any, region: Any, field: str) -> Any:
    if when is None:
        return None
    svc = DEFAULT_KEY_SERVICE if service is None else expect_str(service, f"{field}.service")
    reg = DEFAULT_KEY_REGION if region is None else expect_str(region, f"{field}.region")
    return AccessKeyLastUsed(timestamp=when, service=svc, region=reg)


def seed(body: dict[str, Any]) -> dict[str, Any]:
    check_keys(body, {"account", "users", "roles"}, "body")
    if "users" not in body and "roles" not in body:
        raise BadRequest("body: give users or roles")
    account, be = account_backend(body)
    users = expect_list(body.get("users", []), "users")
    role_plans = plan_roles(expect_list(body.get("roles", []), "roles"), be, account)

    # Validate everything first so a bad request leaves no half-seeded state.
    plans: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(users):
        f = f"users[{i}]"
        u = expect_dict(raw, f)
        check_keys(
            u,
            {"name", "path", "createDate", "password", "passwordLastUsed", "tags", "keys"},
            f,
        )
        name = expect_str(u.get("name"), f"{f}.name")
        if name in seen or name in be.users:
            raise BadRequest(f"{f}.name: user {name} already exists")
        seen.add(name)
        path = u.get("path", "/")
        if not isinstance(path, str) or not path.startswith("/") or not path.endswith("/"):
            raise BadRequest(f"{f}.path: must start and end with '/'")
        password = u.get("password", False)
        if not isinstance(password, bool):
            raise BadRequest(f"{f}.password: expected a boolean")
        tags_raw = expect_dict(u.get("tags", {}), f"{f}.tags")
        tags = []
        for k, v in tags_raw.items():
            if not isinstance(v, str):
                raise BadRequest(f"{f}.tags.{k}: expected a string value")
            tags.append({"Key": k, "Value": v})
        keys = []
        for j, kraw in enumerate(expect_list(u.get("keys", []), f"{f}.keys")):
            kf = f"{f}.keys[{j}]"
            k = expect_dict(kraw, kf)
            check_keys(k, {"createDate", "lastUsed", "status", "service", "region"}, kf)
            status = k.get("status", "Active")
            if status not in ("Active", "Inactive"):
                raise BadRequest(f"{kf}.status: expected Active or Inactive")
            keys.append(
                {
                    "createDate": parse_optional_time(k.get("createDate"), f"{kf}.createDate"),
                    "lastUsed": make_last_used(
                        parse_optional_time(k.get("lastUsed"), f"{kf}.lastUsed"),
                        k.get("service"),
                        k.get("region"),
                        kf,
                    ),
                    "status": status,
                }
            )
        if len(keys) > 2:
            raise BadRequest(f"{f}.keys: IAM allows at most 2 access keys per user")
        password_last_used = parse_optional_time(u.get("passwordLastUsed"), f"{f}.passwordLastUsed")
        if password_last_used is not None and not password:
            raise BadRequest(f"{f}.passwordLastUsed: needs password: true")
        plans.append(
            {
                "name": name,
                "path": path,
                "createDate": parse_optional_time(u.get("createDate"), f"{f}.createDate"),
                "password": password,
                "passwordLastUsed": password_last_used,
                "tags": tags,
                "keys": keys,
            }
        )

    out = []
    for p in plans:
        user = be.create_user(REGION, p["name"], path=p["path"], tags=p["tags"] or None)
        # Unset dates keep moto's "now", cut to whole seconds like AWS.
        user.create_date = p["createDate"] or whole_seconds(user.create_date)
        if p["password"]:
            be.create_login_profile(p["name"], SEEDED_PASSWORD)
            user.password_last_used = p["passwordLastUsed"]
        key_ids = []
        for k in p["keys"]:
            key = be.create_access_key(p["name"], status=k["status"])
            key.create_date = k["createDate"] or whole_seconds(key.create_date)
            key.last_used = k["lastUsed"]
            key_ids.append(key.access_key_id)
        out.append({"name": user.name, "arn": user.arn, "keys": key_ids})
    return {"users": out, "roles": [create_role(be, r) for r in role_plans]}


def default_trust_policy(account: str = ACCOUNT_ID) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def plan_roles(roles: list[Any], be: Any, account: str = ACCOUNT_ID) -> list[dict[str, Any]]:
    """Validate every role to seed before anything is created."""
    existing = {r.name for r in be.roles.values()}
    seen: set[str] = set()
    plans = []
    for i, raw in enumerate(roles):
        f = f"roles[{i}]"
        r = expect_dict(raw, f)
        check_keys(
            r,
            {
                "name",
                "path",
                "createDate",
                "lastUsed",
                "lastUsedRegion",
                "trustPolicy",
                "tags",
                "description",
                "maxSessionDuration",
                "replace",
                "inlinePolicies",
            },
            f,
        )
        name = expect_str(r.get("name"), f"{f}.name")
        replace = r.get("replace", False)
        if not isinstance(replace, bool):
            raise BadRequest(f"{f}.replace: expected a boolean")
        if name in seen or (name in existing and not replace):
            raise BadRequest(f"{f}.name: role {name} already exists")
        seen.add(name)
        path = r.get("path", "/")
        if not isinstance(path, str) or not path.startswith("/") or not path.endswith("/"):
            raise BadRequest(f"{f}.path: must start and end with '/'")
        trust = r.get("trustPolicy")
        if trust is not None and not isinstance(trust, dict):
            raise BadRequest(f"{f}.trustPolicy: expected a policy document object")
        tags_raw = expect_dict(r.get("tags", {}), f"{f}.tags")
        for k, v in tags_raw.items():
            if not isinstance(v, str):
                raise BadRequest(f"{f}.tags.{k}: expected a string value")
        description = r.get("description")
        if description is not None and not isinstance(description, str):
            raise BadRequest(f"{f}.description: expected a string")
        max_session = r.get("maxSessionDuration", 3600)
        if not isinstance(max_session, int) or not 3600 <= max_session <= 43200:
            raise BadRequest(f"{f}.maxSessionDuration: expected 3600 to 43200 seconds")
        inline = expect_dict(r.get("inlinePolicies", {}), f"{f}.inlinePolicies")
        for k, v in inline.items():
            if not isinstance(v, dict):
                raise BadRequest(f"{f}.inlinePolicies.{k}: expected a policy document object")
            try:  # the check PutRolePolicy makes, before anything is created
                IAMPolicyDocumentValidator(json.dumps(v)).validate()
            except Exception as exc:
                raise BadRequest(f"{f}.inlinePolicies.{k}: {exc}") from None
        last_used = parse_optional_time(r.get("lastUsed"), f"{f}.lastUsed")
        region = r.get("lastUsedRegion")
        if region is not None and (not isinstance(region, str) or last_used is None):
            raise BadRequest(f"{f}.lastUsedRegion: a region name, with lastUsed")
        plans.append(
            {
                "name": name,
                "path": path,
                "replace": replace and name in existing,
                "inline": {k: json.dumps(v) for k, v in inline.items()},
                "trust": json.dumps(trust) if trust is not None else default_trust_policy(account),
                "tags": [{"Key": k, "Value": v} for k, v in tags_raw.items()],
                "description": description,
                "maxSessionDuration": max_session,
                "createDate": parse_optional_time(r.get("createDate"), f"{f}.createDate"),
                "lastUsed": last_used,
                "lastUsedRegion": region if region is not None else (REGION if last_used else None),
            }
        )
    return plans


def create_role(be: Any, p: dict[str, Any]) -> dict[str, Any]:
    if p["replace"]:
        # Straight out of the backend: moto's delete_role refuses a role with policies.
        old = find_role(be, p["name"], "replace")
        del be.roles[old.id]
    role = be.create_role(
        p["name"],
        p["trust"],
        p["path"],
        None,
        p["description"],
        p["tags"],
        p["maxSessionDuration"],
    )
    # Unset dates keep moto's "now", cut to whole seconds like AWS.
    role.create_date = p["createDate"] or whole_seconds(role.create_date)
    role.last_used = p["lastUsed"]
    role.last_used_region = p["lastUsedRegion"]
    for policy_name, document in p["inline"].items():
        be.put_role_policy(role.name, policy_name, document)
    return {"name": role.name, "arn": role.arn, "id": role.id}


def find_role(be: Any, name: str, field: str) -> Any:
    for role in be.roles.values():
        if role.name == name:
            return role
    raise BadRequest(f"{field}: no such role {name}")


def backdate(body: dict[str, Any]) -> dict[str, Any]:
    check_keys(body, {"account", "users", "roles"}, "body")
    if "users" not in body and "roles" not in body:
        raise BadRequest("body: give users or roles")
    _, be = account_backend(body)
    users = expect_list(body.get("users", []), "users")

    # Resolve and validate everything, then apply.
    actions: list[Callable[[], None]] = []
    for i, raw in enumerate(expect_list(body.get("roles", []), "roles")):
        f = f"roles[{i}]"
        r = expect_dict(raw, f)
        check_keys(r, {"name", "createDate", "lastUsed", "lastUsedRegion"}, f)
        role = find_role(be, expect_str(r.get("name"), f"{f}.name"), f"{f}.name")
        if "createDate" in r:
            when = parse_time(r["createDate"], f"{f}.createDate")
            actions.append(lambda role=role, when=when: setattr(role, "create_date", when))
        if "lastUsed" in r:
            lu = parse_optional_time(r["lastUsed"], f"{f}.lastUsed")
            region = r.get("lastUsedRegion", REGION if lu else None)
            if region is not None and (not isinstance(region, str) or lu is None):
                raise BadRequest(f"{f}.lastUsedRegion: a region name, with lastUsed")
            actions.append(lambda role=role, lu=lu: setattr(role, "last_used", lu))
            actions.append(lambda role=role, region=region: setattr(role, "last_used_region", region))
        elif "lastUsedRegion" in r:
            raise BadRequest(f"{f}.lastUsedRegion: needs lastUsed")
    for i, raw in enumerate(users):
        f = f"users[{i}]"
        u = expect_dict(raw, f)
        check_keys(u, {"name", "createDate", "passwordLastUsed", "keys"}, f)
        name = expect_str(u.get("name"), f"{f}.name")
        user = be.users.get(name)
        if user is None:
            raise BadRequest(f"{f}.name: no such user {name}")
        if "createDate" in u:
            when = parse_time(u["createDate"], f"{f}.createDate")
            actions.append(lambda user=user, when=when: setattr(user, "create_date", when))
        if "passwordLastUsed" in u:
            plu = parse_optional_time(u["passwordLastUsed"], f"{f}.passwordLastUsed")
            actions.append(lambda user=user, plu=plu: setattr(user, "password_last_used", plu))
        by_id = {k.access_key_id: k for k in user.access_keys}
        for j, kraw in enumerate(expect_list(u.get("keys", []), f"{f}.keys")):
            kf = f"{f}.keys[{j}]"
            k = expect_dict(kraw, kf)
            check_keys(k, {"id", "createDate", "lastUsed", "service", "region"}, kf)
            key_id = expect_str(k.get("id"), f"{kf}.id")
            key = by_id.get(key_id)
            if key is None:
                raise BadRequest(f"{kf}.id: user {name} has no access key {key_id}")
            if "createDate" in k:
                when = parse_time(k["createDate"], f"{kf}.createDate")
                actions.append(lambda key=key, when=when: setattr(key, "create_date", when))
            if "lastUsed" in k:
                lu = make_last_used(
                    parse_optional_time(k["lastUsed"], f"{kf}.lastUsed"),
                    k.get("service"),
                    k.get("region"),
                    kf,
                )
                actions.append(lambda key=key, lu=lu: setattr(key, "last_used", lu))
            elif "service" in k or "region" in k:
                raise BadRequest(f"{kf}: service/region need lastUsed")
    for act in actions:
        act()
    return {}


def reset(body: dict[str, Any]) -> dict[str, Any]:
    check_keys(body, set(), "body")
    # Exactly what POST /moto-api/reset on the main server does: every
    # backend of every account is cleared.
    moto_api_backend.reset()
    moto_org_ext.clear()
    backend()  # rebuild IAM eagerly, as at start-up
    return {}


ROUTES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "/seed": seed,
    "/backdate": backdate,
    "/reset": reset,
}
moto_org_ext.install(ROUTES, BadRequest)


class Server(ThreadedMotoServer):
    """moto's threaded server with moto_org_ext's fault/count middleware around its app."""

    def _server_entry(self) -> None:
        # Looked up on the module at run time so launchers that patch it still take effect.
        app = threaded_moto_server.DomainDispatcherApplication(threaded_moto_server.create_backend_app)
        self._server = threaded_moto_server.make_server(
            self._ip_address, self._port, moto_org_ext.FaultingApp(app), True
        )
        self._server_ready_event.set()
        self._server.serve_forever()


class ControlHandler(BaseHTTPRequestHandler):
    server_version = "moto-launcher-control"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        route = ROUTES.get(self.path.split("?", 1)[0])
        if route is None:
            self._reply(404, {"error": f"unknown endpoint {self.path}"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                raise BadRequest(f"invalid JSON: {exc}") from None
            body = expect_dict(body, "body")
            with _lock:
                result = route(body)
        except BadRequest as exc:
            self._reply(400, {"error": str(exc)})
            return
        except Exception as exc:  # moto errors, bugs: still a clean 400 for the caller
            self._reply(400, {"error": f"{type(exc).__name__}: {exc}"})
            return
        self._reply(200, result)

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/health":
            self._reply(200, {"ok": True})
        else:
            self._reply(405, {"error": "use POST"})


def main() -> None:
    moto = Server(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()

    control = ThreadingHTTPServer(("127.0.0.1", 0), ControlHandler)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, name="control", daemon=True).start()

    # Build the IAM backend now (it loads AWS managed policies) so the first
    # request from a test does not pay for it.
    backend()

    stop = threading.Event()

    def watch_stdin() -> None:
        try:
            while sys.stdin.buffer.read1(65536):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, name="stdin", daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    ready = {
        "endpoint": f"http://{host}:{port}",
        "control": f"http://127.0.0.1:{control.server_address[1]}",
    }
    sys.stdout.write("READY " + json.dumps(ready, separators=(",", ":")) + "\n")
    sys.stdout.flush()

    while not stop.wait(0.5):
        pass

    # Shut down quickly; never hang on a stuck request thread.
    threading.Thread(target=control.shutdown, daemon=True).start()
    threading.Thread(target=moto.stop, daemon=True).start()
    os._exit(0)


if __name__ == "__main__":
    main()
