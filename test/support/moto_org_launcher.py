#!/usr/bin/env python3
"""Test-only launcher: moto_launcher.py for AWS Organizations tests (many accounts).

moto already runs Organizations and gives AssumeRole into a member account keys that belong
to that account's own IAM. What it lacks, and this wrapper adds:

1. Seeding any account: POST /seed and /backdate take a top-level "account" (12 digits,
   default 123456789012) and act on that account's IAM backend.

2. AssumeRole checked as AWS does, once POST /trust {"enforce": true} (off by default, and
   after /reset): the role must exist in the target account, and its trust policy must have an
   Allow statement for sts:AssumeRole (or sts:* or *) whose AWS principal is the caller's
   account ("ACCOUNT" or "arn:aws:iam::ACCOUNT:root") or the caller's ARN, and, when it has a
   StringEquals sts:ExternalId condition, the request's ExternalId must equal it. Otherwise
   AccessDenied: "User: CALLER is not authorized to perform: sts:AssumeRole on resource: ROLE".

3. Faults per account: POST /faults {"account": A, "throttle": N} makes the next N IAM
   requests signed with a key of account A answer Throttling (HTTP 400, IAM's XML error);
   {"account": A, "deny": true|false} answers AccessDenied to every IAM request of A until
   cleared. Other accounts are untouched.

4. Calls per account: POST /calls {"account": A} -> {"iam": n, "byAction": {...}}; POST
   /calls {"reset": true} zeroes the counts. The benchmark's "calls per account" come from here.

The READY line and the rest of the control API are moto_launcher.py's.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import threading
from typing import Any
from urllib.parse import parse_qs

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_launcher  # noqa: E402
from moto.iam.models import get_account_id_from, iam_backends  # noqa: E402
from moto.moto_server import threaded_moto_server  # noqa: E402
from moto.sts.exceptions import STSClientError  # noqa: E402
from moto.sts.responses import TokenResponse  # noqa: E402

DEFAULT_ACCOUNT = moto_launcher.ACCOUNT_ID
_state_lock = threading.Lock()
_state: dict[str, Any] = {"enforce": False, "throttle": {}, "deny": set(), "calls": {}}
_current = threading.local()


# ------------------------------------------------------------------ 1. seeding any account


def _backend_for_request() -> Any:
    account = getattr(_current, "account", None) or DEFAULT_ACCOUNT
    return iam_backends[account]["global"]


moto_launcher.backend = _backend_for_request  # type: ignore[assignment]


def _with_account(route: Any) -> Any:
    def handler(body: dict[str, Any]) -> dict[str, Any]:
        account = body.pop("account", DEFAULT_ACCOUNT) if isinstance(body, dict) else DEFAULT_ACCOUNT
        if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
            raise moto_launcher.BadRequest(f"account: expected 12 digits, got {account!r}")
        _current.account = account
        try:
            return route(body)
        finally:
            _current.account = None

    return handler


# ------------------------------------------------------------------ 2. AssumeRole trust


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    if principal == "*":
        return ["*"]
    aws = principal.get("AWS", []) if isinstance(principal, dict) else []
    return [aws] if isinstance(aws, str) else list(aws)


def _action_matches(statement: dict[str, Any]) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)


def _trusts(policy: dict[str, Any], caller_account: str, caller_arn: str, external_id: str | None) -> bool:
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    for st in statements:
        if st.get("Effect") != "Allow" or not _action_matches(st):
            continue
        wanted = {caller_account, f"arn:aws:iam::{caller_account}:root", caller_arn, "*"}
        if not wanted.intersection(_principals(st)):
            continue
        condition = st.get("Condition", {}).get("StringEquals", {})
        if "sts:ExternalId" in condition and condition["sts:ExternalId"] != external_id:
            continue
        return True
    return False


_original_assume_role = TokenResponse.assume_role


def _assume_role(self: Any) -> Any:
    if _state["enforce"]:
        role_arn = self._get_param("RoleArn") or ""
        external_id = self._get_param("ExternalId")
        caller_account = get_account_id_from(self.get_access_key())
        caller_arn = f"arn:aws:iam::{caller_account}:user/moto"
        match = re.match(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn)
        role = None
        if match:
            be = iam_backends[match.group(1)]["global"]
            role = next((r for r in be.roles.values() if r.name == match.group(2)), None)
        policy = json.loads(role.assume_role_policy_document) if role is not None else None
        if policy is None or not _trusts(policy, caller_account, caller_arn, external_id):
            raise STSClientError(
                "AccessDenied",
                f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            )
    return _original_assume_role(self)


TokenResponse.assume_role = _assume_role  # type: ignore[method-assign]


# ------------------------------------------------------------------ 3./4. faults and counts

_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/")


def _iam_error(status: str, code: str, message: str) -> tuple[str, bytes]:
    body = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>org-fault</RequestId></ErrorResponse>"
    )
    return status, body.encode()


class FaultingApp:
    """Wraps moto's WSGI app: counts IAM requests per account and injects per-account faults."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match is None or match.group(2) != "iam":
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        action = (parse_qs(raw.decode("utf-8", "replace")).get("Action") or [""])[0]
        account = get_account_id_from(match.group(1))
        reply = None
        with _state_lock:
            counts = _state["calls"].setdefault(account, {})
            counts[action] = counts.get(action, 0) + 1
            if account in _state["deny"]:
                reply = _iam_error(
                    "403 Forbidden",
                    "AccessDenied",
                    f"User: arn:aws:iam::{account}:user/moto is not authorized to perform: iam:{action}",
                )
            elif _state["throttle"].get(account, 0) > 0:
                _state["throttle"][account] -= 1
                reply = _iam_error("400 Bad Request", "Throttling", "Rate exceeded")
        if reply is not None:
            start_response(reply[0], [("Content-Type", "text/xml"), ("Content-Length", str(len(reply[1])))])
            return [reply[1]]
        return self.app(environ, start_response)


_Dispatcher = threaded_moto_server.DomainDispatcherApplication


def _faulting_dispatcher(*args: Any, **kwargs: Any) -> Any:
    return FaultingApp(_Dispatcher(*args, **kwargs))


threaded_moto_server.DomainDispatcherApplication = _faulting_dispatcher  # type: ignore[assignment,misc]


# ------------------------------------------------------------------ control routes


def trust(body: dict[str, Any]) -> dict[str, Any]:
    moto_launcher.check_keys(body, {"enforce"}, "body")
    if not isinstance(body.get("enforce"), bool):
        raise moto_launcher.BadRequest("enforce: expected a boolean")
    _state["enforce"] = body["enforce"]
    return {}


def faults(body: dict[str, Any]) -> dict[str, Any]:
    moto_launcher.check_keys(body, {"account", "throttle", "deny"}, "body")
    account = body.get("account")
    if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
        raise moto_launcher.BadRequest(f"account: expected 12 digits, got {account!r}")
    with _state_lock:
        if "throttle" in body:
            n = body["throttle"]
            if not isinstance(n, int) or n < 0:
                raise moto_launcher.BadRequest("throttle: expected a count >= 0")
            _state["throttle"][account] = n
        if "deny" in body:
            if not isinstance(body["deny"], bool):
                raise moto_launcher.BadRequest("deny: expected a boolean")
            (_state["deny"].add if body["deny"] else _state["deny"].discard)(account)
    return {}


def calls(body: dict[str, Any]) -> dict[str, Any]:
    moto_launcher.check_keys(body, {"account", "reset"}, "body")
    with _state_lock:
        if body.get("reset") is True:
            _state["calls"] = {}
            return {}
        by_action = dict(_state["calls"].get(body.get("account"), {}))
    return {"iam": sum(by_action.values()), "byAction": by_action}


_original_reset = moto_launcher.ROUTES["/reset"]


def reset(body: dict[str, Any]) -> dict[str, Any]:
    out = _original_reset(body)
    with _state_lock:
        _state.update({"enforce": False, "throttle": {}, "deny": set(), "calls": {}})
    return out


moto_launcher.ROUTES.update(
    {
        "/seed": _with_account(moto_launcher.ROUTES["/seed"]),
        "/backdate": _with_account(moto_launcher.ROUTES["/backdate"]),
        "/reset": reset,
        "/trust": trust,
        "/faults": faults,
        "/calls": calls,
    }
)

if __name__ == "__main__":
    moto_launcher.main()
