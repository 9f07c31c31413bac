"""Which rules a load batch broke, from the audit schema: for ``vawg quarantine list`` and
``vawg status``.

A batch set aside by validation has its rules in ``audit.validation_result`` (its last
validation run: the critical expectations that failed, with how many rows); rows set aside one by
one have theirs in ``audit.rejected_row``; a file that could not be read at all has the rule in its
error message. Rules and counts only, never a value.
"""

from __future__ import annotations

import psycopg


def rules_broken(conn: psycopg.Connection, batch_ids: list[int]) -> dict[int, list[str]]:
    """For each batch, the rules of its rows set aside one by one ("rule (n rows)"), else the
    critical rules its last validation failed, else its error message's first line; batches
    with none of these are left out."""
    if not batch_ids:
        return {}
    found: dict[int, list[str]] = {}
    for batch_id, rule, n in conn.execute(
        "select batch_id, rule, count(*)::int from audit.rejected_row "
        "where batch_id = any(%s) group by batch_id, rule order by batch_id, rule",
        (batch_ids,),
    ).fetchall():
        found.setdefault(batch_id, []).append(f"{rule} ({n:,} row{'s' if n != 1 else ''})")
    rejected = set(found)
    for batch_id, rule, failing in conn.execute(
        """
        with last_run as (
            select distinct on (batch_id) batch_id, validation_run_id
            from audit.validation_run
            where batch_id = any(%s)
            order by batch_id, validation_run_id desc
        )
        select last_run.batch_id, r.rule, r.unexpected_count
        from last_run
        inner join audit.validation_result as r
            on r.validation_run_id = last_run.validation_run_id
        where not r.success and r.severity = 'critical'
        order by last_run.batch_id, r.expectation_index
        """,
        (batch_ids,),
    ).fetchall():
        if batch_id in rejected:
            continue
        rows = "" if failing is None else f" ({failing:,} row{'s' if failing != 1 else ''})"
        found.setdefault(batch_id, []).append(f"{rule}{rows}")
    for batch_id, message in conn.execute(
        "select batch_id, error_message from audit.load_batch "
        "where batch_id = any(%s) and error_message is not null",
        (batch_ids,),
    ).fetchall():
        if batch_id not in found:
            found[batch_id] = [message.splitlines()[0][:300]]
    return found
