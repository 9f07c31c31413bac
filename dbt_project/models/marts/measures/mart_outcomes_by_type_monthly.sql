with

cohort_crimes as (

    select * from {{ ref('int_cohort_crimes_classified') }}

),

outcome_events as (

    select * from {{ ref('fct_crime_outcome_event') }}

),

extracts as (

    select * from {{ ref('int_force_extracts_dated') }}

),

month_local_authorities as (

    select * from {{ ref('int_month_local_authority_grid') }}

),

outcomes as (

    select * from {{ ref('dim_outcome') }}

),

reporting_categories as (

    select * from {{ ref('reporting_categories') }}

),

outcome_measure_categories as (

    select * from {{ ref('outcome_measure_categories') }}

),

measured_categories as (

    -- The categories measure 2 reports (seed outcome_measure_categories).
    select
        reporting_categories.reporting_category,
        reporting_categories.category_label
    from reporting_categories
    inner join outcome_measure_categories
        on reporting_categories.reporting_category = outcome_measure_categories.reporting_category

),

outcome_counts as (

    select
        geography_key,
        reporting_category,
        month_start_date,
        outcome_key,
        count(*) as crime_count,
        count(*) filter (where not has_outcome_event) as without_outcome_event_count
    from cohort_crimes
    group by geography_key, reporting_category, month_start_date, outcome_key

),

cohort_counts as (

    -- The denominators: every crime of the cohort, and those whose outcome is assigned (open
    -- crimes, current outcome 0 or no event yet, never count as assigned).
    select
        geography_key,
        reporting_category,
        month_start_date,
        count(*) as cohort_crime_count,
        count(*) filter (where not is_open) as assigned_crime_count
    from cohort_crimes
    group by geography_key, reporting_category, month_start_date

),

reporting_months as (

    {#- Every month from the first recorded month to the last, so months without crimes show 0. -#}
    {{ reporting_months(
        "select min(month_start_date) from cohort_crimes",
        "select max(month_start_date) from cohort_crimes",
    ) }}

),

data_as_of as (

    -- The crimes extract's as-of date (a cohort month is complete when it covers the month's last
    -- day) and the latest outcome date in the data (the outcomes are as of then).
    select
        (select data_as_of_date from extracts where dataset_name = 'force_crimes')
            as data_as_of_date,
        (select max(outcome_date) from outcome_events) as outcomes_as_of_date

),

grid as (

    -- month x local authority (the unknown member too) x measured category x outcome type.
    select
        reporting_months.geography_key,
        reporting_months.local_authority_code,
        reporting_months.local_authority_name,
        reporting_months.division_name,
        measured_categories.reporting_category,
        measured_categories.category_label,
        outcomes.outcome_key,
        outcomes.outcome_code,
        outcomes.outcome_description,
        outcomes.outcome_group,
        outcomes.sort_order as outcome_sort_order,
        outcomes.is_open,
        outcomes.is_positive,
        outcomes.is_charge_summons,
        outcomes.is_diversion,
        outcomes.is_evidential_difficulties,
        reporting_months.financial_year,
        reporting_months.month_start_date
    from reporting_months
    cross join measured_categories
    cross join outcomes

),

grid_counted as (

    select
        grid.*,
        cast(coalesce(outcome_counts.crime_count, 0) as integer) as crime_count,
        cast(coalesce(outcome_counts.without_outcome_event_count, 0) as integer)
            as without_outcome_event_count,
        cast(coalesce(cohort_counts.cohort_crime_count, 0) as integer) as cohort_crime_count,
        cast(coalesce(cohort_counts.assigned_crime_count, 0) as integer) as assigned_crime_count
    from grid
    left join outcome_counts
        on
            grid.geography_key = outcome_counts.geography_key
            and grid.reporting_category = outcome_counts.reporting_category
            and grid.month_start_date = outcome_counts.month_start_date
            and grid.outcome_key = outcome_counts.outcome_key
    left join cohort_counts
        on
            grid.geography_key = cohort_counts.geography_key
            and grid.reporting_category = cohort_counts.reporting_category
            and grid.month_start_date = cohort_counts.month_start_date

),

measures as (

    select
        -- ids
        grid_counted.local_authority_code,
        grid_counted.reporting_category,
        grid_counted.outcome_code,

        -- strings
        grid_counted.category_label,
        grid_counted.local_authority_name,
        grid_counted.division_name,
        grid_counted.financial_year,
        grid_counted.outcome_description,
        grid_counted.outcome_group,

        -- numerics
        grid_counted.outcome_sort_order,
        grid_counted.crime_count,
        grid_counted.without_outcome_event_count,
        grid_counted.cohort_crime_count,
        grid_counted.assigned_crime_count,
        {{ pct('grid_counted.crime_count', 'grid_counted.cohort_crime_count') }}
            as share_of_cohort_pct,
        case
            when not grid_counted.is_open
                then {{ pct('grid_counted.crime_count', 'grid_counted.assigned_crime_count') }}
        end as share_of_assigned_pct,

        -- booleans
        grid_counted.is_open,
        grid_counted.is_positive,
        grid_counted.is_charge_summons,
        grid_counted.is_diversion,
        grid_counted.is_evidential_difficulties,
        {{ is_complete_period('grid_counted.month_start_date', 'data_as_of.data_as_of_date') }}
            as is_complete_period,

        -- dates
        grid_counted.month_start_date,
        data_as_of.outcomes_as_of_date,
        data_as_of.data_as_of_date

    from grid_counted
    cross join data_as_of

)

select * from measures
