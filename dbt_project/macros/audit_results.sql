{#-
    on-run-end: every dbt invocation records its own results in audit.dbt_run and audit.dbt_result
    (migration 007), so the audit trail does not depend on a run_results.json file surviving the
    task (cosmos runs each task in a temporary copy of the project, on any worker).

    Kept per node, as in run_results.json: unique_id, resource type, relation, status, execution
    time, rows affected, failing rows of a test, and the message (which the database redacts with
    audit.dbt_message_redacted: no row data). Never the compiled SQL.

    The Airflow run and task come from the AIRFLOW_CTX_* variables Airflow exports to the task's
    process; they are empty for a dbt run from the command line. A database without the audit
    tables (migration 007 not applied) is left alone.
-#}
{% macro record_run_results(results) -%}
    {%- if not execute or flags.WHICH not in ("build", "run", "test", "seed", "snapshot") -%}
        select 1
    {%- elif not audit_tables_exist() -%}
        {{ log("audit.record_dbt_run is missing (migration 007): results not recorded", info=True) }}
        select 1
    {%- else -%}
        {%- set nodes = [] -%}
        {%- for result in results -%}
            {%- set execute_timing = result.timing | selectattr("name", "equalto", "execute") | list -%}
            {%- set response = result.adapter_response or {} -%}
            {%- do nodes.append({
                "unique_id": result.node.unique_id,
                "resource_type": result.node.resource_type | string,
                "relation_name": result.node.relation_name or none,
                "status": result.status | string,
                "execution_seconds": result.execution_time,
                "rows_affected": response.get("rows_affected"),
                "failures": result.failures,
                "message": result.message,
                "started_at": utc_iso(execute_timing[0].started_at) if execute_timing else none,
                "completed_at": utc_iso(execute_timing[0].completed_at) if execute_timing else none,
            }) -%}
        {%- endfor -%}
        {%- set run = {
            "invocation_id": invocation_id,
            "command": flags.WHICH,
            "dbt_version": dbt_version,
            "project_name": project_name,
            "target_name": target.name,
            "dag_id": env_var("AIRFLOW_CTX_DAG_ID", ""),
            "dag_run_id": env_var("AIRFLOW_CTX_DAG_RUN_ID", ""),
            "task_id": env_var("AIRFLOW_CTX_TASK_ID", ""),
            "try_number": env_var("AIRFLOW_CTX_TRY_NUMBER", ""),
            "started_at": utc_iso(run_started_at),
            "nodes": nodes,
        } -%}
        {{ insert_run_results(tojson(run), "on-run-end") }}
    {%- endif -%}
{%- endmacro %}


{% macro audit_tables_exist() -%}
    {%- set found = run_query(
        "select to_regprocedure('audit.record_dbt_run(jsonb, text)') is not null"
    ) -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}


{#- An ISO 8601 timestamp in UTC: dbt's timings are naive UTC, run_started_at is aware. -#}
{% macro utc_iso(value) -%}
    {{ return(value.isoformat() if value.tzinfo else value.isoformat() ~ "+00:00") }}
{%- endmacro %}


{#- The JSON document is the statement's only literal (its quotes doubled); audit.record_dbt_run
    (migration 007) stores it, and ignores an invocation already recorded. -#}
{% macro insert_run_results(run_json, recorded_by) -%}
    select audit.record_dbt_run('{{ run_json | replace("'", "''") }}'::jsonb, '{{ recorded_by }}')
{%- endmacro %}
