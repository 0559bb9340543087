"""A real S3-compatible server on 127.0.0.1: moto's server mode, in a process of its own.

Attest's processes talk to it over HTTP with boto3 and SigV4, exactly as they would to AWS S3,
MinIO or any other S3-compatible store; only the endpoint differs. Used by the storage tests and
by bench/multi_worker.py.

    server = FakeS3Server().start()
    server.create_bucket("attest-files")
    env = server.env("attest-files")   # what a worker process needs (ATTEST_STORAGE=s3 ...)
    server.keys("attest-files")        # every object in the bucket
    server.stop()
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# moto accepts any credentials; these are the ones its documentation uses.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeS3Server:
    """``moto_server`` on a free port of 127.0.0.1 (a separate process, so that its work never
    competes with the test's own threads for the GIL)."""

    def __init__(self, log: Path | None = None):
        self.port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> FakeS3Server:
        output = self.log.open("w") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-c",
                "import sys; from moto.server import main; sys.exit(main())",
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **CREDENTIALS},
        )
        deadline = time.monotonic() + timeout
        while not self._up():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto_server did not start on {self.endpoint_url}")
            time.sleep(0.1)
        return self

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1):  # noqa: S310
                return True
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return sorted(
            item["Key"]
            for page in paginator.paginate(Bucket=bucket)
            for item in page.get("Contents", [])
        )

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def env(self, bucket: str) -> dict[str, str]:
        """The environment that points Attest's settings at this server's ``bucket``."""
        return {
            "ATTEST_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": CREDENTIALS["AWS_DEFAULT_REGION"],
            "AWS_S3_ADDRESSING_STYLE": "path",
            **CREDENTIALS,
        }
