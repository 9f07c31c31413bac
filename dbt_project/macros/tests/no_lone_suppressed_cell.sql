{#-
    Generic test for the publication layer: no suppressed cell can be worked out by subtraction,
    i.e. no set of published cells tied by an equation holds exactly one suppressed cell.
    Skipped when seed publication_parameters turns secondary suppression off.

    In the model itself:
      group_columns   each count column across the rows sharing these columns (or each of a list
                      of such lists): the cells of a published (or derivable) total
      row_totals      [[total, [parts]], ...] within a row
    Across tables (other_model, a ref; the cells of both must agree, since both are published):
      join_on         [[expression on this model, expression on other_model], ...] pairing a row
                      here with the other model's rows (e.g. the same month and local authority,
                      or a month a year earlier)
      across          [[column here, column there, filter on the other rows, kind], ...]
                      kind sum:  this cell = the sum of the other rows' cells that pass the filter
                                 (charge_summons_count = the crime_count of outcomes 1 and 1A)
                      kind same: every such other cell is the same figure as this cell, so they
                                 must be hidden alike (outcome_15_count = outcome 15's crime_count)
    Usage:
      data_tests:
        - no_lone_suppressed_cell:
            arguments:
              group_columns: [month_start_date, reporting_category]
              count_columns: [crime_count]
              other_model: ref('pub_mart_outcomes_by_type_monthly')
              join_on: [[month_start_date, month_start_date], [local_authority_code, local_authority_code]]
              across: [[charge_summons_count, crime_count, "is_charge_summons", sum]]
-#}
{% test no_lone_suppressed_cell(model, group_columns, count_columns, row_totals=[],
                                other_model=none, join_on=[], across=[]) %}

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

    {%- set parts = [] %}
    {%- set groupings = [group_columns] if group_columns[0] is string else group_columns %}
    {%- set row_group = groupings[0] %}
    {%- for grouping in groupings %}
    {%- for column in count_columns %}
    {%- set sql %}
    select
        '{{ column }} across {{ grouping | join(" x ") }}' as cell_group,
        concat_ws(' | ', {{ grouping | join(", ") }}) as cell_group_value
    from {{ model }}
    group by {{ grouping | join(", ") }}
    having count(*) filter (where {{ column }}_is_suppressed) = 1 and count(*) > 1
    {%- endset %}
    {%- do parts.append(sql) %}
    {%- endfor %}
    {%- endfor %}
    {%- for total, row_parts in row_totals %}
    {%- set sql %}
    select
        '{{ total }} = {{ row_parts | join(" + ") }}' as cell_group,
        concat_ws(' | ', {{ row_group | join(", ") }}) as cell_group_value
    from {{ model }}
    where
        {% for cell in [total] + row_parts -%}
        cast({{ cell }}_is_suppressed as integer){{ " + " if not loop.last }}
        {%- endfor %} = 1
    {%- endset %}
    {%- do parts.append(sql) %}
    {%- endfor %}
    {%- for this_column, other_column, other_filter, kind in across %}
    {%- set sql %}
    select
        '{{ this_column }} {{ "=" if kind == "same" else "= sum of" }} {{ other_column }} where {{ other_filter | replace("'", "") }} in {{ other_model.identifier }}' as cell_group,
        concat_ws(' | ', {% for this_expression, _ in join_on %}this_model.{{ this_expression }}{{ ", " if not loop.last }}{% endfor %}) as cell_group_value
    from {{ model }} as this_model
    inner join {{ other_model }} as other_model
        on
            {% for this_expression, other_expression in join_on -%}
            this_model.{{ this_expression }} = other_model.{{ other_expression }}
            {%- if not loop.last %} and {% endif %}
            {%- endfor %}
            and ({{ other_filter }})
    group by {% for this_expression, _ in join_on %}this_model.{{ this_expression }}{{ ", " if not loop.last }}{% endfor %}, this_model.{{ this_column }}_is_suppressed
    {%- if kind == "same" %}
    having bool_or(other_model.{{ other_column }}_is_suppressed) <> this_model.{{ this_column }}_is_suppressed
        or bool_and(other_model.{{ other_column }}_is_suppressed) <> this_model.{{ this_column }}_is_suppressed
    {%- else %}
    having cast(this_model.{{ this_column }}_is_suppressed as integer)
        + count(*) filter (where other_model.{{ other_column }}_is_suppressed) = 1
    {%- endif %}
    {%- endset %}
    {%- do parts.append(sql) %}
    {%- endfor %}
    {{ parts | join("\n    union all") }}

)

select lone_cells.*
from lone_cells
cross join secondary_method
where secondary_method.secondary_suppression <> 'none'

{% endtest %}
