"""The demo's BI login: what Power BI or Metabase would connect as, on the embedded warehouse.

``vawg demo`` ends by connecting as this login (a member of ``vawg_bi_reader``: schema ``bi``
only) and querying ``bi``, so a newcomer sees what a BI tool sees, not a superuser's view of the
marts. The password is made once and kept owner-only in ``$VAWG_HOME/secrets``; a real
deployment makes its BI logins itself (README, "Connecting Power BI or Metabase").
"""

from __future__ import annotations

import os
import secrets

import psycopg
from psycopg import sql

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.warehouse import ConnectionInfo, connection_info

LOGIN = "vawg_bi_demo"
BI_READER = "vawg_bi_reader"
QUERY = """\
select *
from bi.reporting_monthly
where "Category code" = 'domestic_abuse'
order by "Month" desc
limit 5;"""


def _password(settings: Settings) -> str:
    """The login's password, made once. Written whole to a file of its own and then linked into
    place, so two callers at once never read a half-written file: the second's link fails and it
    reads the first's."""
    path = settings.secrets_dir / "bi_demo.password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(18))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another caller's password is in place: use it
        finally:
            draft.unlink()
    return path.read_text().strip()


def ensure_login(settings: Settings | None = None) -> ConnectionInfo:
    """Create (or keep) the demo's BI login, a member of vawg_bi_reader; its connection."""
    settings = settings or get_settings()
    admin = connection_info(settings)
    password = _password(settings)
    with psycopg.connect(admin.url) as conn:  # one transaction, committed on leaving
        # The login is the server's, not the database's: two callers at once (two test workers,
        # a demo beside a check) would both find none and both create it. One at a time.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (LOGIN,))
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (LOGIN,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL(verb + " role {} login password {}").format(
                sql.Identifier(LOGIN), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("grant {} to {}").format(sql.Identifier(BI_READER), sql.Identifier(LOGIN))
        )
    return ConnectionInfo(admin.host, admin.port, LOGIN, password, admin.dbname)


def query(info: ConnectionInfo, text: str = QUERY) -> tuple[list[str], list[tuple]]:
    """Run a query as the BI login: its column names and rows."""
    with psycopg.connect(info.url) as conn:
        cursor = conn.execute(text)
        return [c.name for c in cursor.description or []], cursor.fetchall()
