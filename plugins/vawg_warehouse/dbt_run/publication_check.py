"""The publication audit with dbt's rebuild of the publication tables: the build step outside
a DAG run (:func:`secure`, as ``transform`` runs it after the group that builds schema
publication) and an operator's check of the warehouse as built
(``python -m vawg_warehouse.dbt_run.publication_check [--fixed-point-only]``). The audit itself
(publication_audit.py) never invokes dbt: the rebuild it needs is given to it."""

from __future__ import annotations

from vawg_warehouse.dbt_run import transform
from vawg_warehouse.dbt_run.publication_audit import (
    AuditResult,
    _built,
    audit_as_far_as_possible,
    fixed_point,
    load,
)
from vawg_warehouse.dbt_run.publication_audit import secure as _secure


def secure(settings=None, fail: bool | None = None) -> AuditResult:
    """publication_audit.secure with the rebuild of the suppression and publication models."""
    from vawg_warehouse.config import get_settings

    settings = settings or get_settings()
    return _secure(settings, rebuild=lambda: transform.rebuild_publication(settings), fail=fail)


def main(argv: list[str] | None = None) -> int:
    """``python -m vawg_warehouse.dbt_run.publication_check``: audit the warehouse as built
    and, with ``--fixed-point-only``, what the fixed point alone would leave."""
    import argparse

    from vawg_warehouse.warehouse import connect

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--fixed-point-only", action="store_true")
    args = parser.parse_args(argv)
    with connect() as conn:
        system, params = load(conn)
    if args.fixed_point_only:
        cells = fixed_point(system, {i for i, p in enumerate(system.primary) if p})
        label = "fixed point only"
    else:
        cells = _built(system)
        label = "as built"
    result = audit_as_far_as_possible(system, cells, params)
    print(
        f"publication audit ({label}): {len(system.names)} cells, {result.suppressed} "
        f"suppressed, {len(result.unprotected)} narrower than {params.protection_interval}, "
        f"{len(result.recovered)} recovered exactly; {result.problems} problems, "
        f"{result.programs} programs, {result.seconds:.1f} s"
    )
    return 1 if result.unprotected else 0


if __name__ == "__main__":
    raise SystemExit(main())
