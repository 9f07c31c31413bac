{#-
    Generic test: no two rows share the same values of combination_of_columns (the grain).
    Usage:
      data_tests:
        - unique_combination_of_columns:
            arguments:
              combination_of_columns: [month_start_date, local_authority_code]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

grain as (

    select
        {{ combination_of_columns | join(",\n        ") }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(", ") }}
    having count(*) > 1

)

select * from grain

{% endtest %}
