{#-
    A custom schema is used as-is (seeds -> reference, staging -> staging, intermediate ->
    intermediate, marts -> marts, lineage -> lineage), not dbt's default "<target schema>_<custom
    schema>". Nodes without a custom schema go to the target's schema. An as-of build (var
    `as_of`, macros/as_of.sql) prefixes every schema with asof_<digits>_, away from the live ones.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ as_of_schema_prefix() }}{{ target.schema }}
    {%- else -%}
        {{ as_of_schema_prefix() }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
