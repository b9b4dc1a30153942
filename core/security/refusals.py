"""Refused reads and exports are audited (core layer; issue 13 item 3).

A service that refuses an actor raises PermissionDenied or NotFound carrying a `Refusal` (who, what was
attempted, which record, why). The refusal is written to the audit chain as `access.refused` in its own small
transaction, after the refused action's own transaction has rolled back, so it is kept although the read is
not. The caller's message is unchanged: a record they may not see still gets the same answer as one that
does not exist. Reasons are codes, never record content.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

from core.dto import Actor

REFUSED = "access.refused"


@dataclass
class Refusal:
    actor: Actor
    attempted: str  # a permission or an action code, e.g. "incident.view", "export.run"
    why: str  # a code: role, ward, named_staff, restricted, draft, missing, temporary_password
    entity_type: str = ""
    entity_id: str = ""
    recorded: bool = False


def attach(err: Exception, actor: Actor, attempted: str, why: str, *, entity_type: str = "",
           entity_id: str = "") -> Exception:
    """Mark `err` as a refusal to be audited; returns it for `raise attach(...)`."""
    err.refusal = Refusal(actor, attempted, why, entity_type, str(entity_id or ""))  # type: ignore[attr-defined]
    return err


def audited(fn):
    """Decorate a service `fn(store, actor, ...)` so a refusal raised before its unit of work opens (a failed
    `require`) is audited too. Works for generator services (exports) as well. The store records it
    (`Store.record_refusal`): this module sits below core.db and never imports it."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(store, *args, **kwargs):
            try:
                return (yield from fn(store, *args, **kwargs))
            except Exception as err:
                store.record_refusal(err)
                raise
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(store, *args, **kwargs):
        try:
            return fn(store, *args, **kwargs)
        except Exception as err:
            store.record_refusal(err)
            raise
    return wrapper
