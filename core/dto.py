"""Plain frozen data passed between core and its callers (core layer). No ORM objects cross this line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """The signed-in user, as every service function sees them."""

    user_id: str
    username: str
    role: str
    ward_ids: tuple[int, ...]
    workstation: str
    must_change_password: bool = False
    display_name: str = ""


@dataclass(frozen=True)
class UserInfo:
    user_id: str
    username: str
    display_name: str
    role: str
    ward_ids: tuple[int, ...]
    active: bool
    must_change_password: bool
    access_pending: bool = False  # waiting for a safeguarding lead to approve its content access


@dataclass(frozen=True)
class AccessRequestInfo:
    """A request for content access as the approver sees it: who asked, for whom, which role, when."""

    request_id: int
    kind: str  # grant_role | raise_role | reset_password
    username: str
    display_name: str
    role: str
    requested_by: str  # the administrator's username
    requested_at: str


@dataclass(frozen=True)
class StaffChoice:
    """An account a reporter may link to a staff member named in a report. Never carries password or slot data."""

    user_id: str
    label: str  # e.g. "nurse2 (Nurse)" or "jbloggs: J Bloggs (Ward manager)"
    username: str
    role: str


@dataclass(frozen=True)
class WardInfo:
    ward_id: int
    name: str
    sex_designation: str
    service_type: str
    active: bool


@dataclass(frozen=True)
class NewAccount:
    """What creating an account hands back: the temporary password to give the person, once. An account that
    waits for a safeguarding lead's approval has none (""): the approver is shown one when approving."""

    user: UserInfo
    temporary_password: str
    request_id: int | None = None  # the access request waiting for approval, if any


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Changes:
    """What a service changed, so a screen knows what to refresh (Anki's OpChanges idea)."""

    incidents: bool = False
    actions: bool = False
    users: bool = False
    wards: bool = False
    settings: bool = False
    ids: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PersonDraft:
    """One person involved, as a form or import describes them. `local_ref` is pseudonymous, never a name."""

    role: str
    person_type: str
    local_ref: str = ""
    sex: str | None = None
    age_years: int | None = None
    age_band: str | None = None
    detained: bool | None = None
    capacity_concern: bool | None = None
    care_support_needs: bool | None = None
    police_wishes: str | None = None
    harm_physical: str | None = None
    harm_psychological: str | None = None
    linked_user_id: str | None = None
    # Yes / no / not known (None), like detained above: a blank never removes a safeguarding action.
    under_18: bool | None = None  # the quick answer when the age itself is not recorded
    could_become_pregnant: bool | None = None


@dataclass(frozen=True)
class IncidentDraft:
    """An incident report as typed so far. Everything may be empty until submit."""

    ward_id: int
    types: tuple[str, ...] = ()
    occurred_at: object = None  # aware datetime, or None
    occurred_precision: str = "exact"  # exact | approximate
    shift: str | None = None
    location: str | None = None
    people: tuple[PersonDraft, ...] = ()
    flags: tuple[str, ...] = ()
    description: str = ""
    immediate_actions: str = ""


@dataclass(frozen=True)
class FormState:
    """What the report form autosaves (core.services.drafts.save_form): the report as typed so far, the step the
    person was on (0 = the first), and the time box's text as typed, which may not be a valid time yet and so is
    not in the draft."""

    draft: IncidentDraft
    step: int = 0
    time_text: str = ""


@dataclass(frozen=True)
class ActionInfo:
    action_id: int
    incident_id: str
    incident_reference: str
    rule_id: str | None
    title: str
    guidance: str
    why: str
    source: str
    owner_role: str
    owner_label: str
    assigned_user_id: str | None
    mandatory: bool
    deadline_kind: str
    due_at: object  # aware datetime
    status: str
    note: str
    reference: str
    completed_at: object
    group: str = ""
    # Where the deadline comes from: "national" or "local" (core.rules.BASES), read from the rule in force;
    # "" when the rule is no longer in the rules (or the action came from none).
    basis: str = ""
    check: bool = False  # a "Confirm whether ..." check, standing for other actions until someone answers


@dataclass(frozen=True)
class IncidentSummary:
    incident_id: str
    reference: str
    ward_id: int
    ward_name: str
    status: str
    types: tuple[str, ...]
    occurred_at: object
    location: str | None
    restricted: bool
    open_actions: int
    overdue_actions: int
    reporter_id: str
    feedback_note: str = ""


@dataclass(frozen=True)
class IncidentDetail:
    incident_id: str
    reference: str
    ward_id: int
    ward_name: str
    status: str
    reporter_id: str
    draft: IncidentDraft
    reported_at: object
    submitted_at: object
    closed_at: object
    pair: str | None
    harm_physical: str | None
    harm_psychological: str | None
    pd09: int | None
    restricted: bool
    harm_confirmation_needed: bool
    feedback_note: str
    version: int
    actions: tuple[ActionInfo, ...] = ()


@dataclass(frozen=True)
class VersionInfo:
    version: int
    created_at: object
    created_by: str
    reason: str
    snapshot: dict
