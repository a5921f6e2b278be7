"""A misconfigured connection fails `sluice check` with one line naming the service and cause,
and no password of the secure stack ever shows in a command's output or a service's log."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from sluice.stack import secure
from sluice.stack.certificates import StackCertificates
from tests.support.crawling import wait_for
from tests.support.network import free_port
from tests.support.processing import product, publish

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.mongo, pytest.mark.redis]


def failed_line(result: subprocess.CompletedProcess, service: str) -> str:
    """The line `sluice check` printed for ``service``; the command must have failed."""
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith(f"{service} ")]
    return line


def test_a_healthy_secure_stack_passes_the_check(secure_stack):
    result = secure_stack.cli("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_kafka_password_is_named(secure_stack):
    result = secure_stack.cli("check", kafka_password="not-the-password-1")
    assert "FAILED" in failed_line(result, "kafka")
    assert failed_line(result, "kafka").endswith("wrong user name or password")


def test_a_wrong_postgres_password_is_named(secure_stack):
    url = secure_stack.env["SLUICE_POSTGRES_URL"].replace("sluice:sluice@", "sluice:wrong-pw@")
    result = secure_stack.cli("check", postgres_url=url)
    assert failed_line(result, "postgres").endswith("wrong user name or password")


def test_a_wrong_redis_password_is_named(secure_stack):
    result = secure_stack.cli("check", redis_password="not-the-password-2")
    assert failed_line(result, "redis").endswith("wrong user name or password")


def test_a_ca_that_did_not_sign_the_servers_is_named(secure_stack, tmp_path):
    stranger = StackCertificates(tmp_path / "other-ca")
    stranger.ensure(["127.0.0.1"])
    result = secure_stack.cli("check", tls_ca_file=str(stranger.ca_file))
    for service in ("postgres", "redis", "mongo"):
        assert "(check the CA file)" in failed_line(result, service)


@pytest.fixture
def expired_redis(secure_stack, tmp_path: Path):
    """A Redis serving TLS with a certificate that expired yesterday; its rediss:// URL."""
    stack_dir = Path(secure_stack.env["SLUICE_STACK_DIR"])
    expired = secure.certificates(stack_dir).issue_expired_server(["127.0.0.1"], tmp_path / "tls")
    port = free_port()
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
            "--tls-cert-file", str(expired.cert_file), "--tls-key-file", str(expired.key_file),
            "--tls-ca-cert-file", str(expired.ca_file), "--tls-auth-clients", "no",
            "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: server.poll() is None and _listens(port), 20, what="the expired Redis")
        yield f"rediss://127.0.0.1:{port}/0"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def _listens(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_an_expired_server_certificate_is_named(secure_stack, expired_redis):
    result = secure_stack.cli("check", redis_url=expired_redis, redis_password="")
    assert failed_line(result, "redis").endswith("the server's TLS certificate has expired")


def test_no_password_of_the_secure_stack_is_ever_shown(secure_stack):
    stack_dir = Path(secure_stack.env["SLUICE_STACK_DIR"])
    passwords = [
        value
        for group in json.loads(
            (secure.folder(stack_dir) / "credentials.json").read_text()
        ).values()
        for value in group.values()
    ]
    shown = [
        secure_stack.cli("stack", "status"),
        secure_stack.cli("check", log_level="DEBUG"),
        secure_stack.cli(
            "process", "--until-idle", "--idle-seconds", "1", component="processor",
            log_level="DEBUG", timeout=300,
        ),
    ]  # fmt: skip
    texts = [r.stdout + r.stderr for r in shown]
    texts += [log.read_text(errors="replace") for log in (stack_dir / "logs").glob("*.log")]
    assert shown[2].returncode == 0, shown[2].stderr[-2000:]
    leaks = [pw[:4] for pw in passwords for text in texts if pw in text]
    assert leaks == []


def test_a_processor_with_a_wrong_password_retries_and_commits_nothing(secure_stack, tmp_path):
    from sluice.kafka.lag import group_lag

    crawl_id = f"wrong-password-{uuid.uuid4().hex[:8]}"
    publish(
        secure_stack.settings("spider"),
        "sluice.raw.products",
        # A source of this test's own: other tests on this stack read the demo shop's rows.
        [product(f"{crawl_id}.localhost", f"SKU-{i}", "2.00", 0, crawl_id) for i in range(5)],
    )
    group = f"sluice.{crawl_id}"
    wrong = secure_stack.settings().postgres_writer_url.replace(
        ":sluice_writer@", ":not-the-password@"
    )
    log = tmp_path / "normalizer.log"
    process = secure_stack.popen(
        "process", "--group", "normalizer", "--consumer-group", group,
        "--topic", "sluice.raw.products",
        log=log, component="processor", postgres_writer_url=wrong,
    )  # fmt: skip
    try:
        wait_for(
            lambda: "sink unavailable" in log.read_text() and "password" in log.read_text(),
            90,
            what="the normalizer to retry its PostgreSQL writes",
        )
        waiting = group_lag(
            secure_stack.settings("processor").kafka, group, ["sluice.raw.products"]
        )
    finally:
        process.kill()
        process.wait(timeout=30)
    # The records of the run are all still waiting: no offset was committed past them.
    assert waiting >= 5
