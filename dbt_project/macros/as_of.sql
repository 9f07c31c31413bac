{#-
    As-of recomputation (`vawg asof`, plugins/vawg_warehouse/dbt_run/asof.py). With the var `as_of` set,
    every staging model of a raw table keeps only the rows published by then (each raw row keeps
    its batch's _published_at), so every model downstream is rebuilt as the data stood at that
    moment; and generate_schema_name puts every node into `asof_<digits>_<schema>`, so such a
    build never touches the live schemas. Without the var nothing changes.

    `as_of` is a date, YYYY-MM-DD (everything published by the end of that day, UTC), or an ISO
    timestamp (published at or before it; read as UTC when it has no offset).
-#}
{% macro as_of_value() -%}
    {%- set raw = var('as_of', none) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- set pattern = '\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}(:?\\d{2})?)?)?' -%}
    {%- if not modules.re.fullmatch(pattern, text) -%}
        {{ exceptions.raise_compiler_error(
            "var as_of must be YYYY-MM-DD or an ISO timestamp, got: " ~ text) }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{#- The schema prefix of an as-of build: asof_ and the as_of's first 14 digits (to the second). -#}
{% macro as_of_schema_prefix() -%}
    {%- set as_of = as_of_value() -%}
    {%- if as_of is none -%}
        {{ return('') }}
    {%- endif -%}
    {{ return('asof_' ~ modules.re.sub('[^0-9]', '', as_of)[:14] ~ '_') }}
{%- endmacro %}


{#- In a staging model of a raw table: `select * from source(...) {{ as_of_filter() }}`. -#}
{% macro as_of_filter(column='_published_at') -%}
    {%- set as_of = as_of_value() -%}
    {%- if as_of is not none -%}
        {%- if as_of | length == 10 %}
    where {{ column }} < cast(cast('{{ as_of }}' as date) + 1 as timestamp) at time zone 'UTC'
        {%- elif modules.re.search('(Z|[+-]\\d{2}(:?\\d{2})?)$', as_of[10:]) %}
    where {{ column }} <= cast('{{ as_of }}' as timestamptz)
        {%- else %}
    where {{ column }} <= cast('{{ as_of }}' as timestamp) at time zone 'UTC'
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
