"""``prefect server start`` with a ``Server-Timing`` header on every response.

    python prefect_server.py [ARGUMENTS OF prefect server start ...]

Runs Prefect's own command, unchanged, except that the ASGI application it hands to
uvicorn is wrapped in cadenza's timing middleware (``cadenza/server/timing.py``,
loaded from its file: it needs nothing but the standard library), so that both
servers' times are measured by the same code. Runs in Prefect's environment.
"""

from __future__ import annotations

import sys
from typing import Any

from common import load_timing


def main() -> None:
    import uvicorn

    timing = load_timing()
    run = uvicorn.run

    def run_timed(app: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(app, str):  # an import string is Prefect's multi-worker mode
            app = timing.ServerTiming(app)
        run(app, *args, **kwargs)

    uvicorn.run = run_timed
    from prefect.cli import app

    sys.argv = ["prefect", "server", "start", *sys.argv[1:]]
    sys.exit(app())


if __name__ == "__main__":
    main()
