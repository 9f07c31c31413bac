{#-
    surrogate_key(columns): an md5 text key of one or more columns, null-safe.
    A null becomes a fixed marker before hashing, so (null, 'a') and ('', 'a') differ and a
    null never makes the whole key null. Columns are joined with '-' (as dbt_utils does).
-#}
{% macro surrogate_key(columns) -%}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as text), '_vawg_null_')
        {%- if not loop.last %} || '-' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}


{#- The key every dimension gives its unknown member: the surrogate key of the natural key '-1'. -#}
{% macro unknown_member_key() -%}
    {{ surrogate_key(["'-1'"]) }}
{%- endmacro %}
