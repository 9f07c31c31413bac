{#-
    One suppression for every published cell of measures 1 and 2 (recorded cohort): the three
    publication tables that show them (pub_mart_reporting_monthly,
    pub_mart_positive_outcomes_monthly, pub_mart_outcomes_by_type_monthly) read their flags here,
    so a cell hidden in one is hidden in all, and no equation across them leaves a lone
    suppressed cell (e.g. outcome 1A = charge/summons - outcome 1; 15 = evidential difficulties -
    14 - 16). macros/suppression.sql (suppress_cells) runs to a fixed point.
-#}
-- The cells and equations below are written as tables, one row a line (LT09, LT05), with
-- lateral value lists that sqlfluff's layout rule misreads (LT02).
-- noqa: disable=LT02,LT05,LT09
with recursive

reporting as (

    select * from {{ ref('mart_reporting_monthly') }}

),

positive_outcomes as (

    select * from {{ ref('mart_positive_outcomes_monthly') }}

),

outcomes_by_type as (

    select * from {{ ref('mart_outcomes_by_type_monthly') }}

),

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

published_categories as (

    -- stalking_and_harassment (the Home Office subgroup) is not published: it holds stalking and
    -- harassment, published beside it, and 8R and 8U, so its cells are in no table.
    select * from reporting
    where reporting_category <> 'stalking_and_harassment'

),

named_cells as (

    -- Every published count once, named kind|local authority[|outcome type], in its component
    -- (month x category: the equations never cross them).
    select
        cast(month_start_date as text) || '|' || reporting_category as component,
        month_start_date,
        reporting_category,
        local_authority_code,
        cast('recorded' as text) as cell_kind,
        cast(null as text) as outcome_code,
        crime_count as cell_value
    from published_categories

    union all

    select
        cast(positive_outcomes.month_start_date as text) || '|' || positive_outcomes.reporting_category,
        positive_outcomes.month_start_date,
        positive_outcomes.reporting_category,
        positive_outcomes.local_authority_code,
        counts.cell_kind,
        null,
        counts.cell_value
    from positive_outcomes
    cross join lateral (
        values
            ('awaiting', positive_outcomes.awaiting_outcome_count),
            ('without_event', positive_outcomes.without_outcome_event_count),
            ('assigned', positive_outcomes.assigned_outcome_count),
            ('positive', positive_outcomes.positive_count),
            ('charge_summons', positive_outcomes.charge_summons_count),
            ('diversion', positive_outcomes.diversion_count),
            ('evidential', positive_outcomes.evidential_difficulties_count),
            ('other', positive_outcomes.other_outcome_count)
    ) as counts (cell_kind, cell_value)

    union all

    select
        cast(outcomes_by_type.month_start_date as text) || '|' || outcomes_by_type.reporting_category,
        outcomes_by_type.month_start_date,
        outcomes_by_type.reporting_category,
        outcomes_by_type.local_authority_code,
        counts.cell_kind,
        outcomes_by_type.outcome_code,
        counts.cell_value
    from outcomes_by_type
    cross join lateral (
        values
            ('type', outcomes_by_type.crime_count),
            ('type_without_event', outcomes_by_type.without_outcome_event_count)
    ) as counts (cell_kind, cell_value)

),

cells as (

    select
        component,
        concat_ws('|', cell_kind, local_authority_code, outcome_code) as cell,
        cell_value
    from named_cells

),

type_flags as (

    -- Which derived count each outcome type adds into (the flags of seed ho_outcome_types).
    select distinct
        outcome_code,
        is_open,
        is_positive,
        is_charge_summons,
        is_diversion,
        is_evidential_difficulties
    from outcomes_by_type

),

row_parts as (

    -- Within a local authority: each derived count (total) = the sum of its parts.
    -- recorded = every type; recorded = awaiting + assigned; awaiting = the open types;
    -- assigned = the assigned types = positive + diversion + evidential + other; positive,
    -- charge/summons, diversion, evidential, other = their types; without_event = every
    -- type's without_event.
    select 'recorded_types' as equation, 'recorded' as total_kind, 'type' as part_kind, outcome_code
    from type_flags
    union all
    select 'awaiting_types', 'awaiting', 'type', outcome_code from type_flags where is_open
    union all
    select 'assigned_types', 'assigned', 'type', outcome_code from type_flags where not is_open
    union all
    select 'positive_types', 'positive', 'type', outcome_code from type_flags where is_positive
    union all
    select 'charge_summons_types', 'charge_summons', 'type', outcome_code
    from type_flags where is_charge_summons
    union all
    select 'diversion_types', 'diversion', 'type', outcome_code from type_flags where is_diversion
    union all
    select 'evidential_types', 'evidential', 'type', outcome_code
    from type_flags where is_evidential_difficulties
    union all
    select 'other_types', 'other', 'type', outcome_code
    from type_flags
    where not (is_open or is_positive or is_diversion or is_evidential_difficulties)
    union all
    select 'without_event_types', 'without_event', 'type_without_event', outcome_code
    from type_flags
    union all
    select 'recorded_open_assigned', 'recorded', 'awaiting', null
    union all
    select 'recorded_open_assigned', 'recorded', 'assigned', null
    union all
    select 'assigned_groups', 'assigned', kind, null
    from (values ('positive'), ('diversion'), ('evidential'), ('other')) as groups (kind)

),

equations as (

    -- Across local authorities: the cells of one kind (and type) of a month and category add up
    -- to the force figure.
    select
        component,
        concat_ws('|', 'across', cell_kind, outcome_code) as equation,
        concat_ws('|', cell_kind, local_authority_code, outcome_code) as cell
    from named_cells

    union all

    -- Within a local authority: a derived count and its parts (the total once).
    select distinct
        named_cells.component,
        concat_ws('|', 'within', row_parts.equation, named_cells.local_authority_code) as equation,
        concat_ws('|', row_parts.total_kind, named_cells.local_authority_code) as cell
    from named_cells
    inner join row_parts
        on named_cells.cell_kind = row_parts.part_kind
        and coalesce(named_cells.outcome_code, '') = coalesce(row_parts.outcome_code, '')

    union all

    select
        named_cells.component,
        concat_ws('|', 'within', row_parts.equation, named_cells.local_authority_code),
        concat_ws('|', named_cells.cell_kind, named_cells.local_authority_code, named_cells.outcome_code)
    from named_cells
    inner join row_parts
        on named_cells.cell_kind = row_parts.part_kind
        and coalesce(named_cells.outcome_code, '') = coalesce(row_parts.outcome_code, '')

),

{{ suppress_cells('cells', 'equations') }},

final as (

    select
        named_cells.component || '|' || cells_suppressed.cell as cell_id,
        named_cells.month_start_date,
        named_cells.reporting_category,
        named_cells.local_authority_code,
        named_cells.cell_kind,
        named_cells.outcome_code,
        named_cells.cell_value,
        cells_suppressed.is_primary,
        cells_suppressed.is_suppressed,
        cells_suppressed.suppression_rounds
    from named_cells
    inner join cells_suppressed
        on
            named_cells.component = cells_suppressed.component
            and concat_ws(
                '|', named_cells.cell_kind, named_cells.local_authority_code, named_cells.outcome_code
            ) = cells_suppressed.cell

)

select * from final
