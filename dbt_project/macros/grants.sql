{#-
    The warehouse roles (NOLOGIN groups, migrations 001, 007 and 012; README "For auditors"):
      vawg_pipeline   what dbt runs as (profiles.yml, role): owns every relation dbt builds
      vawg_bi_reader  BI tools: schema bi only (views with display names, models/bi; migration 015)
      vawg_auditor    auditors: the audit trail, the marts, the publication, lineage and bi views
    Select on each relation comes from the `grants` config (dbt_project.yml: marts, publication,
    lineage and bi). Usage on the schemas comes from migrations 012 and 015, which create them
    for the owner; the hooks below grant it only where it is missing (a schema dbt created
    itself), so a run as vawg_pipeline never needs the owner's rights.
-#}
{#- Who reads marts and publication directly: auditors. BI tools read them through schema bi. -#}
{% macro mart_reader_roles() -%}
    {{ return(["vawg_auditor"]) }}
{%- endmacro %}


{#- on-run-end: usage on a schema for roles that lack it; guarded so a run that built none passes. -#}
{% macro grant_usage_on_marts_schema(schema_name="marts") -%}
    {{ grant_schema_usage_where_missing(schema_name, mart_reader_roles()) }}
{%- endmacro %}


{#- on-run-end: usage on the lineage schema for auditors only. -#}
{% macro grant_usage_on_lineage_schema(schema_name="lineage") -%}
    {{ grant_schema_usage_where_missing(schema_name, ["vawg_auditor"]) }}
{%- endmacro %}


{% macro grant_schema_usage_where_missing(schema_name, roles) -%}
    do $$
    begin
    {%- for role in roles %}
        if exists (select from pg_catalog.pg_namespace where nspname = '{{ schema_name }}')
            and not has_schema_privilege('{{ role }}', '{{ schema_name }}', 'usage') then
            grant usage on schema {{ schema_name }} to {{ role }};
        end if;
    {%- endfor %}
    end
    $$;
{%- endmacro %}
