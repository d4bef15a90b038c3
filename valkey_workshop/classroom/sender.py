"""``python -m valkey_workshop.classroom.sender WORKDIR``: the background sender a check starts
when results wait in the outbox (see :func:`.membership.run_sender`)."""

from __future__ import annotations

import sys
from pathlib import Path

from valkey_workshop.classroom.membership import run_sender

if __name__ == "__main__":
    sys.exit(run_sender(Path(sys.argv[1])) if len(sys.argv) == 2 else 2)
