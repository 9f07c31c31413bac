{#-
    A custom schema is used as-is (seeds -> reference, staging -> staging, intermediate ->
    intermediate, marts -> marts), not dbt's default "<target schema>_<custom schema>".
    Nodes without a custom schema go to the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
