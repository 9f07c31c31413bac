{#-
    Measure 2 by outcome type, for publication: complete months only, small numbers suppressed.
    The flags come from int_published_crime_cells_suppressed, the one suppression of every cell
    measures 1 and 2 publish: an outcome type's count here is the same cell as an outcome_1x
    count of pub_mart_positive_outcomes_monthly and adds into its charge/summons, positive,
    evidential difficulties ... counts; the cohort is measure 1's crime count.
-#}
with

mart as (

    select * from {{ ref('mart_outcomes_by_type_monthly') }}

),

cells as (

    select * from {{ ref('int_published_crime_cells_suppressed') }}

),

type_flags as (

    -- Each outcome type's cells (its crimes, those without an event).
    select
        month_start_date,
        reporting_category,
        local_authority_code,
        outcome_code,
        bool_or(is_suppressed) filter (where cell_kind = 'type') as crime_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'type_without_event')
            as without_outcome_event_count__suppressed
    from cells
    where cell_kind in ('type', 'type_without_event')
    group by month_start_date, reporting_category, local_authority_code, outcome_code

),

cohort_flags as (

    -- The cohort's cells shared by every type of a local authority: all crimes, and assigned.
    select
        month_start_date,
        reporting_category,
        local_authority_code,
        bool_or(is_suppressed) filter (where cell_kind = 'recorded')
            as cohort_crime_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'assigned')
            as assigned_crime_count__suppressed
    from cells
    where cell_kind in ('recorded', 'assigned')
    group by month_start_date, reporting_category, local_authority_code

),

flagged as (

    select
        mart.*,
        type_flags.crime_count__suppressed,
        type_flags.without_outcome_event_count__suppressed,
        cohort_flags.cohort_crime_count__suppressed,
        cohort_flags.assigned_crime_count__suppressed
    from mart
    inner join type_flags
        on
            mart.month_start_date = type_flags.month_start_date
            and mart.reporting_category = type_flags.reporting_category
            and mart.local_authority_code = type_flags.local_authority_code
            and mart.outcome_code = type_flags.outcome_code
    inner join cohort_flags
        on
            mart.month_start_date = cohort_flags.month_start_date
            and mart.reporting_category = cohort_flags.reporting_category
            and mart.local_authority_code = cohort_flags.local_authority_code
    where mart.is_complete_period

),

{{ published_columns(
    'flagged',
    key_columns=['month_start_date', 'local_authority_code', 'reporting_category', 'outcome_code'],
    passthrough_columns=[
        'category_label', 'local_authority_name', 'division_name', 'financial_year',
        'outcome_description', 'outcome_group', 'outcome_sort_order', 'is_open', 'is_positive',
        'is_charge_summons', 'is_diversion', 'is_evidential_difficulties',
    ],
    count_columns=[
        'crime_count', 'without_outcome_event_count', 'cohort_crime_count',
        'assigned_crime_count',
    ],
    rates={
        'share_of_cohort_pct': ['crime_count', 'cohort_crime_count'],
        'share_of_assigned_pct': ['crime_count', 'assigned_crime_count'],
    },
    trailing_columns=['outcomes_as_of_date', 'data_as_of_date'],
) }}

select * from published
