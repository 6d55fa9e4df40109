"""`make replay FILE...`: post saved webhook bodies to the running local stack, signed.

Each file's bytes are sent unchanged, as Facebook sends them: the signature covers the exact
bytes, so re-encoding the JSON would break it (PLATFORM.md §1.2). Reads BASE_URL (default
`http://127.0.0.1:$PORT`, PORT 8080) and FB_APP_SECRET (default `dev-app-secret`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import requests

from infra.local.sandbox import sign

_TIMEOUT = (3.05, 30)


def replay(paths: list[str], *, base_url: str, app_secret: str) -> list[int]:
    """POST each file to the webhook; returns the HTTP status of each."""
    url = base_url.rstrip("/") + "/webhooks/facebook"
    statuses = []
    with requests.Session() as session:
        for path in paths:
            raw = Path(path).read_bytes()
            headers = {"Content-Type": "application/json", **sign(app_secret, raw)}
            answer = session.post(url, data=raw, headers=headers, timeout=_TIMEOUT)
            statuses.append(answer.status_code)
            print(f"{answer.status_code} {path}", flush=True)
    return statuses


def main(argv: list[str]) -> int:
    if not argv:
        print(
            "usage: make replay FILE...  (or python -m infra.local.replay FILE...)", file=sys.stderr
        )
        return 2
    base_url = os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT', 8080)}"
    app_secret = os.environ.get("FB_APP_SECRET", "dev-app-secret")
    try:
        statuses = replay(argv, base_url=base_url, app_secret=app_secret)
    except requests.ConnectionError:
        print(
            f"Nothing answers at {base_url}: start the stack with `make dev` first.",
            file=sys.stderr,
        )
        return 1
    except FileNotFoundError as exc:
        print(f"No such file: {exc.filename}", file=sys.stderr)
        return 1
    return 0 if all(status == 200 for status in statuses) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
