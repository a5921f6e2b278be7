"""PostgreSQL 15 from Debian's packages, run from a data directory under ``.stack/``.

The server refuses to run as root, so when the stack runs as root it runs PostgreSQL as the
``postgres`` system user that Debian's package creates. The superuser is reachable only through
the Unix socket in the stack directory; clients use the roles created by :meth:`bootstrap`.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from sluice.private_files import write_private
from sluice.stack import secure
from sluice.stack.errors import StackError
from sluice.stack.progress import Progress
from sluice.stack.services.base import DEPS_FIX, NotReady, Program, Service

SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
#: where the data lives when the checkout is not reachable by the postgres user (e.g. under /root)
FALLBACK_ROOT = Path("/var/lib/sluice")
#: Client authentication of the secure stack: the superuser through the stack's socket, every
#: other login over TLS with a SCRAM password, and any connection without TLS refused.
SECURE_HBA = """\
local     all  postgres                trust
hostssl   all  all       127.0.0.1/32  scram-sha-256
hostssl   all  all       ::1/128       scram-sha-256
hostnossl all  all       0.0.0.0/0     reject
hostnossl all  all       ::/0          reject
"""


class PgRole:
    """A login role taken from one of the PostgreSQL URLs in the settings."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.name = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.database = parts.path.lstrip("/")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432


class Postgres(Service):
    """PostgreSQL with the ``sluice`` database, an owner, a writer and a read-only role."""

    name = "postgres"

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.owner = PgRole(settings.postgres_url)
        self.writer = PgRole(settings.postgres_writer_url)
        self.reader = PgRole(settings.postgres_reader_url)
        # Airflow keeps its metadata in a database of its own, owned by a role of its own.
        self.airflow = PgRole(settings.airflow_db_url)

    # -- addresses -------------------------------------------------------------------------
    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(self.owner.host, self.owner.port)]

    def address(self) -> str:
        return f"{self.owner.host}:{self.owner.port}/{self.owner.database}"

    @property
    def run_as(self) -> str | None:
        """The system user the server runs as (None: the current user)."""
        return SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def pgdata(self) -> Path:
        # Resolved: the server user follows no link through a folder it may not enter.
        return self.data_dir.resolve() / "data"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir.resolve() / "run"

    def _binary(self, name: str) -> Path:
        return self.settings.pg_bindir / name

    # -- lifecycle -------------------------------------------------------------------------
    def install(self, progress: Progress) -> None:
        databases = {self.owner.database, self.writer.database, self.reader.database}
        if (
            len(databases) != 1
            or not self.owner.name
            or not self.writer.name
            or not self.reader.name
        ):
            raise StackError(
                self.name,
                "SLUICE_POSTGRES_URL, SLUICE_POSTGRES_WRITER_URL and SLUICE_POSTGRES_READER_URL "
                "must name a user each and the same database",
                "fix the three URLs in .env (see .env.example)",
            )
        for binary in ("postgres", "initdb"):
            if not os.access(self._binary(binary), os.X_OK):
                raise StackError(
                    self.name,
                    f"{self._binary(binary)} not found (Debian package postgresql-15 is missing)",
                    f"{DEPS_FIX}, or set SLUICE_PG_BINDIR to a PostgreSQL 15 bin directory",
                )
        if self.run_as:
            try:
                pwd.getpwnam(self.run_as)
            except KeyError as exc:
                raise StackError(
                    self.name,
                    f"the `{self.run_as}` system user does not exist, and PostgreSQL refuses root",
                    f"{DEPS_FIX} (the postgresql-15 package creates the user)",
                ) from exc

    def prepare(self, progress: Progress) -> None:
        self._place_data_dir()
        for path in (self.pgdata, self.socket_dir, self.tls_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        if self.settings.stack_secure:
            self._write_tls_files()
        self._chown(self.data_dir.resolve())
        if (self.pgdata / "PG_VERSION").exists():
            return
        progress.say(self.name, f"initialising a new cluster in {self.pgdata}")
        argv = [
            str(self._binary("initdb")),
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ]
        result = subprocess.run(
            self._as_server_user(argv), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise StackError(
                self.name,
                f"initdb failed: {(result.stderr or result.stdout).strip()[-600:]}",
                f"remove {self.pgdata} and run `sluice stack up` again",
            )

    @property
    def tls_dir(self) -> Path:
        """The server's certificate, key and client rules, readable by the server user only."""
        return self.data_dir.resolve() / "tls"

    def _write_tls_files(self) -> None:
        # PostgreSQL refuses a key that others may read, and runs as its own user: it gets
        # copies it owns (chowned with the data directory) instead of the stack's files.
        certs = secure.certificates(self.settings.stack_dir)
        write_private(self.tls_dir / "server.key", certs.key_file.read_text(encoding="utf-8"))
        write_private(self.tls_dir / "server.crt", certs.cert_file.read_text(encoding="utf-8"))
        write_private(self.tls_dir / "pg_hba.conf", SECURE_HBA)

    def _tls_options(self) -> list[str]:
        if not self.settings.stack_secure:
            return []
        tls = self.tls_dir.resolve()
        return [
            "-c",
            "ssl=on",
            "-c",
            f"ssl_cert_file={tls / 'server.crt'}",
            "-c",
            f"ssl_key_file={tls / 'server.key'}",
            "-c",
            f"hba_file={tls / 'pg_hba.conf'}",
            "-c",
            "ssl_min_protocol_version=TLSv1.2",
        ]

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[
                str(self._binary("postgres")),
                "-D",
                str(self.pgdata),
                "-c",
                f"listen_addresses={self.owner.host}",
                "-c",
                f"port={self.owner.port}",
                "-c",
                f"unix_socket_directories={self.socket_dir}",
                "-c",
                "unix_socket_permissions=0700",
                "-c",
                "logging_collector=off",
                "-c",
                "log_line_prefix=%m [%p] %u@%d ",
                *self._tls_options(),
            ],
            directory=self.data_dir.resolve(),
            user=self.run_as,
            # SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, checkpoint, exit.
            stopsignal="INT",
            stopwaitsecs=60,
        )

    def superuser_connection(self, dbname: str = "postgres") -> psycopg.Connection:
        """A superuser connection through the stack's Unix socket (trust auth, local only)."""
        return psycopg.connect(
            host=str(self.socket_dir.resolve()),
            port=self.owner.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
            connect_timeout=2,
        )

    def check_ready(self) -> str:
        try:
            with self.superuser_connection() as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
        except psycopg.Error as exc:
            raise NotReady(
                str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            ) from exc
        return f"PostgreSQL {version}"

    def bootstrap(self, progress: Progress) -> None:
        owner, writer, reader = self.owner, self.writer, self.reader
        with self.superuser_connection() as conn:
            for role in (owner, writer, reader, self.airflow):
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (role.name,)
                ).fetchone()
                verb = sql.SQL("ALTER ROLE" if exists else "CREATE ROLE")
                # The owner restores backups into scratch databases to prove they restore.
                createdb = sql.SQL("CREATEDB" if role is owner else "NOCREATEDB")
                # Keep passwords in step with the settings, so editing .env is enough.
                conn.execute(
                    sql.SQL("{} {} LOGIN {} PASSWORD {}").format(
                        verb, sql.Identifier(role.name), createdb, sql.Literal(role.password)
                    )
                )
            for role in (owner, self.airflow):
                if not conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (role.database,)
                ).fetchone():
                    progress.say(self.name, f"creating database {role.database}")
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            sql.Identifier(role.database), sql.Identifier(role.name)
                        )
                    )
            conn.execute(
                sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(
                    sql.Identifier(reader.name)
                )
            )
        with self.superuser_connection(owner.database) as conn:
            self._grant(conn)

    def _grant(self, conn: psycopg.Connection) -> None:
        ident = sql.Identifier
        owner, writer, reader = (
            ident(self.owner.name),
            ident(self.writer.name),
            ident(self.reader.name),
        )
        statements = [
            # Only the owner creates objects; migrations run as the owner.
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            "ALTER SCHEMA public OWNER TO {owner}",
            "GRANT USAGE ON SCHEMA public TO {writer}, {reader}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {writer}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {writer}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {writer}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT USAGE, SELECT ON SEQUENCES TO {writer}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT SELECT ON TABLES TO {reader}",
        ]
        for statement in statements:
            conn.execute(sql.SQL(statement).format(owner=owner, writer=writer, reader=reader))
        # The migration history is the owner's alone, although it lives among the tables.
        if conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone()[0]:
            conn.execute(
                sql.SQL("REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM {}").format(writer)
            )

    # -- helpers ---------------------------------------------------------------------------
    def _as_server_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *argv] if self.run_as else argv

    def _chown(self, path: Path) -> None:
        if not self.run_as:
            return
        entry = pwd.getpwnam(self.run_as)
        for root, dirs, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in dirs + files:
                os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)

    def _place_data_dir(self) -> None:
        """Keep the data under ``.stack/postgres`` unless the server user cannot reach it.

        A checkout under a private home (``/root``) is not traversable by ``postgres``; the
        data then lives under /var/lib/sluice and ``.stack/postgres`` links to it.
        """
        if not self.run_as or self.data_dir.exists():
            return
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        probe = subprocess.run(
            ["runuser", "-u", self.run_as, "--", "test", "-x", str(self.data_dir.parent)],
            check=False,
        )
        if probe.returncode == 0:
            self.data_dir.mkdir()
            return
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:12]
        target = FALLBACK_ROOT / digest / self.name
        target.mkdir(parents=True, exist_ok=True)
        for parent in (FALLBACK_ROOT, target.parent):
            parent.chmod(0o755)
        self.data_dir.symlink_to(target, target_is_directory=True)
