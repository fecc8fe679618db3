"""Organizations support for moto_launcher.py: AssumeRole trust checks, per-account faults, counts.

moto already runs Organizations and gives AssumeRole into a member account keys that belong to
that account's own IAM, but its AssumeRole never refuses and nothing can make one account
misbehave. moto_launcher.py calls install() to add, as control endpoints:

  /trust   {"enforce": bool}  AssumeRole checked as AWS does (off by default and after /reset):
           the role must exist in the target account and an Allow statement of its trust policy
           must grant sts:AssumeRole (or sts:* or *) to the caller: its account ("A" or
           "arn:aws:iam::A:root"), its ARN (for an assumed-role session, also its role's ARN) or
           "*"; a StringEquals sts:ExternalId condition must equal the request's ExternalId
           (other conditions are not evaluated, i.e. taken as met);
           an explicit Deny for the caller wins; and the target account must not be SUSPENDED
           in moto's Organizations (a closed account cannot be entered). Otherwise HTTP 403
           AccessDenied "User: CALLER is not authorized to perform: sts:AssumeRole on
           resource: ROLE". CALLER is the ARN GetCallerIdentity gives for the keys.
  /faults  {"account": A, "throttle"?: N, "deny"?: bool}  the next N IAM requests signed with a
           key of A answer HTTP 400 Throttling; deny: true answers HTTP 403 AccessDenied to every
           IAM request of A ("User: CALLER is not authorized to perform: iam:ACTION ...") until
           deny: false. {"clear": true} drops every fault. Only requests whose SigV4 scope
           names the iam service are touched; STS and Organizations always answer.
  /calls   {"account": A} -> {"iam": n, "byAction": {...}} (IAM requests of A, faulted ones
           included, as AWS bills throttled attempts too); {"reset": true} zeroes the counts.

Faults and counts come from WSGI middleware around moto's app, which reads the access key and
the service from the SigV4 Authorization header and the Action from the form body.
"""

from __future__ import annotations

import io
import json
import re
import threading
from typing import Any, Callable
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.iam.models import get_account_id_from, iam_backends
from moto.organizations.models import organizations_backends
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse
from werkzeug.exceptions import HTTPException

ACCOUNT = re.compile(r"^\d{12}$")
# SigV4: Credential=KEY/DATE/REGION/SERVICE/aws4_request
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$")
_SESSION_ARN = re.compile(r"^arn:aws:sts::(\d{12}):assumed-role/([^/]+)/")

_lock = threading.Lock()
_state: dict[str, Any] = {}


def clear() -> None:
    """Back to moto's behaviour: no trust checks, no faults, no counts."""
    with _lock:
        _state.update({"enforce": False, "throttle": {}, "deny": set(), "calls": {}})


clear()


# ---------------------------------------------------------------- AssumeRole trust


class StsAccessDenied(HTTPException):
    """AWS's AssumeRole refusal: HTTP 403 with STS's XML error (moto renders HTTPExceptions as is)."""

    code = 403

    def __init__(self, message: str) -> None:
        super().__init__()
        self.description = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message>"
            "</Error><RequestId>trust-check</RequestId></ErrorResponse>"
        )

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("Content-Type", "text/xml"), ("X-Amzn-ErrorType", "AccessDenied")]

    def get_body(self, *args: Any, **kwargs: Any) -> str:
        return self.description or ""


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, (str, dict)) else list(value or [])


def _grants_assume(statement: dict[str, Any]) -> bool:
    # IAM action names are case-insensitive.
    actions = (a.lower() for a in _as_list(statement.get("Action")) if isinstance(a, str))
    return any(a in ("sts:assumerole", "sts:*", "*") for a in actions)


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    return _as_list(principal.get("AWS")) if isinstance(principal, dict) else []


def _external_id_ok(statement: dict[str, Any], external_id: str | None) -> bool:
    wanted = (statement.get("Condition") or {}).get("StringEquals", {}).get("sts:ExternalId")
    return wanted is None or external_id in _as_list(wanted)


def trusts(policy: dict[str, Any], caller_arn: str, external_id: str | None) -> bool:
    """Whether the trust policy lets the caller assume the role (an explicit Deny wins)."""
    caller_account = caller_arn.split(":")[4]
    who = {"*", caller_account, f"arn:aws:iam::{caller_account}:root", caller_arn}
    session = _SESSION_ARN.match(caller_arn)
    if session:
        who.add(f"arn:aws:iam::{session.group(1)}:role/{session.group(2)}")
    allowed = False
    for st in _as_list(policy.get("Statement")):
        if not isinstance(st, dict) or not _grants_assume(st) or not who.intersection(_principals(st)):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow" and _external_id_ok(st, external_id):
            allowed = True
    return allowed


def _caller_arn(access_key: str, region: str) -> str:
    account = get_account_id_from(access_key)
    return sts_backends[account]["aws"].get_caller_identity(access_key, region)[1]


def _suspended(account: str) -> bool:
    """Whether moto's Organizations has closed the account (known only for accounts it created)."""
    owner = organizations_backends.master_accounts.get(account)
    if owner is None:
        return False
    accounts = organizations_backends[owner[0]][owner[1]].accounts
    return any(a.id == account and a.status == "SUSPENDED" for a in list(accounts))


def check_assume_role(access_key: str, region: str, role_arn: str, external_id: str | None) -> None:
    caller = _caller_arn(access_key, region)
    match = _ROLE_ARN.match(role_arn)
    role = None
    if match and not _suspended(match.group(1)):
        be = iam_backends[match.group(1)]["global"]
        role = next((r for r in list(be.roles.values()) if r.name == match.group(2)), None)
    if role is None or not trusts(json.loads(role.assume_role_policy_document), caller, external_id):
        raise StsAccessDenied(
            f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        )


_original_assume_role = TokenResponse.assume_role


def _assume_role(self: Any) -> Any:
    # The check lives on the response handler because only it knows the caller's access key.
    if _state["enforce"]:
        check_assume_role(
            self.get_access_key(),
            self.region,
            self._get_param("RoleArn") or "",
            self._get_param("ExternalId"),
        )
    return _original_assume_role(self)


TokenResponse.assume_role = _assume_role  # type: ignore[method-assign]


# ---------------------------------------------------------------- faults and counts


def _iam_error(status: str, code: str, message: str) -> tuple[str, bytes]:
    body = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        "<RequestId>injected-fault</RequestId></ErrorResponse>"
    )
    return status, body.encode("utf-8")


class FaultingApp:
    """Wraps moto's WSGI app: counts IAM requests per account and answers injected faults."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match is None or match.group(3) != "iam":
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(raw)  # moto reads the body again
        form = parse_qs(raw.decode("utf-8", "replace")) or parse_qs(environ.get("QUERY_STRING", ""))
        action = (form.get("Action") or ["?"])[0]
        key = match.group(1)
        account = get_account_id_from(key)
        with _lock:
            counts = _state["calls"].setdefault(account, {})
            counts[action] = counts.get(action, 0) + 1
            denied = account in _state["deny"]
            throttled = not denied and _state["throttle"].get(account, 0) > 0
            if throttled:
                _state["throttle"][account] -= 1
        reply = None
        if denied:
            # Outside the lock: the caller's ARN comes from moto's STS state.
            caller = _caller_arn(key, match.group(2))
            reply = _iam_error(
                "403 Forbidden",
                "AccessDenied",
                f"User: {caller} is not authorized to perform: iam:{action}"
                " with an explicit deny in an identity-based policy (injected fault)",
            )
        elif throttled:
            reply = _iam_error("400 Bad Request", "Throttling", "Rate exceeded")
        if reply is None:
            return self.app(environ, start_response)
        start_response(reply[0], [("Content-Type", "text/xml"), ("Content-Length", str(len(reply[1])))])
        return [reply[1]]


# ---------------------------------------------------------------- control endpoints


def install(routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]], bad_request: type[Exception]) -> None:
    """Adds /trust, /faults and /calls to the launcher's routes (errors as its BadRequest)."""

    def account_of(body: dict[str, Any]) -> str:
        account = body.get("account")
        if not isinstance(account, str) or not ACCOUNT.match(account):
            raise bad_request(f"account: expected 12 digits, got {account!r}")
        return account

    def only(body: dict[str, Any], allowed: set[str]) -> None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise bad_request(f"body: unknown field(s) {', '.join(unknown)}")

    def trust(body: dict[str, Any]) -> dict[str, Any]:
        only(body, {"enforce"})
        if not isinstance(body.get("enforce"), bool):
            raise bad_request("enforce: expected true or false")
        with _lock:
            _state["enforce"] = body["enforce"]
        return {}

    def faults(body: dict[str, Any]) -> dict[str, Any]:
        only(body, {"account", "throttle", "deny", "clear"})
        if body.get("clear") is True and len(body) == 1:
            with _lock:
                _state["throttle"], _state["deny"] = {}, set()
            return {}
        account = account_of(body)
        throttle, deny = body.get("throttle"), body.get("deny")
        if "throttle" not in body and "deny" not in body:
            raise bad_request("body: give throttle (a count) or deny (true/false)")
        if "throttle" in body and (not isinstance(throttle, int) or isinstance(throttle, bool) or throttle < 0):
            raise bad_request("throttle: expected a count >= 0")
        if "deny" in body and not isinstance(deny, bool):
            raise bad_request("deny: expected true or false")
        with _lock:
            if "throttle" in body:
                _state["throttle"][account] = throttle
            if deny is True:
                _state["deny"].add(account)
            elif deny is False:
                _state["deny"].discard(account)
        return {}

    def calls(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("reset") is True:
            only(body, {"reset"})
            with _lock:
                _state["calls"] = {}
            return {}
        only(body, {"account"})
        account = account_of(body)
        with _lock:
            by_action = dict(_state["calls"].get(account, {}))
        return {"iam": sum(by_action.values()), "byAction": by_action}

    routes.update({"/trust": trust, "/faults": faults, "/calls": calls})
