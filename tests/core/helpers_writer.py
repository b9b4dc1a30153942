"""Child process for the crash and concurrency harnesses (run with the repo on PYTHONPATH).

    python helpers_writer.py STORE_FOLDER USERNAME WARD_ID COUNT [GO_FILE]   (password on stdin)

Signs in through the real service layer, prints "ready", optionally waits until GO_FILE exists, then
creates COUNT synthetic draft incidents (COUNT 0 = until killed), one transaction each, printing each
incident id only after its transaction has committed. Finally prints "done <written> <busy> <other>".
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.dto import IncidentDraft, PersonDraft
from core.errors import LanternError, StoreBusy
from core.services import accounts, incidents


def main() -> int:
    folder, username, ward_id, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    go_file = Path(sys.argv[5]) if len(sys.argv) > 5 else None
    password = sys.stdin.readline().rstrip("\n")
    store, actor = accounts.sign_in(folder, username, password)
    print("ready", flush=True)
    if go_file is not None:
        deadline = time.monotonic() + 60
        while not go_file.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    written = busy = other = 0
    i = 0
    while count == 0 or i < count:
        draft = IncidentDraft(
            ward_id=ward_id, types=("SS-HAR-V",), occurred_at=datetime.now(UTC) - timedelta(hours=1),
            location="lounge", description=f"Synthetic harness incident {username} {i}.",
            people=(PersonDraft(role="affected", person_type="patient", local_ref=f"H{i % 997}",
                                harm_physical="none", harm_psychological="low"),
                    PersonDraft(role="alleged_perpetrator", person_type="patient")))
        i += 1
        try:
            detail = incidents.create_draft(store, actor, draft)
        except StoreBusy:
            busy += 1
            continue
        except LanternError as err:
            other += 1
            print(f"error {type(err).__name__}", flush=True)
            continue
        written += 1
        sys.stdout.write(detail.incident_id + "\n")
        sys.stdout.flush()
    store.close()
    print(f"done {written} {busy} {other}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
