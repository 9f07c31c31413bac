{#-
    The publication tables whose suppression is one run of macro suppress_cells over all their
    cells (model int_published_table_cells_suppressed); measures 1 and 2 (recorded cohort) have
    their own (int_published_crime_cells_suppressed). Each table's cells and equations are
    defined once, here: the suppression model builds them from this, the publication model
    reads its flags back by the same key, and the publication audit
    (vawg_warehouse.dbt_run.publication_audit) reads the equations the suppression model wrote.

      source          the mart
      where           the rows published (complete periods, history)
      key_columns     a row's key (also the tie-break order)
      group_columns   lists of columns: each count column's cells of the rows sharing them add up
                      to a public figure (the force total of a month ...); the component (the
                      cells equations tie together) is the columns every grouping shares
      group_totals    {grouping index (0-based): condition}: in that grouping the row meeting the
                      condition is the total of the others (Victims' Code right 0), not a part
      count_columns   the counts published (and suppressed)
      row_totals      [[total column, [part columns]], ...]: within a row, total = sum of parts
-#}
{% macro publication_table_specs() %}
{{ return({
    'pub_mart_marac_repeat_monthly': {
        'source': 'mart_marac_repeat_monthly',
        'where': 'is_complete_period and has_full_history',
        'key_columns': ['month_start_date', 'local_authority_code'],
        'group_columns': [['month_start_date']],
        'group_totals': {},
        'count_columns': ['cases_heard', 'repeat_cases'],
        'row_totals': [],
    },
    'pub_mart_positive_outcomes_closed_monthly': {
        'source': 'mart_positive_outcomes_closed_monthly',
        'where': 'is_complete_period and has_full_history',
        'key_columns': ['month_start_date', 'local_authority_code', 'reporting_category'],
        'group_columns': [['month_start_date', 'reporting_category']],
        'group_totals': {},
        'count_columns': [
            'assigned_outcome_count', 'positive_count', 'charge_summons_count', 'diversion_count',
            'evidential_difficulties_count', 'outcome_14_count', 'outcome_15_count',
            'outcome_16_count', 'other_outcome_count', 'changed_outcome_count',
        ],
        'row_totals': [
            ['assigned_outcome_count', [
                'positive_count', 'diversion_count', 'evidential_difficulties_count',
                'other_outcome_count',
            ]],
            ['evidential_difficulties_count', [
                'outcome_14_count', 'outcome_15_count', 'outcome_16_count',
            ]],
        ],
    },
    'pub_mart_protective_orders_monthly': {
        'source': 'mart_protective_orders_monthly',
        'where': 'is_complete_period',
        'key_columns': ['month_start_date', 'local_authority_code', 'order_type'],
        'group_columns': [['month_start_date', 'order_type']],
        'group_totals': {},
        'count_columns': [
            'notices_issued', 'applications', 'orders_granted', 'orders_refused',
            'applications_withdrawn', 'breaches', 'notices_converted',
        ],
        'row_totals': [],
    },
    'pub_mart_victims_code_compliance_monthly': {
        'source': 'mart_victims_code_compliance_monthly',
        'where': 'is_complete_period',
        'key_columns': ['month_start_date', 'local_authority_code', 'right_number'],
        'group_columns': [
            ['month_start_date', 'right_number'],
            ['month_start_date', 'local_authority_code'],
        ],
        'group_totals': {1: 'right_number = 0'},
        'count_columns': ['met_count', 'not_met_count', 'applicable_count', 'not_applicable_count'],
        'row_totals': [
            ['applicable_count', ['met_count', 'not_met_count']],
        ],
    },
}) }}
{% endmacro %}


{#- The columns every grouping of a spec shares: its component. -#}
{% macro _spec_component_columns(spec) %}
{%- set component_columns = [] %}
{%- for column in spec.group_columns[0] %}
{%- set ns = namespace(in_all=true) %}
{%- for grouping in spec.group_columns %}{% if column not in grouping %}{% set ns.in_all = false %}{% endif %}{% endfor %}
{%- if ns.in_all %}{% do component_columns.append(column) %}{% endif %}
{%- endfor %}
{{ return(component_columns) }}
{% endmacro %}


{#-
    The CTEs of model int_published_table_cells_suppressed: every spec's rows, cells and
    equations, one suppress_cells run over them all, and `final` (one row per cell).
-#}
{% macro publication_table_cells() -%}
{%- set specs = publication_table_specs() %}

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

cells_added as (

    {{ publication_cells_added('int_published_table_cells_suppressed') }}

),
{% for name, spec in specs.items() %}
{{ name }}__rows as materialized (

    -- The rows {{ name }} publishes, with their key and component as text.
    select
        *,
        concat_ws('|', {{ spec.key_columns | join(', ') }}) as suppression_row_key,
        '{{ name }}|' || concat_ws('|', {{ _spec_component_columns(spec) | join(', ') }})
            as suppression_component
    from {{ ref(spec.source) }}
    where {{ spec.where }}

),
{% endfor %}
cells as (

    -- One cell per published row and count column.
    {%- set parts = [] %}
    {%- for name, spec in specs.items() %}
    {%- set sql %}
    select
        '{{ name }}' as publication_table,
        rows.suppression_component as component,
        count_cells.column_name || '|' || rows.suppression_row_key as cell,
        rows.suppression_row_key as row_key,
        count_cells.column_name,
        count_cells.cell_value
    from {{ name }}__rows as rows
    cross join lateral (
        values
        {%- for column in spec.count_columns %}
            ('{{ column }}', cast(rows.{{ column }} as integer)){{ "," if not loop.last }}
        {%- endfor %}
    ) as count_cells (column_name, cell_value)
    {%- endset %}
    {%- do parts.append(sql) %}
    {%- endfor %}
    {{ parts | join("\n    union all") }}

),

equations as (

    -- Each count column across the rows of a grouping adds up to a public figure (coefficient
    -- 1; a grouping's total row -1, its sum 0); within a row a total and its parts (-1, 1).
    {%- set parts = [] %}
    {%- for name, spec in specs.items() %}
    {%- for grouping in spec.group_columns %}
    {%- set grouping_index = loop.index0 %}
    {%- for column in spec.count_columns %}
    {%- set sql %}
    select
        suppression_component as component,
        'g{{ grouping_index + 1 }}|{{ column }}|' || concat_ws('|', {{ grouping | join(', ') }})
            as equation,
        '{{ column }}|' || suppression_row_key as cell,
        {% if grouping_index in spec.group_totals -%}
        case when {{ spec.group_totals[grouping_index] }} then -1 else 1 end
        {%- else %}1{% endif %} as coefficient
    from {{ name }}__rows
    {%- endset %}
    {%- do parts.append(sql) %}
    {%- endfor %}
    {%- endfor %}
    {%- for total, row_parts in spec.row_totals %}
    {%- set total_index = loop.index %}
    {%- for column in [total] + row_parts %}
    {%- set sql %}
    select
        suppression_component as component,
        'r{{ total_index }}|' || suppression_row_key as equation,
        '{{ column }}|' || suppression_row_key as cell,
        {{ -1 if column == total else 1 }} as coefficient
    from {{ name }}__rows
    {%- endset %}
    {%- do parts.append(sql) %}
    {%- endfor %}
    {%- endfor %}
    {%- endfor %}
    {{ parts | join("\n    union all") }}

),

{{ suppress_cells('cells', 'equations', 'cells_added') }},

final as (

    select
        cells.publication_table,
        cells.component,
        cells.cell,
        cells.row_key,
        cells.column_name,
        cells.cell_value,
        cells_suppressed.is_primary,
        cells_suppressed.is_added,
        cells_suppressed.is_suppressed,
        cells_suppressed.suppression_rounds,
        cells_suppressed.equations,
        cells_suppressed.coefficients
    from cells
    inner join cells_suppressed
        on
            cells.component = cells_suppressed.component
            and cells.cell = cells_suppressed.cell

)
{%- endmacro %}


{#-
    A publication table of a spec: the mart's published rows, each count null where
    int_published_table_cells_suppressed suppressed its cell (macro published_columns). Defines
    the CTE `published`.
-#}
{% macro published_from_cells(name, rates={}, passthrough_columns=[], trailing_columns=[]) -%}
{%- set spec = publication_table_specs()[name] %}
mart as (

    select
        *,
        concat_ws('|', {{ spec.key_columns | join(', ') }}) as suppression_row_key
    from {{ ref(spec.source) }}
    where {{ spec.where }}

),

cells as (

    select * from {{ ref('int_published_table_cells_suppressed') }}
    where publication_table = '{{ name }}'

),

suppression_flags as (

    -- One row per published row: each count's flag.
    select
        row_key,
        {%- for column in spec.count_columns %}
        coalesce(bool_or(is_suppressed) filter (where column_name = '{{ column }}'), false)
            as {{ column }}__suppressed{{ "," if not loop.last }}
        {%- endfor %}
    from cells
    group by row_key

),

suppression_joined as (

    select
        mart.*,
        {%- for column in spec.count_columns %}
        suppression_flags.{{ column }}__suppressed{{ "," if not loop.last }}
        {%- endfor %}
    from mart
    inner join suppression_flags
        on mart.suppression_row_key = suppression_flags.row_key

),

{{ published_columns('suppression_joined', spec.key_columns, spec.count_columns, rates,
                     passthrough_columns, trailing_columns) }}
{%- endmacro %}
