{#-
    Generic test: every row satisfies a SQL boolean expression. Rows where it is false or null fail.
    At column level the column name is put in front of the expression ("column_name expression").
    Usage:
      data_tests:
        - expression_is_true:
            arguments:
              expression: "crime_count >= 0"
-#}
{% test expression_is_true(model, expression, column_name=none) %}

with

failures as (

    select *
    from {{ model }}
    {%- if column_name is none %}
    where not coalesce(({{ expression }}), false)
    {%- else %}
    where not coalesce(({{ column_name }} {{ expression }}), false)
    {%- endif %}

)

select * from failures

{% endtest %}
