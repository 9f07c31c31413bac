{#-
    Small-number suppression for the publication layer (docs/measures.md, "Publication"). The
    marts stay exact; a pub_<mart> table publishes a mart with some of its counts suppressed.

    The rules (threshold and switches are rows of seed publication_parameters):
      primary     a count below suppression_threshold is suppressed (0 too, unless
                  suppress_zero_counts is false). The layer fails closed: a missing threshold
                  suppresses every count, one that is not an integer fails the build.
      secondary   (secondary_suppression = next_smallest; 'none' turns it off) the published
                  figures are CELLS tied by EQUATIONS: each equation is a set of cells one of
                  which could be worked out from the others (a total and its parts; the local
                  authorities of a force figure; the same figure published twice). Whenever an
                  equation holds exactly one suppressed cell, its smallest other cell (a non-zero
                  one first; ties: the lowest cell id) is suppressed too. This repeats until no
                  equation changes: a fixed point, reached in a recursive CTE (macro
                  suppress_cells), not a fixed number of rounds.
      rates       a rate is suppressed when any count it is computed from is.
    A suppressed value is null and its <column>_is_suppressed flag is true; a report shows "[c]".
    Tables that publish the same cells (measures 1 and 2) take their flags from ONE run of the
    engine over all their cells (int_published_crime_cells_suppressed), so no table shows what
    another hides. Test no_lone_suppressed_cell checks each table, and across tables.
-#}


{#-
    The engine. Reads two CTEs the caller defines, and publication_parameters (seed rows):
      cells_cte      component, cell, cell_value: every published count (a component is a set of
                     cells that equations tie together; equations never cross components)
      equations_cte  component, equation, cell: the cells of each equation
    Defines the CTE cells_suppressed: component, cell, cell_value, is_primary, is_suppressed.
    The state of a component is the sorted array of its suppressed cells' numbers; cells are
    numbered in the order secondary suppression prefers them (non-zero, then smallest, then id),
    so an equation's next cell to suppress is its lowest unsuppressed candidate number.
-#}
{% macro suppress_cells(cells_cte, equations_cte) -%}

suppression_parameters as (

    -- One row: the seed's parameters, typed. A missing value fails closed.
    select
        max(
            case when parameter = 'suppression_threshold' then cast(parameter_value as integer) end
        ) as suppression_threshold,
        coalesce(
            bool_or(
                case
                    when parameter = 'suppress_zero_counts' then cast(parameter_value as boolean)
                end
            ),
            true
        ) as suppress_zero_counts,
        coalesce(
            max(case when parameter = 'secondary_suppression' then parameter_value end),
            'next_smallest'
        ) <> 'none' as is_secondary_on
    from publication_parameters

),

cells_numbered as materialized (

    -- Primary suppression, and each cell's number in the order secondary suppression prefers.
    select
        {{ cells_cte }}.component,
        {{ cells_cte }}.cell,
        {{ cells_cte }}.cell_value,
        case
            when {{ cells_cte }}.cell_value is null then false
            when
                {{ cells_cte }}.cell_value = 0
                and not suppression_parameters.suppress_zero_counts
                then false
            else not coalesce(
                {{ cells_cte }}.cell_value >= suppression_parameters.suppression_threshold, false
            )
        end as is_primary,
        cast(row_number() over (
            partition by {{ cells_cte }}.component
            order by
                {{ cells_cte }}.cell_value is null,
                {{ cells_cte }}.cell_value = 0,
                {{ cells_cte }}.cell_value,
                {{ cells_cte }}.cell
        ) as integer) as cell_number
    from {{ cells_cte }}
    cross join suppression_parameters

),

component_equations as materialized (

    -- Each component's equations as parallel arrays (equation, cell number, candidate), so a
    -- round reads its own component's row, not every equation of every component.
    select
        {{ equations_cte }}.component,
        array_agg(
            dense_rank_equation order by dense_rank_equation, cells_numbered.cell_number
        ) as equation_numbers,
        array_agg(
            cells_numbered.cell_number order by dense_rank_equation, cells_numbered.cell_number
        ) as cell_numbers,
        array_agg(
            cells_numbered.cell_value is not null
            order by dense_rank_equation, cells_numbered.cell_number
        ) as is_candidate
    from (
        select
            component,
            cell,
            dense_rank() over (partition by component order by equation) as dense_rank_equation
        from {{ equations_cte }}
    ) as {{ equations_cte }}
    inner join cells_numbered
        on
            {{ equations_cte }}.component = cells_numbered.component
            and {{ equations_cte }}.cell = cells_numbered.cell
    group by {{ equations_cte }}.component

),

suppression_rounds (component, round_number, suppressed) as (

    -- Round 0: primary suppression. Each later round adds, for every equation with exactly one
    -- suppressed cell, its lowest-numbered unsuppressed candidate; a component stops when a
    -- round adds nothing (the fixed point), so its last round is its answer.
    select
        component,
        0,
        coalesce(
            array_agg(cell_number order by cell_number) filter (where is_primary),
            cast(array[] as integer [])
        )
    from cells_numbered
    group by component

    union all

    select
        suppression_rounds.component,
        suppression_rounds.round_number + 1,
        next_round.suppressed
    from suppression_rounds
    cross join suppression_parameters
    inner join component_equations
        on suppression_rounds.component = component_equations.component
    cross join lateral (
        select array(
            select grown.cell_number
            from (
                select unnest(suppression_rounds.suppressed) as cell_number
                union
                select
                    min(equation_cells.cell_number) filter (
                        where equation_cells.is_candidate and already.cell_number is null
                    ) as cell_number
                from unnest(
                    component_equations.equation_numbers,
                    component_equations.cell_numbers,
                    component_equations.is_candidate
                ) as equation_cells (equation_number, cell_number, is_candidate)
                left join unnest(suppression_rounds.suppressed) as already (cell_number)
                    on equation_cells.cell_number = already.cell_number
                group by equation_cells.equation_number
                having count(already.cell_number) = 1
            ) as grown
            where grown.cell_number is not null
            order by grown.cell_number
        ) as suppressed
    ) as next_round
    where
        suppression_parameters.is_secondary_on
        and next_round.suppressed <> suppression_rounds.suppressed

),

suppression_fixed_points as materialized (

    select distinct on (component)
        component,
        round_number,
        suppressed
    from suppression_rounds
    order by component, round_number desc

),

cells_suppressed as materialized (

    select
        cells_numbered.component,
        cells_numbered.cell,
        cells_numbered.cell_value,
        cells_numbered.is_primary,
        coalesce(cells_numbered.cell_number = any(suppression_fixed_points.suppressed), false)
            as is_suppressed,
        suppression_fixed_points.round_number as suppression_rounds
    from cells_numbered
    left join suppression_fixed_points
        on cells_numbered.component = suppression_fixed_points.component

)

{%- endmacro %}


{#-
    One table's suppression (a mart published on its own): builds its cells and equations from
    a CTE of the mart's rows, runs suppress_cells, and defines the CTE `published`.

      with
      mart as (select * from {{ ref('mart_x') }} where <complete periods>),
      publication_parameters as (select * from {{ ref('publication_parameters') }}),
      {{ suppression_ctes(source_cte='mart', ...) }}
      select * from published

    Arguments:
      source_cte          the CTE holding the rows to publish
      key_columns         the rows' key, published as is (also the tie-break order)
      group_columns       the columns that fix a group of cells with a published total (across the
                          other key columns, e.g. month x category across local authorities), or a
                          list of such lists; each count column's cells of a group are an equation
      count_columns       counts to suppress
      rates               {rate column: [count columns it is computed from]}
      row_totals          [[total column, [part columns]], ...]: within a row, total = sum of parts
      passthrough_columns labels and other columns published as is (never a count or a rate)
      trailing_columns    published as is, last (dates)
    The component (the cells equations tie together) is the columns every grouping shares.
-#}
{% macro suppression_ctes(
    source_cte,
    key_columns,
    group_columns,
    count_columns,
    rates={},
    row_totals=[],
    passthrough_columns=[],
    trailing_columns=[]
) -%}

{%- set groupings = [group_columns] if group_columns[0] is string else group_columns %}
{%- set component_columns = [] %}
{%- for column in groupings[0] %}
{%- set ns = namespace(in_all=true) %}
{%- for grouping in groupings %}{% if column not in grouping %}{% set ns.in_all = false %}{% endif %}{% endfor %}
{%- if ns.in_all %}{% do component_columns.append(column) %}{% endif %}
{%- endfor %}

suppression_rows as materialized (

    -- Each row with its key and component as text.
    select
        {{ source_cte }}.*,
        concat_ws('|', {{ key_columns | join(', ') }}) as suppression_row_key,
        concat_ws('|', {{ component_columns | join(', ') }}) as suppression_component
    from {{ source_cte }}

),

suppression_cells as (

    -- One cell per row and count column.
    select
        suppression_rows.suppression_component as component,
        count_cells.column_name || '|' || suppression_rows.suppression_row_key as cell,
        count_cells.column_name,
        suppression_rows.suppression_row_key,
        count_cells.cell_value
    from suppression_rows
    cross join lateral (
        values
        {%- for column in count_columns %}
            ('{{ column }}', cast(suppression_rows.{{ column }} as integer)){{ "," if not loop.last }}
        {%- endfor %}
    ) as count_cells (column_name, cell_value)

),

suppression_equations as (

    {%- set parts = [] %}
    {%- for grouping in groupings %}
    {%- set grouping_index = loop.index %}
    {%- for column in count_columns %}
    {%- set sql %}
    -- {{ column }} across the rows of each {{ grouping | join(" x ") }}
    select
        suppression_component as component,
        'g{{ grouping_index }}|{{ column }}|' || concat_ws('|', {{ grouping | join(', ') }}) as equation,
        '{{ column }}|' || suppression_row_key as cell
    from suppression_rows
    {%- endset %}
    {%- do parts.append(sql) %}
    {%- endfor %}
    {%- endfor %}
    {%- for total, row_parts in row_totals %}
    {%- set total_index = loop.index %}
    {%- for column in [total] + row_parts %}
    {%- set sql %}
    -- within a row: {{ total }} = {{ row_parts | join(" + ") }}
    select
        suppression_component as component,
        'r{{ total_index }}|' || suppression_row_key as equation,
        '{{ column }}|' || suppression_row_key as cell
    from suppression_rows
    {%- endset %}
    {%- do parts.append(sql) %}
    {%- endfor %}
    {%- endfor %}
    {{ parts | join("\n    union all") }}

),

{{ suppress_cells('suppression_cells', 'suppression_equations') }},

suppression_flags as (

    -- Back to one row per published row: each count's flag.
    select
        suppression_cells.suppression_row_key,
        {%- for column in count_columns %}
        coalesce(bool_or(cells_suppressed.is_suppressed) filter (
            where suppression_cells.column_name = '{{ column }}'
        ), false) as {{ column }}__suppressed{{ "," if not loop.last }}
        {%- endfor %}
    from suppression_cells
    inner join cells_suppressed
        on
            suppression_cells.component = cells_suppressed.component
            and suppression_cells.cell = cells_suppressed.cell
    group by suppression_cells.suppression_row_key

),

suppression_joined as (

    select
        suppression_rows.*,
        {%- for column in count_columns %}
        suppression_flags.{{ column }}__suppressed{{ "," if not loop.last }}
        {%- endfor %}
    from suppression_rows
    inner join suppression_flags
        on suppression_rows.suppression_row_key = suppression_flags.suppression_row_key

),

{{ published_columns('suppression_joined', key_columns, count_columns, rates,
                     passthrough_columns, trailing_columns) }}

{%- endmacro %}


{#-
    The CTE `published` from a CTE holding the rows, their counts and a <count>__suppressed
    flag for each count: suppressed values become null; each count and rate says whether it was
    suppressed; a rate is suppressed when any count it is computed from is.
-#}
{% macro published_columns(flags_cte, key_columns, count_columns, rates={},
                           passthrough_columns=[], trailing_columns=[]) -%}
published as (

    {%- set expressions = key_columns + passthrough_columns %}
    {%- for column in count_columns %}
    {%- do expressions.append(
        "case when not " ~ column ~ "__suppressed then " ~ column ~ " end as " ~ column
    ) %}
    {%- endfor %}
    {%- for rate, counts in rates.items() %}
    {%- do expressions.append(
        "case when not (" ~ _any_suppressed(counts) ~ ") then " ~ rate ~ " end as " ~ rate
    ) %}
    {%- endfor %}
    {%- for column in count_columns %}
    {%- do expressions.append(column ~ "__suppressed as " ~ column ~ "_is_suppressed") %}
    {%- endfor %}
    {%- for rate, counts in rates.items() %}
    {%- do expressions.append(
        "(" ~ _any_suppressed(counts) ~ ") as " ~ rate ~ "_is_suppressed"
    ) %}
    {%- endfor %}
    {%- set expressions = expressions + trailing_columns %}
    select
        {{ expressions | join(",\n        ") }}
    from {{ flags_cte }}

)
{%- endmacro %}


{#- True when any of the counts is suppressed. -#}
{% macro _any_suppressed(counts) -%}
    {% for count in counts %}{{ count }}__suppressed{{ " or " if not loop.last }}{% endfor %}
{%- endmacro %}
