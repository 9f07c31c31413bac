with

current_outcomes as (

    select * from {{ ref('fct_crime_current_outcome') }}

),

outcome_events as (

    select * from {{ ref('fct_crime_outcome_event') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

offences as (

    select * from {{ ref('dim_offence') }}

),

outcomes as (

    select * from {{ ref('dim_outcome') }}

),

reporting_categories as (

    select * from {{ ref('reporting_categories') }}

),

reporting_category_rules as (

    select * from {{ ref('reporting_category_rules') }}

),

outcome_measure_categories as (

    select * from {{ ref('outcome_measure_categories') }}

),

measured_categories as (

    -- The categories measure 2 reports (seed outcome_measure_categories: domestic abuse, rape,
    -- stalking); which crimes fall in each is reporting_category_rules, as for measure 1.
    select
        reporting_categories.reporting_category,
        reporting_categories.category_label
    from reporting_categories
    inner join outcome_measure_categories
        on reporting_categories.reporting_category = outcome_measure_categories.reporting_category

),

crimes_by_month as (

    -- Each crime with its recorded month (the cohort), offence code and current outcome.
    select
        current_outcomes.crime_key,
        current_outcomes.geography_key,
        current_outcomes.current_outcome_key,
        offences.offence_code,
        current_outcomes.is_domestic_abuse,
        current_outcomes.has_outcome_event,
        dates.month_start_date
    from current_outcomes
    inner join dates
        on current_outcomes.recorded_date_key = dates.date_key
    inner join offences
        on current_outcomes.offence_key = offences.offence_key
    where dates.month_start_date is not null

),

crimes_by_offence_rule as (

    -- Crimes in a measured category by their offence code (seed reporting_category_rules).
    select
        crimes_by_month.crime_key,
        crimes_by_month.geography_key,
        crimes_by_month.current_outcome_key,
        crimes_by_month.has_outcome_event,
        crimes_by_month.month_start_date,
        reporting_category_rules.reporting_category
    from crimes_by_month
    inner join reporting_category_rules
        on crimes_by_month.offence_code = reporting_category_rules.ho_offence_code
    inner join measured_categories
        on reporting_category_rules.reporting_category = measured_categories.reporting_category
    where reporting_category_rules.selection_rule = 'offence_code'

),

crimes_by_flag_rule as (

    -- Crimes in a measured category by the domestic abuse flag, whatever the offence.
    select
        crimes_by_month.crime_key,
        crimes_by_month.geography_key,
        crimes_by_month.current_outcome_key,
        crimes_by_month.has_outcome_event,
        crimes_by_month.month_start_date,
        reporting_category_rules.reporting_category
    from crimes_by_month
    inner join reporting_category_rules
        on reporting_category_rules.selection_rule = 'domestic_abuse_flag'
    inner join measured_categories
        on reporting_category_rules.reporting_category = measured_categories.reporting_category
    where crimes_by_month.is_domestic_abuse

),

categorised_crimes as (

    -- A crime counts once in every category it falls in, by its one current outcome (union
    -- removes a crime matched twice in one category).
    select * from crimes_by_offence_rule
    union
    select * from crimes_by_flag_rule

),

outcome_counts as (

    select
        geography_key,
        reporting_category,
        month_start_date,
        current_outcome_key as outcome_key,
        count(*) as crime_count,
        count(*) filter (where not has_outcome_event) as without_outcome_event_count
    from categorised_crimes
    group by geography_key, reporting_category, month_start_date, current_outcome_key

),

cohort_counts as (

    -- The denominators: every crime of the cohort, and those whose outcome is assigned (open
    -- crimes, current outcome 0 or no event yet, never count as assigned).
    select
        categorised_crimes.geography_key,
        categorised_crimes.reporting_category,
        categorised_crimes.month_start_date,
        count(*) as cohort_crime_count,
        count(*) filter (where not outcomes.is_open) as assigned_crime_count
    from categorised_crimes
    inner join outcomes
        on categorised_crimes.current_outcome_key = outcomes.outcome_key
    group by
        categorised_crimes.geography_key,
        categorised_crimes.reporting_category,
        categorised_crimes.month_start_date

),

reporting_months as (

    -- Every month from the first recorded month to the last, so months without crimes show 0.
    select
        dates.financial_year,
        dates.month_start_date
    from dates
    where
        dates.calendar_date = dates.month_start_date
        and dates.month_start_date >= (select min(month_start_date) from crimes_by_month)
        and dates.month_start_date <= (select max(month_start_date) from crimes_by_month)

),

outcomes_as_of as (

    -- The latest outcome date in the data: the rates are as of this day.
    select max(outcome_date) as outcomes_as_of_date
    from outcome_events

),

grid as (

    -- month x local authority (the unknown member too) x measured category x outcome type.
    select
        geographies.geography_key,
        geographies.local_authority_code,
        geographies.local_authority_name,
        geographies.division_name,
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
    cross join geographies
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
        cast(
            round(100.0 * grid_counted.crime_count / nullif(grid_counted.cohort_crime_count, 0), 1)
            as numeric(5, 1)
        ) as share_of_cohort_pct,
        cast(
            case
                when not grid_counted.is_open
                    then round(
                        100.0 * grid_counted.crime_count
                        / nullif(grid_counted.assigned_crime_count, 0),
                        1
                    )
            end as numeric(5, 1)
        ) as share_of_assigned_pct,

        -- booleans
        grid_counted.is_open,
        grid_counted.is_positive,
        grid_counted.is_charge_summons,
        grid_counted.is_diversion,
        grid_counted.is_evidential_difficulties,

        -- dates
        grid_counted.month_start_date,
        outcomes_as_of.outcomes_as_of_date

    from grid_counted
    cross join outcomes_as_of

)

select * from measures
