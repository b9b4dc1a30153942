"""Typed errors raised by core (core layer).

Every message here is safe to show to a user and to write to a log: it never
contains patient text, passwords or key material. The UI and the CLI each map
these to what they show in exactly one place.
"""

from __future__ import annotations


class LanternError(Exception):
    """Base class: `str(err)` is a plain-English, user-safe message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(LanternError):
    """A shipped or trust-local data file (taxonomy, rules, settings) is wrong."""

    def __init__(self, file: str, entry: str, problem: str):
        super().__init__(f"{file}: {entry}: {problem}")
        self.file, self.entry, self.problem = file, entry, problem


class ValidationError(LanternError):
    """User input failed validation. `field_errors` maps a field name to a message."""

    def __init__(self, field_errors: dict[str, str] | str):
        if isinstance(field_errors, str):
            field_errors = {"": field_errors}
        self.field_errors = dict(field_errors)
        text = " ".join(msg if msg.endswith((".", "?", ")")) else msg + "." for msg in self.field_errors.values())
        super().__init__(text or "The input is not valid.")


class WrongPassword(LanternError):
    def __init__(self, message: str = "The username or password is not right. Check them and try again."):
        super().__init__(message)


class AccountThrottled(LanternError):
    def __init__(self, seconds: int):
        super().__init__(
            f"Too many failed sign-ins for this account. Wait {seconds} seconds and try again, "
            "or ask your ward manager or administrator to reset your password."
        )
        self.seconds = seconds


class StoreDamaged(LanternError):
    def __init__(self, message: str = "The incident store is damaged and cannot be opened safely. "
                 "Ask your administrator to restore it from the latest backup."):
        super().__init__(message)


class StoreReadOnly(LanternError):
    """A write was refused because damage was found in the store earlier in this session (REL-05)."""

    def __init__(self, message: str = "Lantern found damage in the incident store, so it is not saving "
                 "anything more to it; nothing you typed here was saved. Keep a note of it on paper and ask "
                 "your administrator to restore the latest backup."):
        super().__init__(message)


class SlotFileTampered(LanternError):
    def __init__(self, message: str = "The store's key file has been altered or damaged, so nobody can "
                 "sign in with it. Ask your administrator to restore it from a backup."):
        super().__init__(message)


class StoreNotFound(LanternError):
    pass


class StoreLocationRefused(LanternError):
    pass


class UnsupportedBuild(LanternError):
    pass


class PermissionDenied(LanternError):
    def __init__(self, message: str = "Your account does not allow this."):
        super().__init__(message)


class NotFound(LanternError):
    pass


class PasswordPolicyError(ValidationError):
    def __init__(self, message: str):
        super().__init__({"password": message})


class ChangedElsewhere(LanternError):
    """Someone else saved a newer change to the same record since this person opened it (issue 16 item 4): their
    change is kept and this one is not saved over it. The message says when, who and what changed."""


class ServerUnreachable(LanternError):
    """The trust's database server cannot be reached (issue 16 item 5)."""

    def __init__(self, message: str = "Lantern cannot reach the incident server. Check the network cable or "
                                      "Wi-Fi; if it still fails, call IT."):
        super().__init__(message)


class StoreBusy(LanternError):
    def __init__(self):
        super().__init__("The store is busy with another task. Wait a moment and try again; nothing was lost.")


class StorageFailure(LanternError):
    def __init__(self, message: str = "Lantern could not save to the store (the disk may be full or "
                 "read-only). Nothing was saved; what you typed is kept. Try again or call IT."):
        super().__init__(message)
