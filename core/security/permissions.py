"""Roles and the permission matrix, enforced in core services (core layer).

This is an application control, not a cryptographic one: every account unlocks the
same database key (docs/security-model.md says so plainly). Every service function
calls `require` before it touches data.
"""

from __future__ import annotations

from core.dto import Actor
from core.errors import PermissionDenied
from core.security.refusals import attach

NURSE, WARD_MANAGER, SAFEGUARDING_LEAD, ADMINISTRATOR = "nurse", "ward_manager", "safeguarding_lead", "administrator"
ROLES = (NURSE, WARD_MANAGER, SAFEGUARDING_LEAD, ADMINISTRATOR)
ROLE_LABELS = {NURSE: "Nurse", WARD_MANAGER: "Ward manager", SAFEGUARDING_LEAD: "Safeguarding lead",
               ADMINISTRATOR: "Administrator"}
CLINICAL = frozenset({NURSE, WARD_MANAGER, SAFEGUARDING_LEAD})
MANAGERS = frozenset({WARD_MANAGER, SAFEGUARDING_LEAD})
# How much incident content a role reads: giving an account a higher rank than it had needs approval
CONTENT_RANK = {ADMINISTRATOR: 0, NURSE: 1, WARD_MANAGER: 2, SAFEGUARDING_LEAD: 3}

# permission -> (roles that hold it, what it means)
MATRIX: dict[str, tuple[frozenset[str], str]] = {
    "incident.create": (CLINICAL, "Start, save and submit an incident report on one of your wards"),
    "incident.view": (CLINICAL, "Read incidents on your wards (restricted ones: see below)"),
    "incident.view_restricted": (MANAGERS, "Read restricted incidents (staff named as alleged perpetrator)"),
    "incident.review": (MANAGERS, "Review, edit after submission, confirm harm, give feedback"),
    "incident.close": (MANAGERS, "Close and reopen incidents"),
    "action.update": (CLINICAL, "Complete a safeguarding action (a mandatory one needs a note of what was done)"),
    "action.manage": (MANAGERS, "Mark an action not applicable or reopen it (with a reason), reassign, add by hand"),
    "report.view": (MANAGERS, "See the dashboard and summary figures"),
    "export.run": (MANAGERS, "Export incidents (NRLS dataset, LFPSE-aligned, PDF)"),
    "audit.view": (frozenset({SAFEGUARDING_LEAD, ADMINISTRATOR}), "Read the audit trail (no incident content)"),
    "users.manage": (frozenset({ADMINISTRATOR}), "Create accounts, reset passwords, change roles and wards"),
    "access.approve": (frozenset({SAFEGUARDING_LEAD}),
                       "Approve or refuse an administrator's grant of content access or password reset"),
    "wards.manage": (frozenset({ADMINISTRATOR}), "Add and change wards"),
    "settings.manage": (frozenset({ADMINISTRATOR}), "Change store settings such as the lock timeout"),
    "backup.run": (frozenset({ADMINISTRATOR}), "Make and restore backups"),
    "store.check": (frozenset(ROLES), "Check the store's integrity and audit chain"),
    "account.change_own_password": (frozenset(ROLES), "Change your own password"),
}


def allowed(actor: Actor, permission: str) -> bool:
    roles, _ = MATRIX[permission]
    return actor.role in roles


def require(actor: Actor, permission: str) -> None:
    """Raise PermissionDenied unless the actor's role holds `permission`.

    An account still on a temporary password may only change it.
    """
    if permission not in MATRIX:
        raise KeyError(permission)
    if actor.must_change_password and permission != "account.change_own_password":
        raise attach(PermissionDenied("Change your temporary password before you do anything else."), actor,
                     permission, "temporary_password")
    if not allowed(actor, permission):
        raise attach(PermissionDenied(), actor, permission, "role")


def require_ward(actor: Actor, ward_id: int) -> None:
    if actor.role != SAFEGUARDING_LEAD and ward_id not in actor.ward_ids:
        raise attach(PermissionDenied("That ward is not one of yours."), actor, "ward", "ward",
                     entity_type="ward", entity_id=str(ward_id))
