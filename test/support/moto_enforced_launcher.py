#!/usr/bin/env python3
"""Test-only launcher: moto_launcher.py for the least-privilege tests (moto's IAM enforcement).

moto's IAM-like access control checks the caller's identity policies on every request once
settings.INITIAL_NO_AUTH_ACTION_COUNT requests have gone by (the env variable of that name at
start, or POST /moto-api/reset-auth with a number at run time, which also zeroes the count).
It runs before moto looks for the action, so an action moto does not implement is still
refused (AccessDenied) or let through (and then fails as unimplemented). sts:GetCallerIdentity
is always allowed. Conditions, permissions boundaries and resource policies are not evaluated.

Two gaps would make the printed policies untestable, and this wrapper closes them:

1. Resources. For IAM, moto checks every request against the resource "*" (or a role's ARN
   when the role exists), so a statement scoped to arn:aws:iam::*:user/* never matches. Here
   each IAM request gets the resource AWS's Service Authorization Reference gives it:

     AddUserToGroup, RemoveUserFromGroup     the group   arn:aws:iam::ACCOUNT:group/PATH/NAME
     DeleteVirtualMFADevice                  the device  (its SerialNumber is the ARN)
     Create-, Get-, DeleteInstanceProfile,   the profile arn:aws:iam::ACCOUNT:instance-profile/P/N
       AddRoleTo-, RemoveRoleFromInstanceProfile
     any other request with a UserName       the user    arn:aws:iam::ACCOUNT:user/PATH/NAME
     any other request with a RoleName       the role    arn:aws:iam::ACCOUNT:role/PATH/NAME
     everything else                         "*"  (ListUsers, GenerateCredentialReport,
                                                   GetAccessKeyLastUsed, ...)

   PATH is the entity's own, or the request's Path for one that does not exist yet (a
   create), or "/" (AWS builds the ARN of a missing entity from its name).

2. Errors of JSON services. moto answers a refused CloudTrail or Security Hub call with IAM's
   XML error, which the SDK cannot parse; here it is the service's own JSON
   AccessDeniedException (CloudTrail: HTTP 400; Security Hub: HTTP 403).

And what the remediate policy grants but moto lacks, in AWS's shapes, so that the kitchen-sink
user of the tests can have everything DESIGN §4 names and every granted call is made:
CreateLoginProfile's PasswordResetRequired (moto drops it), user permissions boundaries
(CreateUser's PermissionsBoundary, GetUser, Put/DeleteUserPermissionsBoundary),
service-specific credentials (Create, List, Delete),
Access Advisor (GenerateServiceLastAccessedDetails; GetServiceLastAccessedDetails answers
COMPLETED with no services at once) and CloudTrail LookupEvents (no events).

Everything else is moto_launcher.py unchanged: the same READY line and control API.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import datetime, timezone
from typing import Any

# Import the launcher beside this file without leaving a __pycache__ in the checkout.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_launcher  # noqa: E402
from moto.cloudtrail.responses import CloudTrailResponse  # noqa: E402
from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.core.responses import ActionResult, EmptyResult  # noqa: E402
from moto.iam.access_control import IAMRequest  # noqa: E402
from moto.iam.exceptions import NoSuchEntity  # noqa: E402
from moto.iam.models import User, iam_backends  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402

GROUP_ACTIONS = {"AddUserToGroup", "RemoveUserFromGroup"}
INSTANCE_PROFILE_ACTIONS = {
    "CreateInstanceProfile",
    "GetInstanceProfile",
    "DeleteInstanceProfile",
    "AddRoleToInstanceProfile",
    "RemoveRoleFromInstanceProfile",
}
# The HTTP status each JSON service answers AccessDeniedException with.
JSON_SERVICES = {"cloudtrail": 400, "securityhub": 403}


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


# ---------------------------------------------------------------- 1. resources


def _first(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value if isinstance(value, str) else None


def _path_of(lookup: Any, name: str, requested: str | None) -> str:
    try:
        return lookup(name).path or "/"
    except Exception:  # noqa: BLE001 - moto raises its own not-found types
        return requested or "/"


def _determine_resource(self: Any) -> str:
    data = self.data
    action = self._get_action()
    account = self.current_account
    backend = iam_backends[account][self.partition]
    prefix = f"arn:{self.partition}:iam::{account}"
    requested_path = _first(data, "Path")
    if action in GROUP_ACTIONS:
        group = _first(data, "GroupName") or ""
        return f"{prefix}:group{_path_of(backend.get_group, group, None)}{group}"
    if action == "DeleteVirtualMFADevice":
        return _first(data, "SerialNumber") or "*"
    if action in INSTANCE_PROFILE_ACTIONS:
        profile = _first(data, "InstanceProfileName") or ""
        path = _path_of(backend.get_instance_profile, profile, requested_path)
        return f"{prefix}:instance-profile{path}{profile}"
    user = _first(data, "UserName")
    if user:
        return f"{prefix}:user{_path_of(backend.get_user, user, requested_path)}{user}"
    role = _first(data, "RoleName")
    if role:
        return f"{prefix}:role{_path_of(backend.get_role, role, requested_path)}{role}"
    return "*"


IamResponse._determine_resource = _determine_resource  # type: ignore[method-assign]

# ---------------------------------------------------------------- 2. JSON errors

_raise_access_denied = IAMRequest._raise_access_denied


def _raise_access_denied_json(self: Any) -> None:
    status = JSON_SERVICES.get(self._service)
    if status is not None:
        error = JsonRESTError(
            "AccessDeniedException",
            f"User: {self._access_key.arn} is not authorized to perform: {self._action}",
        )
        error.code = status
        raise error
    _raise_access_denied(self)


IAMRequest._raise_access_denied = _raise_access_denied_json  # type: ignore[method-assign]

# ---------------------------------------------------------------- 3. missing APIs


def _backend(response: Any) -> Any:
    return iam_backends[response.current_account][response.partition]


def _user(response: Any, name: str) -> Any:
    return _backend(response).get_user(name)  # NoSuchEntity when missing, like AWS


# Permissions boundaries of users (moto has them for roles only).
def _user_boundary(self: Any) -> dict[str, str] | None:
    arn = getattr(self, "dormant_boundary_arn", None)
    if not arn:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


User.permissions_boundary = property(_user_boundary)  # type: ignore[attr-defined]

_create_user = IamResponse.create_user


def create_user(self: Any) -> ActionResult:
    result = _create_user(self)
    boundary = self._get_param("PermissionsBoundary")
    if boundary:
        _user(self, self._get_param("UserName")).dormant_boundary_arn = boundary
    return result


def create_login_profile(self: Any) -> ActionResult:
    name, password = self._get_param("UserName"), self._get_param("Password")
    user = self.backend.create_login_profile(name, password)
    user.password_reset_required = self._get_bool_param("PasswordResetRequired", False)
    profile = {
        "UserName": user.name,
        "CreateDate": user.create_date,
        "PasswordResetRequired": user.password_reset_required,
    }
    return ActionResult({"LoginProfile": profile})


def put_user_permissions_boundary(self: Any) -> ActionResult:
    boundary = self._get_param("PermissionsBoundary")
    _user(self, self._get_param("UserName")).dormant_boundary_arn = boundary
    return EmptyResult()


def delete_user_permissions_boundary(self: Any) -> ActionResult:
    _user(self, self._get_param("UserName")).dormant_boundary_arn = None
    return EmptyResult()


# Service-specific credentials (CodeCommit, Keyspaces, Bedrock): kept on the user object, so
# DeleteUser takes them along and a recreated user has none.
def _credentials(user: Any) -> list[dict[str, Any]]:
    if not hasattr(user, "dormant_service_credentials"):
        user.dormant_service_credentials = []
    return user.dormant_service_credentials


def create_service_specific_credential(self: Any) -> ActionResult:
    name = self._get_param("UserName")
    user = _user(self, name)
    credential = {
        "CreateDate": now(),
        "ServiceName": self._get_param("ServiceName"),
        "ServiceUserName": f"{name}-at-{len(_credentials(user)) + 1}",
        "ServicePassword": uuid.uuid4().hex,
        "ServiceSpecificCredentialId": "ACCA" + uuid.uuid4().hex[:17].upper(),
        "UserName": name,
        "Status": "Active",
    }
    _credentials(user).append(credential)
    return ActionResult({"ServiceSpecificCredential": credential})


def list_service_specific_credentials(self: Any) -> ActionResult:
    user = _user(self, self._get_param("UserName"))
    service = self._get_param("ServiceName")
    listed = [
        {k: v for k, v in c.items() if k != "ServicePassword"}
        for c in _credentials(user)
        if service is None or c["ServiceName"] == service
    ]
    return ActionResult({"ServiceSpecificCredentials": listed, "IsTruncated": False})


def delete_service_specific_credential(self: Any) -> ActionResult:
    user = _user(self, self._get_param("UserName"))
    wanted = self._get_param("ServiceSpecificCredentialId")
    kept = [c for c in _credentials(user) if c["ServiceSpecificCredentialId"] != wanted]
    if len(kept) == len(_credentials(user)):
        raise NoSuchEntity(f"No such service-specific credential: {wanted}")
    user.dormant_service_credentials = kept
    return EmptyResult()


# Access Advisor: a job per request, complete at once, with no services reached.
_jobs: dict[str, datetime] = {}


def generate_service_last_accessed_details(self: Any) -> ActionResult:
    arn = self._get_param("Arn") or ""
    name = arn.rsplit("/", 1)[-1]
    backend = _backend(self)
    known = (":user/" in arn and name in backend.users) or (
        ":role/" in arn and any(r.name == name for r in backend.roles.values())
    )
    if not known:
        raise NoSuchEntity(f"The entity {arn} does not exist")
    job = str(uuid.uuid4())
    _jobs[job] = now()
    return ActionResult({"JobId": job})


def get_service_last_accessed_details(self: Any) -> ActionResult:
    job = self._get_param("JobId")
    created = _jobs.get(job)
    if created is None:
        raise NoSuchEntity(f"No such job: {job}")
    return ActionResult(
        {
            "JobType": "SERVICE_LEVEL",
            "JobStatus": "COMPLETED",
            "JobCreationDate": created,
            "JobCompletionDate": created,
            "ServicesLastAccessed": [],
            "IsTruncated": False,
        }
    )


def lookup_events(self: Any) -> str:
    return json.dumps({"Events": []})


for _method in (
    create_user,
    create_login_profile,
    put_user_permissions_boundary,
    delete_user_permissions_boundary,
    create_service_specific_credential,
    list_service_specific_credentials,
    delete_service_specific_credential,
    generate_service_last_accessed_details,
    get_service_last_accessed_details,
):
    setattr(IamResponse, _method.__name__, _method)
CloudTrailResponse.lookup_events = lookup_events  # type: ignore[attr-defined]

if __name__ == "__main__":
    moto_launcher.main()
