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


@dataclass(frozen=True)
class WardInfo:
    ward_id: int
    name: str
    sex_designation: str
    service_type: str
    active: bool


@dataclass(frozen=True)
class NewAccount:
    """What creating an account hands back: the temporary password to give the person, once."""

    user: UserInfo
    temporary_password: str


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
