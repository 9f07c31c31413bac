{#-
    The warehouse roles (NOLOGIN groups, created by migration 001_foundation.sql):
      vawg_bi_reader  BI tools: read the marts and the publication views, nothing else
      vawg_auditor    auditors: read the audit trail, the marts, the publication and lineage views
    Select on each mart table and view comes from the `grants` config (dbt_project.yml, marts,
    publication and lineage folders); usage on their schemas from the on-run-end hooks below.
-#}
{% macro mart_reader_roles() -%}
    {{ return(["vawg_bi_reader", "vawg_auditor"]) }}
{%- endmacro %}


{#- on-run-start: create a role only when it is missing (a database that skipped migration 001). -#}
{% macro create_warehouse_roles_if_missing() -%}
    do $$
    begin
    {%- for role in mart_reader_roles() %}
        if not exists (select from pg_catalog.pg_roles where rolname = '{{ role }}') then
            create role {{ role }} nologin;
        end if;
    {%- endfor %}
    end
    $$;
{%- endmacro %}


{#- on-run-end: usage on a schema (marts, publication), guarded so a run that built none passes. -#}
{% macro grant_usage_on_marts_schema(schema_name="marts") -%}
    do $$
    begin
        if exists (select from pg_catalog.pg_namespace where nspname = '{{ schema_name }}') then
            grant usage on schema {{ schema_name }} to {{ mart_reader_roles() | join(", ") }};
        end if;
    end
    $$;
{%- endmacro %}


{#- on-run-end: usage on the lineage schema (also granted by migration 008) for auditors only. -#}
{% macro grant_usage_on_lineage_schema(schema_name="lineage") -%}
    do $$
    begin
        if exists (select from pg_catalog.pg_namespace where nspname = '{{ schema_name }}') then
            grant usage on schema {{ schema_name }} to vawg_auditor;
        end if;
    end
    $$;
{%- endmacro %}
