"""`make deploy-web`: upload the built inbox to the stack's web bucket and refresh CloudFront.

Reads the stack's outputs, writes the inbox's runtime `config.json` from them (the API is on
the inbox's own origin through CloudFront; the WebSocket URL and Cognito ids as deployed),
uploads `web/dist` with content types and cache headers, and invalidates the distribution.

Usage: python -m infra.deploy_web STACK_NAME [--dist web/dist]
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Vite names built assets by their content hash: a changed file is a new name.
IMMUTABLE = "public, max-age=31536000, immutable"
# index.html and config.json name the current assets and URLs: never kept stale.
NO_CACHE = "no-cache"


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def runtime_config(outputs: dict[str, str]) -> dict[str, str]:
    """What the inbox reads at start; fails naming the outputs the stack lacks."""
    missing = [k for k in ("WebBucketName", "WebDistributionId") if k not in outputs]
    if missing:
        raise SystemExit(f"the stack has no output {', '.join(missing)}: deploy it first")
    return {
        # Empty: CloudFront forwards /api/* on the inbox's own origin.
        "api_base": "",
        "ws_url": outputs.get("WebSocketUrl", ""),
        "user_pool_id": outputs.get("UserPoolId", ""),
        "user_pool_client_id": outputs.get("UserPoolClientId", ""),
    }


def upload(s3: Any, bucket: str, dist: Path, config: dict[str, str]) -> list[str]:
    """Upload every built file, then config.json and index.html last, so a visitor never
    gets a page naming assets that are not there yet. Returns the keys written."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist} has no index.html: run `make web` first")
    files = sorted(p for p in dist.rglob("*") if p.is_file())
    ordered = [p for p in files if p.name != "index.html"] + [dist / "index.html"]
    written = []
    for path in ordered:
        key = path.relative_to(dist).as_posix()
        if key == "config.json":
            continue
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if key.startswith("assets/") else NO_CACHE
        if key == "index.html":
            _put(s3, bucket, "config.json", json.dumps(config).encode(), "application/json",
                 NO_CACHE)
            written.append("config.json")
        _put(s3, bucket, key, path.read_bytes(), kind, cache)
        written.append(key)
    return written


def _put(s3: Any, bucket: str, key: str, body: bytes, kind: str, cache: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=kind, CacheControl=cache)


def invalidate(cloudfront: Any, distribution_id: str) -> str:
    # The hashed assets never change; only the page and its settings need refetching.
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/index.html", "/config.json"]},
            "CallerReference": f"deploy-web-{time.time_ns()}",
        },
    )
    return answer["Invalidation"]["Id"]


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stack_name")
    parser.add_argument("--dist", type=Path, default=ROOT / "web" / "dist")
    args = parser.parse_args(argv)

    outputs = stack_outputs(boto3.client("cloudformation"), args.stack_name)
    config = runtime_config(outputs)
    written = upload(boto3.client("s3"), outputs["WebBucketName"], args.dist, config)
    invalidation = invalidate(boto3.client("cloudfront"), outputs["WebDistributionId"])
    print(f"Uploaded {len(written)} files; invalidation {invalidation}.")
    print(f"The inbox: {outputs.get('WebUrl', '(no WebUrl output)')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
