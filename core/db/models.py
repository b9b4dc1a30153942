"""ORM models for the ward store (core layer). ORM objects never leave core: services return DTOs.

Times are stored as UTC ISO-8601 text with offset (`+00:00`), so they sort and
compare as text and survive any SQLite build.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("nurse", "ward_manager", "safeguarding_lead", "administrator")
INCIDENT_STATUSES = ("draft", "submitted", "in_review", "closed")
ACTION_STATUSES = ("open", "done", "not_applicable")
ACCESS_REQUEST_KINDS = ("grant_role", "raise_role", "reset_password")
ACCESS_REQUEST_STATUSES = ("pending", "approved", "refused", "withdrawn")
# The incident columns the lists and dashboard read besides ward and date: the covering indexes hold them all,
# and the reporter too, which the server's row-level security reads (migration 0022).
DASHBOARD_COLUMNS = ("status", "restricted", "shift", "location", "pair", "harm_physical",
                     "harm_psychological", "harm_confirmation_needed", "police_referred", "type_codes", "id",
                     "reporter_id")
PEOPLE_REFS_COLUMNS = ("status", "restricted", "id", "reporter_id", "people_refs")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36))
    ods_code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[str] = mapped_column(String(32))


class Ward(Base):
    __tablename__ = "wards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sex_designation: Mapped[str] = mapped_column(String(20), default="mixed")  # female, male, mixed
    service_type: Mapped[str] = mapped_column(String(60), default="adult_acute")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(32))
    # content access waits for a safeguarding lead's approval (AccessRequest; migration 0011)
    access_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # on a trust's server, the account's database login role, kept by a trigger (migration 0017); empty on SQLite
    login_role: Mapped[str | None] = mapped_column(String(63), unique=True, index=True)
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="role_known"),)


class AccessRequest(Base):
    """An administrator's grant or raise of a content role, or reset of such an account's password, waiting for
    a safeguarding lead (or, while there is none, the recovery key holder) to approve it (issue 13 item 1)."""

    __tablename__ = "access_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))  # the role the account has once approved
    created_at: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # NULL: the recovery key holder
    decided_at: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (
        CheckConstraint(f"kind IN {ACCESS_REQUEST_KINDS}", name="kind_known"),
        CheckConstraint(f"status IN {ACCESS_REQUEST_STATUSES}", name="status_known"),
    )


class UserWard(Base):
    __tablename__ = "user_wards"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), primary_key=True)


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ReferenceCounter(Base):
    """The last incident number given out in a year. References come from here, never parsed back from text."""

    __tablename__ = "reference_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), index=True)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    occurred_at: Mapped[str | None] = mapped_column(String(32), index=True)
    occurred_precision: Mapped[str] = mapped_column(String(12), default="exact")  # exact, approximate
    shift: Mapped[str | None] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(40))
    reported_at: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    immediate_actions: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of flag codes
    pair: Mapped[str | None] = mapped_column(String(40))
    harm_physical: Mapped[str | None] = mapped_column(String(12))
    harm_psychological: Mapped[str | None] = mapped_column(String(12))
    pd09: Mapped[int | None] = mapped_column(Integer)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    harm_confirmation_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Summaries of the child rows, kept by core/services/incidents.py so the dashboard counts from one
    # index (migration 0006): the incident's type codes, sorted and space-separated, and whether it was
    # referred to the police (see incidents.police_referred).
    type_codes: Mapped[str] = mapped_column(String(400), default="", server_default="")
    # the people with a reference, for the repeat-people count (core.db.queries.incidents.people_refs; 0024)
    people_refs: Mapped[str] = mapped_column(Text, default="", server_default="")
    police_referred: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    feedback_note: Mapped[str] = mapped_column(Text, default="")
    taxonomy_version: Mapped[int | None] = mapped_column(Integer)
    rules_version: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (
        CheckConstraint(f"status IN {INCIDENT_STATUSES}", name="status_known"),
        Index("ix_incidents_ward_status_occurred", "ward_id", "status", "occurred_at"),
        # Covering indexes for the queue, incident list and dashboard (migrations 0004 and 0006).
        Index("ix_incidents_occurred_cover", "occurred_at", "ward_id", *DASHBOARD_COLUMNS),
        Index("ix_incidents_ward_occurred_cover", "ward_id", "occurred_at", *DASHBOARD_COLUMNS),
        # The repeat-people count (migration 0024): only incidents with referenced people, with what the server's
        # row-level security reads, so a ward's period is counted from this index alone.
        Index("ix_incidents_people_refs", "ward_id", "occurred_at", *PEOPLE_REFS_COLUMNS,
              sqlite_where=text("people_refs != ''"), postgresql_where=text("people_refs != ''")),
    )


class IncidentType(Base):
    __tablename__ = "incident_types"
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class PersonInvolved(Base):
    __tablename__ = "people_involved"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(24))  # affected, alleged_perpetrator, witness
    person_type: Mapped[str] = mapped_column(String(20))  # patient, staff, bank_or_agency, ... (migration 0012)
    local_ref: Mapped[str] = mapped_column(String(40), default="", index=True)  # pseudonymous, never a name
    sex: Mapped[str | None] = mapped_column(String(20))  # widened by migration 0012
    age_years: Mapped[int | None] = mapped_column(Integer)
    age_band: Mapped[str | None] = mapped_column(String(16))
    detained: Mapped[bool | None] = mapped_column(Boolean)
    capacity_concern: Mapped[bool | None] = mapped_column(Boolean)
    care_support_needs: Mapped[bool | None] = mapped_column(Boolean)
    police_wishes: Mapped[str | None] = mapped_column(String(20))
    under_18: Mapped[bool | None] = mapped_column(Boolean)  # migration 0009; None: not known
    could_become_pregnant: Mapped[bool | None] = mapped_column(Boolean)  # migration 0009; None: not known
    harm_physical: Mapped[str | None] = mapped_column(String(12))
    harm_psychological: Mapped[str | None] = mapped_column(String(12))
    linked_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    __table_args__ = (
        Index("ix_people_involved_incident_cover", "incident_id", "role", "person_type", "local_ref",
              "police_wishes"),  # migration 0004
    )


class SafeguardingAction(Base):
    __tablename__ = "safeguarding_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str] = mapped_column(Text, default="")
    why: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    owner_role: Mapped[str] = mapped_column(String(20))
    owner_label: Mapped[str] = mapped_column(String(100), default="")
    assigned_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    deadline_kind: Mapped[str] = mapped_column(String(16), default="immediate")
    due_at: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(60), default="")
    completed_at: Mapped[str | None] = mapped_column(String(32))
    completed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[str] = mapped_column(String(32))
    __table_args__ = (
        CheckConstraint(f"status IN {ACTION_STATUSES}", name="status_known"),
        Index("ix_safeguarding_actions_status_due", "status", "due_at"),
        Index("ix_safeguarding_actions_status_due_incident", "status", "due_at", "incident_id"),  # migration 0004
        Index("ix_safeguarding_actions_incident_cover", "incident_id", "status", "due_at", "rule_id", "reference"),
        Index("ix_safeguarding_actions_rule_cover", "rule_id", "status", "incident_id", "reference"),  # 0005
    )


class IncidentVersion(Base):
    __tablename__ = "incident_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[str] = mapped_column(Text)  # JSON of the record as it was
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[str] = mapped_column(String(32))
    __table_args__ = (UniqueConstraint("incident_id", "version", name="uq_incident_versions_incident_version"),)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity_type: Mapped[str] = mapped_column(String(30), default="")
    entity_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    workstation: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON; never patient text
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class StoreMove(Base):
    """A ward store moved into this (server) store: its counts and old trail's head (migration 0018)."""

    __tablename__ = "store_moves"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ods_code: Mapped[str] = mapped_column(String(10))
    moved_by: Mapped[str] = mapped_column(String(64))
    moved_at: Mapped[str] = mapped_column(String(32))
    counts: Mapped[str] = mapped_column(Text)  # JSON
    old_head_id: Mapped[int] = mapped_column(Integer)
    old_head_hash: Mapped[str] = mapped_column(String(64))


class AuditArchive(Base):
    """A moved store's audit events, exactly as they were (migration 0018), so its chain stays verifiable."""

    __tablename__ = "audit_archive"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(36))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(16))
    workstation: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the id and hash of the newest audit event, so a deleted tail is detected too."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class ExportBatch(Base):
    __tablename__ = "export_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[str] = mapped_column(String(32))
    incident_count: Mapped[int] = mapped_column(Integer, default=0)
    period_from: Mapped[str | None] = mapped_column(String(32))
    period_to: Mapped[str | None] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(260), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")


class FormDraft(Base):
    """The autosaved state of one user's open incident form (encrypted with the rest of the store)."""

    __tablename__ = "form_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    payload: Mapped[str] = mapped_column(Text)  # JSON: the form's fields as typed so far
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))


class ExportLatest(Base):
    """The latest export of each kind that held an incident, and the incident's version and updated_at as exported
    then: the basis of the re-export flag. One row per incident and kind (migration 0010), so exporting again
    replaces rows instead of adding them and the store does not grow with every export."""

    __tablename__ = "export_latest"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("export_batches.id", ondelete="CASCADE"), index=True)
    incident_version: Mapped[int] = mapped_column(Integer)
    incident_updated_at: Mapped[str] = mapped_column(String(32))  # the incident's updated_at as exported
