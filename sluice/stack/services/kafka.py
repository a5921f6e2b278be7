"""Apache Kafka 4 in KRaft mode (one broker that is its own controller), from Maven Central jars.

Maven resolves ``kafka_2.13`` and its runtime closure into the cache once; the broker then
runs on the machine's JDK with a small heap. Storage is formatted once, and :meth:`bootstrap`
creates the topics of the design.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import uuid
from importlib import resources
from pathlib import Path

from confluent_kafka import KafkaException

from sluice.kafka.admin import admin_client, broker_count, ensure_topics
from sluice.kafka.topics import TOPICS
from sluice.private_files import write_private
from sluice.stack import secure
from sluice.stack.errors import StackError
from sluice.stack.progress import Progress
from sluice.stack.services.base import DEPS_FIX, NotReady, Program, Service, require_executable

KAFKA_VERSION = "4.3.1"
MIN_JAVA = 17
NODE_ID = 1


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class Kafka(Service):
    """One combined broker/controller with data in ``.stack/kafka``."""

    name = "kafka"
    start_timeout = 90.0

    def __init__(self, settings) -> None:
        super().__init__(settings)
        first = settings.kafka_bootstrap.split(",")[0].strip()
        host, _, port = first.rpartition(":")
        self.host, self.port = host, int(port)
        self.controller_port = settings.kafka_controller_port

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(self.host, self.port), (self.host, self.controller_port)]

    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def libs(self) -> Path:
        return self.cache_dir / KAFKA_VERSION / "libs"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.data_dir / "log4j2.properties"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "data"

    # -- install ---------------------------------------------------------------------------
    def install(self, progress: Progress) -> None:
        java = require_executable(
            self.name, self.settings.java, "openjdk-17-jre-headless", "SLUICE_JAVA"
        )
        out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
        match = re.search(r'version "(\d+)', out.stderr + out.stdout)
        if not match or int(match.group(1)) < MIN_JAVA:
            raise StackError(
                self.name,
                f"{java} is not Java {MIN_JAVA} or newer",
                f"{DEPS_FIX}, or set SLUICE_JAVA to a JDK {MIN_JAVA}+ java",
            )
        if (self.libs / ".complete").exists():
            return
        mvn = require_executable(self.name, "mvn", "maven", "PATH")
        work = self.cache_dir / KAFKA_VERSION
        work.mkdir(parents=True, exist_ok=True)
        template = (resources.files("sluice.stack") / "assets" / "kafka-pom.xml").read_text()
        pom = work / "pom.xml"
        pom.write_text(template.replace("@KAFKA_VERSION@", KAFKA_VERSION), encoding="utf-8")
        staging = work / "libs.partial"
        progress.run(
            self.name,
            f"resolving Kafka {KAFKA_VERSION} jars with Maven",
            [
                mvn,
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            expect="first run only, ~1 min",
            log_file=work / "maven.log",
            fix="check that Maven reaches its repository (`mvn -v`, ~/.m2/settings.xml), "
            "then run `sluice stack up` again",
        )
        if self.libs.exists():
            subprocess.run(["rm", "-rf", str(self.libs)], check=True)
        staging.rename(self.libs)
        (self.libs / ".complete").write_text(KAFKA_VERSION, encoding="utf-8")

    # -- prepare ---------------------------------------------------------------------------
    def render_config(self) -> str:
        """server.properties for one combined broker and controller on loopback."""
        host = self.host
        props: dict[str, str] = {
            "process.roles": "broker,controller",
            "node.id": str(NODE_ID),
            "controller.quorum.voters": f"{NODE_ID}@{host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{host}:{self.port},CONTROLLER://{host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.log_dir.resolve()),
            "num.partitions": "3",
            # One broker: internal topics cannot be replicated.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Consumers of a fresh group start at once instead of waiting for more members.
            "group.initial.rebalance.delay.ms": "0",
            # Topics are created by the stack with their partition counts, never by accident.
            "auto.create.topics.enable": "false",
            "log.retention.hours": "168",
            "message.max.bytes": str(8 * 1024 * 1024),
        }
        if self.settings.stack_secure:
            props.update(self._secure_properties())
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def _secure_properties(self) -> dict[str, str]:
        """SASL_SSL with SCRAM for clients, mutual TLS for the controller, ACLs enforced."""
        host, certs = self.host, secure.certificates(self.settings.stack_dir)
        admin = secure.KAFKA_USERS[secure.ADMIN]
        password = secure.credentials(self.settings.stack_dir)["kafka"][admin]
        return {
            "listeners": f"SASL_SSL://{host}:{self.port},CONTROLLER://{host}:{self.controller_port}",
            "advertised.listeners": f"SASL_SSL://{host}:{self.port}",
            "inter.broker.listener.name": "SASL_SSL",
            "listener.security.protocol.map": "CONTROLLER:SSL,SASL_SSL:SASL_SSL",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{admin}" password="{password}";'
            ),
            # PEM files: the server's key and chain in one, the CA as the trust store.
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.keystore.resolve()),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(certs.ca_file.resolve()),
            # Only the broker itself, with the stack's certificate, reaches the controller.
            "listener.name.controller.ssl.client.auth": "required",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{admin};{secure.BROKER_PRINCIPAL}",
            "allow.everyone.if.no.acl.found": "false",
        }

    @property
    def keystore(self) -> Path:
        """The server's private key followed by its certificate chain (PEM)."""
        return self.data_dir / "keystore.pem"

    @property
    def secure_marker(self) -> Path:
        """Present when the storage was formatted with the admin's SCRAM credential."""
        return self.log_dir / "sluice-secure"

    def prepare(self, progress: Progress) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # Private: in the secure stack it holds the admin's password.
        write_private(self.config_file, self.render_config())
        log4j = (resources.files("sluice.stack") / "assets" / "kafka-log4j2.properties").read_text()
        self.log4j_file.write_text(log4j, encoding="utf-8")
        scram: list[str] = []
        if self.settings.stack_secure:
            certs = secure.certificates(self.settings.stack_dir)
            write_private(
                self.keystore,
                certs.key_file.read_text(encoding="utf-8")
                + certs.cert_file.read_text(encoding="utf-8"),
            )
            admin = secure.KAFKA_USERS[secure.ADMIN]
            password = secure.credentials(self.settings.stack_dir)["kafka"][admin]
            scram = ["--add-scram", f"SCRAM-SHA-512=[name={admin},password={password}]"]
        if (self.log_dir / "meta.properties").exists():
            if self.settings.stack_secure and not self.secure_marker.exists():
                raise StackError(
                    self.name,
                    f"the storage in {self.log_dir} was formatted for the plaintext stack, "
                    "without the admin's SCRAM credential the secure broker needs",
                    "start the secure stack in a new SLUICE_STACK_DIR, or remove the Kafka "
                    "data (`sluice stack reset` removes every service's data)",
                )
            return
        progress.say(self.name, f"formatting KRaft storage in {self.log_dir}")
        result = subprocess.run(
            [
                *self._java_argv(heap="128m"),
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                new_cluster_id(),
                "--config",
                str(self.config_file.resolve()),
                *scram,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                self.name,
                f"formatting storage failed: {(result.stderr or result.stdout).strip()[-600:]}",
                f"remove {self.log_dir} and run `sluice stack up` again",
            )
        if scram:
            self.secure_marker.write_text("SCRAM-SHA-512\n", encoding="utf-8")

    def _java_argv(self, heap: str) -> list[str]:
        return [
            # Resolved on every call so the rendered program never depends on install() order.
            shutil.which(self.settings.java) or self.settings.java,
            f"-Xmx{heap}",
            f"-Xms{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_file.resolve()}",
            "-cp",
            f"{self.libs}/*",
        ]

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[
                *self._java_argv(self.settings.kafka_heap),
                "kafka.Kafka",
                str(self.config_file.resolve()),
            ],
            directory=self.data_dir.resolve(),
            # A controlled shutdown flushes logs; give it time before SIGKILL.
            stopwaitsecs=60,
            startsecs=3,
        )

    # -- readiness ---------------------------------------------------------------------------
    def check_ready(self) -> str:
        try:
            # log_level 0: while the broker boots every probe would log "connection refused".
            probe = admin_client(self.settings.kafka, log_level="0")
            brokers = broker_count(probe, timeout=2)
        except KafkaException as exc:
            raise NotReady(str(exc)) from exc
        if brokers < 1:
            raise NotReady("no broker in the cluster metadata yet")
        return f"Kafka {KAFKA_VERSION} (KRaft, {brokers} broker)"

    def bootstrap(self, progress: Progress) -> None:
        admin = admin_client(self.settings.kafka)
        for change in ensure_topics(admin, TOPICS):
            progress.say(self.name, f"topic {change}")
        if self.settings.stack_secure:
            secure.grant_components(admin, secure.credentials(self.settings.stack_dir)["kafka"])
            progress.say(self.name, "SCRAM users and ACLs of every component in place")
