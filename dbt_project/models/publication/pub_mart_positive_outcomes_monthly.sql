{#-
    Measure 2, recorded cohort, for publication: complete months only, small numbers suppressed.
    The flags come from int_published_crime_cells_suppressed, the one suppression of every cell
    measures 1 and 2 publish (outcomes 14, 15 and 16 here are the cells of
    pub_mart_outcomes_by_type_monthly, charge/summons is outcomes 1 + 1A there, ...).
-#}
with

mart as (

    select * from {{ ref('mart_positive_outcomes_monthly') }}

),

cells as (

    select * from {{ ref('int_published_crime_cells_suppressed') }}

),

row_flags as (

    -- Each row's flags, one per count, from the shared cells.
    select
        month_start_date,
        reporting_category,
        local_authority_code,
        bool_or(is_suppressed) filter (where cell_kind = 'recorded') as crime_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'awaiting')
            as awaiting_outcome_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'without_event')
            as without_outcome_event_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'assigned')
            as assigned_outcome_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'positive') as positive_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'charge_summons')
            as charge_summons_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'diversion')
            as diversion_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'evidential')
            as evidential_difficulties_count__suppressed,
        coalesce(
            bool_or(is_suppressed) filter (where cell_kind = 'type' and outcome_code = '14'), false
        ) as outcome_14_count__suppressed,
        coalesce(
            bool_or(is_suppressed) filter (where cell_kind = 'type' and outcome_code = '15'), false
        ) as outcome_15_count__suppressed,
        coalesce(
            bool_or(is_suppressed) filter (where cell_kind = 'type' and outcome_code = '16'), false
        ) as outcome_16_count__suppressed,
        bool_or(is_suppressed) filter (where cell_kind = 'other') as other_outcome_count__suppressed
    from cells
    group by month_start_date, reporting_category, local_authority_code

),

flagged as (

    select
        mart.*,
        row_flags.crime_count__suppressed,
        row_flags.awaiting_outcome_count__suppressed,
        row_flags.without_outcome_event_count__suppressed,
        row_flags.assigned_outcome_count__suppressed,
        row_flags.positive_count__suppressed,
        row_flags.charge_summons_count__suppressed,
        row_flags.diversion_count__suppressed,
        row_flags.evidential_difficulties_count__suppressed,
        row_flags.outcome_14_count__suppressed,
        row_flags.outcome_15_count__suppressed,
        row_flags.outcome_16_count__suppressed,
        row_flags.other_outcome_count__suppressed
    from mart
    inner join row_flags
        on
            mart.month_start_date = row_flags.month_start_date
            and mart.reporting_category = row_flags.reporting_category
            and mart.local_authority_code = row_flags.local_authority_code
    where mart.is_complete_period

),

{{ published_columns(
    'flagged',
    key_columns=['month_start_date', 'local_authority_code', 'reporting_category'],
    passthrough_columns=[
        'category_label', 'local_authority_name', 'division_name', 'financial_year',
        'headline_rate',
    ],
    count_columns=[
        'crime_count', 'awaiting_outcome_count', 'without_outcome_event_count',
        'assigned_outcome_count', 'positive_count', 'charge_summons_count', 'diversion_count',
        'evidential_difficulties_count', 'outcome_14_count', 'outcome_15_count',
        'outcome_16_count', 'other_outcome_count',
    ],
    rates={
        'awaiting_outcome_pct': ['awaiting_outcome_count', 'crime_count'],
        'positive_rate_pct': ['positive_count', 'crime_count'],
        'positive_rate_assigned_pct': ['positive_count', 'assigned_outcome_count'],
        'charge_summons_rate_pct': ['charge_summons_count', 'crime_count'],
        'charge_summons_rate_assigned_pct': ['charge_summons_count', 'assigned_outcome_count'],
        'headline_rate_pct': ['positive_count', 'charge_summons_count', 'crime_count'],
        'diversion_share_assigned_pct': ['diversion_count', 'assigned_outcome_count'],
        'evidential_difficulties_share_assigned_pct': [
            'evidential_difficulties_count', 'assigned_outcome_count',
        ],
        'outcome_14_share_assigned_pct': ['outcome_14_count', 'assigned_outcome_count'],
        'outcome_15_share_assigned_pct': ['outcome_15_count', 'assigned_outcome_count'],
        'outcome_16_share_assigned_pct': ['outcome_16_count', 'assigned_outcome_count'],
    },
    trailing_columns=['outcomes_as_of_date', 'data_as_of_date'],
) }}

select * from published
