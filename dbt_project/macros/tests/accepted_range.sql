{#-
    Generic test: a column's non-null values lie between min_value and max_value (either may be
    omitted), inclusive unless inclusive: false.
    Usage:
      columns:
        - name: rate_per_1000
          data_tests:
            - accepted_range:
                arguments:
                  min_value: 0
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- set lower_op = ">=" if inclusive else ">" -%}
{%- set upper_op = "<=" if inclusive else "<" -%}

with

failures as (

    select *
    from {{ model }}
    where {{ column_name }} is not null
        and not (
            true
            {%- if min_value is not none %}
            and {{ column_name }} {{ lower_op }} {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
            and {{ column_name }} {{ upper_op }} {{ max_value }}
            {%- endif %}
        )

)

select * from failures

{% endtest %}
