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
    another hides; the other tables take theirs from one run over theirs
    (int_published_table_cells_suppressed, macros/publication_tables.sql). Test
    no_lone_suppressed_cell checks each table, and across tables.
      audit       the fixed point only sees an equation with ONE suppressed cell; two equations
                  together can still pin a cell (Burnley: positive outcomes 22, charge/summons
                  21, the other positive types 0, so community resolution = 1). After the force
                  group's build, vawg_warehouse.dbt_run.publication_audit bounds every suppressed cell by
                  integer programming against everything published and adds cells until each
                  interval is at least protection_interval wide; the cells it adds are read back
                  here (argument added_cte) and the build fails if any cell is left narrower.
-#}


{#-
    The engine. Reads two CTEs the caller defines, and publication_parameters (seed rows):
      cells_cte      component, cell, cell_value: every published count (a component is a set of
                     cells that equations tie together; equations never cross components)
      equations_cte  component, equation, cell, coefficient: the cells of each equation, which
                     says sum(coefficient * cell) = a public figure (a force total: every
                     coefficient 1; a total and its parts: -1 for the total, 1 for each part)
      added_cte      (optional) component, cell: cells the publication audit added
                     (python module vawg_warehouse.dbt_run.publication_audit, audit.publication_cell_added),
                     suppressed from round 0 like the primary ones
    Defines the CTE cells_suppressed: component, cell, cell_value, is_primary, is_added,
    is_suppressed, suppression_rounds, and equations and coefficients (arrays: the equations the
    cell is in and its coefficient in each), which the audit reads: the equations it checks are
    the ones this macro used.
    The state of a component is the sorted array of its suppressed cells' numbers; cells are
    numbered in the order secondary suppression prefers them (non-zero, then smallest, then id),
    so an equation's next cell to suppress is its lowest unsuppressed candidate number.
-#}
{% macro suppress_cells(cells_cte, equations_cte, added_cte=none) -%}

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
        {%- if added_cte %}
        exists (
            select 1 from {{ added_cte }}
            where
                {{ added_cte }}.component = {{ cells_cte }}.component
                and {{ added_cte }}.cell = {{ cells_cte }}.cell
        ) as is_added,
        {%- else %}
        false as is_added,
        {%- endif %}
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
            array_agg(cell_number order by cell_number) filter (where is_primary or is_added),
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

cell_equations as (

    -- Each cell's equations and its coefficient in each, for the publication audit.
    select
        component,
        cell,
        array_agg(equation order by equation) as equations,
        array_agg(cast(coefficient as integer) order by equation) as coefficients
    from {{ equations_cte }}
    group by component, cell

),

cells_suppressed as materialized (

    select
        cells_numbered.component,
        cells_numbered.cell,
        cells_numbered.cell_value,
        cells_numbered.is_primary,
        cells_numbered.is_added,
        coalesce(cells_numbered.cell_number = any(suppression_fixed_points.suppressed), false)
            as is_suppressed,
        suppression_fixed_points.round_number as suppression_rounds,
        coalesce(cell_equations.equations, cast(array[] as text [])) as equations,
        coalesce(cell_equations.coefficients, cast(array[] as integer [])) as coefficients
    from cells_numbered
    left join suppression_fixed_points
        on cells_numbered.component = suppression_fixed_points.component
    left join cell_equations
        on
            cells_numbered.component = cell_equations.component
            and cells_numbered.cell = cell_equations.cell

)

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


{#-
    The cells the newest audit decision added to a suppression model (component, cell): the
    body of a CTE. vawg_warehouse.dbt_run.publication_audit writes them (audit.publication_cell_added).
-#}
{% macro publication_cells_added(suppression_model) -%}
    -- (refs without aliases: dbt's --empty builds put a subquery in their place)
    select component, cell
    from {{ ref('stg_audit__publication_added_cells') }}
    where
        suppression_model = '{{ suppression_model }}'
        and audit_id = (
            select max(audit_id)
            from {{ ref('stg_audit__publication_audits') }}
            where is_decision
        )
{%- endmacro %}
