{#-
    Generic test for the publication layer: no suppressed cell can be worked out by subtraction
    from a total, i.e. no group of cells that adds up to a published total holds exactly one
    suppressed cell. Groups: each count column across the rows sharing group_columns (or each of
    a list of such lists), and each
    row's [total, [parts]] of row_totals (see macro suppression_ctes). Skipped when seed
    publication_parameters turns secondary suppression off.
    Usage:
      data_tests:
        - no_lone_suppressed_cell:
            arguments:
              group_columns: [month_start_date, reporting_category]
              count_columns: [crime_count]
              row_totals: [[crime_count, [awaiting_outcome_count, assigned_outcome_count]]]
-#}
{% test no_lone_suppressed_cell(model, group_columns, count_columns, row_totals=[]) %}

with

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

secondary_method as (

    select coalesce(max(parameter_value), 'next_smallest') as secondary_suppression
    from publication_parameters
    where parameter = 'secondary_suppression'

),

lone_cells as (

    {%- set groupings = [group_columns] if group_columns[0] is string else group_columns %}
    {%- set row_group = groupings[0] %}
    {%- for grouping in groupings %}
    {%- set outer_last = loop.last %}
    {%- for column in count_columns %}
    select
        '{{ column }} across {{ grouping | join(" x ") }}' as cell_group,
        concat_ws(' | ', {{ grouping | join(", ") }}) as cell_group_value
    from {{ model }}
    group by {{ grouping | join(", ") }}
    having count(*) filter (where {{ column }}_is_suppressed) = 1 and count(*) > 1
    {{ "union all" if not (loop.last and outer_last) or row_totals }}
    {%- endfor %}
    {%- endfor %}
    {%- for total, parts in row_totals %}
    select
        '{{ total }} = {{ parts | join(" + ") }}' as cell_group,
        concat_ws(' | ', {{ row_group | join(", ") }}) as cell_group_value
    from {{ model }}
    where
        {% for cell in [total] + parts -%}
        cast({{ cell }}_is_suppressed as integer){{ " + " if not loop.last }}
        {%- endfor %} = 1
    {{ "union all" if not loop.last }}
    {%- endfor %}

)

select lone_cells.*
from lone_cells
cross join secondary_method
where secondary_method.secondary_suppression <> 'none'

{% endtest %}
