"""Which part of a warehouse connection is wrong: the listener, the role, the password or the
database, said plainly instead of "cannot connect".

PostgreSQL's own words decide (its messages are stable across versions 13-18): nothing listening
(refused, timed out, no such host), ``role "..." does not exist``, ``password authentication
failed``, ``database "..." does not exist``, and ``no pg_hba.conf entry``. With password (scram or
md5) authentication a role that does not exist is reported as a failed password, on purpose (so
a stranger cannot probe for role names): the message says it may be either.
"""

from __future__ import annotations

import psycopg

LISTENER, ROLE, PASSWORD, DATABASE, ACCESS, OTHER = (
    "listener",
    "role",
    "password",
    "database",
    "access rule",
    "other",
)


def diagnose(exc: psycopg.OperationalError, host: str, port: int, user: str, dbname: str):
    """(what is wrong, a sentence saying so and what to check) for a failed connection."""
    text = str(exc)
    lowered = text.lower()
    if "password authentication failed" in lowered:
        return PASSWORD, (
            f"the password of role {user!r} was refused (or the role does not exist: with "
            "password authentication PostgreSQL does not say which); check the password in "
            "VAWG_WAREHOUSE_URL or the Airflow connection, and that the role exists"
        )
    if "role" in lowered and "does not exist" in lowered:
        return ROLE, f"role {user!r} does not exist on {host}:{port}: create it or fix the user"
    if "database" in lowered and "does not exist" in lowered:
        return DATABASE, (
            f"database {dbname!r} does not exist on {host}:{port} (the server and role are "
            "fine): create it or fix the database name"
        )
    if "no pg_hba.conf entry" in lowered:
        return ACCESS, (
            f"the server at {host}:{port} refuses role {user!r} on database {dbname!r} from "
            "this host (pg_hba.conf): ask its DBA for an entry"
        )
    if any(
        words in lowered
        for words in (
            "connection refused",
            "could not connect",
            "timeout expired",
            "timed out",
            "could not translate host name",
            "name or service not known",
            "no route to host",
            "server closed the connection unexpectedly",
        )
    ):
        return LISTENER, (
            f"nothing answers at {host}:{port}: is the server running, and are the host and "
            "port right (VAWG_WAREHOUSE_URL, or VAWG_EMBEDDED_PORT for the embedded one)?"
        )
    return OTHER, f"cannot connect to {host}:{port} as {user!r} ({type(exc).__name__})"
