with

outcome_events as (

    select * from {{ ref('fct_crime_outcome_event') }}

),

recorded_crimes as (

    select * from {{ ref('fct_recorded_crime') }}

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

    -- The categories measure 2 reports (seed outcome_measure_categories), with their headline
    -- rate; which crimes fall in each is reporting_category_rules, as for the recorded cohort.
    select
        reporting_categories.reporting_category,
        reporting_categories.category_label,
        outcome_measure_categories.headline_rate
    from reporting_categories
    inner join outcome_measure_categories
        on reporting_categories.reporting_category = outcome_measure_categories.reporting_category

),

outcome_events_ranked as (

    -- The closed-basis rule: a crime counts once, in the month its CURRENT outcome (the event
    -- with the highest outcome_sequence) was assigned, and only when that outcome is not open.
    -- earlier_assigned_event_count: events before the current one that were already assigned
    -- (16 then 1: the crime moved out of the month of its 16 into the month of its 1).
    select
        outcome_events.crime_key,
        outcome_events.outcome_key,
        outcome_events.outcome_date_key,
        outcome_events.outcome_sequence,
        row_number() over (
            partition by outcome_events.crime_key
            order by outcome_events.outcome_sequence desc
        ) as recency_rank,
        count(*) filter (where not outcomes.is_open) over (
            partition by outcome_events.crime_key
        ) as assigned_event_count,
        outcomes.is_open
    from outcome_events
    inner join outcomes
        on outcome_events.outcome_key = outcomes.outcome_key

),

closed_crimes as (

    -- Each crime whose current outcome is assigned, with the month it was assigned in.
    select
        outcome_events_ranked.crime_key,
        outcome_events_ranked.outcome_key,
        outcome_events_ranked.assigned_event_count > 1 as had_earlier_assigned_outcome,
        dates.month_start_date
    from outcome_events_ranked
    inner join dates
        on outcome_events_ranked.outcome_date_key = dates.date_key
    where
        outcome_events_ranked.recency_rank = 1
        and not outcome_events_ranked.is_open

),

closed_crimes_described as (

    -- The crime's place, offence and domestic abuse flag; an outcome whose crime has not
    -- arrived yet cannot be put in a category and waits (inner join).
    select
        closed_crimes.crime_key,
        closed_crimes.outcome_key,
        closed_crimes.had_earlier_assigned_outcome,
        closed_crimes.month_start_date,
        recorded_crimes.geography_key,
        recorded_crimes.is_domestic_abuse,
        offences.offence_code
    from closed_crimes
    inner join recorded_crimes
        on closed_crimes.crime_key = recorded_crimes.crime_key
    inner join offences
        on recorded_crimes.offence_key = offences.offence_key

),

crimes_by_offence_rule as (

    select
        closed_crimes_described.crime_key,
        closed_crimes_described.outcome_key,
        closed_crimes_described.had_earlier_assigned_outcome,
        closed_crimes_described.month_start_date,
        closed_crimes_described.geography_key,
        reporting_category_rules.reporting_category
    from closed_crimes_described
    inner join reporting_category_rules
        on closed_crimes_described.offence_code = reporting_category_rules.ho_offence_code
    inner join measured_categories
        on reporting_category_rules.reporting_category = measured_categories.reporting_category
    where reporting_category_rules.selection_rule = 'offence_code'

),

crimes_by_flag_rule as (

    select
        closed_crimes_described.crime_key,
        closed_crimes_described.outcome_key,
        closed_crimes_described.had_earlier_assigned_outcome,
        closed_crimes_described.month_start_date,
        closed_crimes_described.geography_key,
        reporting_category_rules.reporting_category
    from closed_crimes_described
    inner join reporting_category_rules
        on reporting_category_rules.selection_rule = 'domestic_abuse_flag'
    inner join measured_categories
        on reporting_category_rules.reporting_category = measured_categories.reporting_category
    where closed_crimes_described.is_domestic_abuse

),

categorised_crimes as (

    -- A crime counts once in every category it falls in (union removes a double match).
    select * from crimes_by_offence_rule
    union
    select * from crimes_by_flag_rule

),

monthly_counts as (

    select
        categorised_crimes.geography_key,
        categorised_crimes.reporting_category,
        categorised_crimes.month_start_date,
        count(*) as assigned_outcome_count,
        count(*) filter (where outcomes.is_positive) as positive_count,
        count(*) filter (where outcomes.is_charge_summons) as charge_summons_count,
        count(*) filter (where outcomes.is_diversion) as diversion_count,
        count(*) filter (where outcomes.is_evidential_difficulties)
            as evidential_difficulties_count,
        -- The three evidential difficulties outcomes PCCs scrutinise for VAWG (HO codes, C).
        count(*) filter (where outcomes.outcome_code = '14') as outcome_14_count,
        count(*) filter (where outcomes.outcome_code = '15') as outcome_15_count,
        count(*) filter (where outcomes.outcome_code = '16') as outcome_16_count,
        count(*) filter (
            where not (
                outcomes.is_positive or outcomes.is_diversion or outcomes.is_evidential_difficulties
            )
        ) as other_outcome_count,
        count(*) filter (where categorised_crimes.had_earlier_assigned_outcome)
            as changed_outcome_count
    from categorised_crimes
    inner join outcomes
        on categorised_crimes.outcome_key = outcomes.outcome_key
    group by
        categorised_crimes.geography_key,
        categorised_crimes.reporting_category,
        categorised_crimes.month_start_date

),

outcome_months as (

    -- Every month from the first month an outcome was assigned in to the last, so months
    -- without outcomes show 0.
    select
        dates.financial_year,
        dates.month_start_date
    from dates
    where
        dates.calendar_date = dates.month_start_date
        and dates.month_start_date >= (
            select min(date_trunc('month', outcome_date)) from outcome_events
        )
        and dates.month_start_date <= (
            select max(date_trunc('month', outcome_date)) from outcome_events
        )

),

outcomes_as_of as (

    -- The latest outcome date in the data: a crime's outcome may still change after it.
    select max(outcome_date) as outcomes_as_of_date
    from outcome_events

),

grid as (

    -- month x local authority (the unknown member too) x measured category.
    select
        geographies.geography_key,
        geographies.local_authority_code,
        geographies.local_authority_name,
        geographies.division_name,
        measured_categories.reporting_category,
        measured_categories.category_label,
        measured_categories.headline_rate,
        outcome_months.financial_year,
        outcome_months.month_start_date
    from outcome_months
    cross join geographies
    cross join measured_categories

),

counts_typed as (

    select
        grid.*,
        cast(coalesce(monthly_counts.assigned_outcome_count, 0) as integer)
            as assigned_outcome_count,
        cast(coalesce(monthly_counts.positive_count, 0) as integer) as positive_count,
        cast(coalesce(monthly_counts.charge_summons_count, 0) as integer) as charge_summons_count,
        cast(coalesce(monthly_counts.diversion_count, 0) as integer) as diversion_count,
        cast(coalesce(monthly_counts.evidential_difficulties_count, 0) as integer)
            as evidential_difficulties_count,
        cast(coalesce(monthly_counts.outcome_14_count, 0) as integer) as outcome_14_count,
        cast(coalesce(monthly_counts.outcome_15_count, 0) as integer) as outcome_15_count,
        cast(coalesce(monthly_counts.outcome_16_count, 0) as integer) as outcome_16_count,
        cast(coalesce(monthly_counts.other_outcome_count, 0) as integer) as other_outcome_count,
        cast(coalesce(monthly_counts.changed_outcome_count, 0) as integer)
            as changed_outcome_count
    from grid
    left join monthly_counts
        on
            grid.geography_key = monthly_counts.geography_key
            and grid.reporting_category = monthly_counts.reporting_category
            and grid.month_start_date = monthly_counts.month_start_date

),

rates as (

    -- Percentages of the outcomes assigned in the month, rounded to 1 decimal place; null when
    -- none was assigned. Open crimes (outcome 0) are never in this denominator.
    select
        *,
        cast(
            round(100.0 * positive_count / nullif(assigned_outcome_count, 0), 1) as numeric(5, 1)
        ) as positive_rate_pct,
        cast(
            round(100.0 * charge_summons_count / nullif(assigned_outcome_count, 0), 1)
            as numeric(5, 1)
        ) as charge_summons_rate_pct,
        cast(
            round(100.0 * diversion_count / nullif(assigned_outcome_count, 0), 1) as numeric(5, 1)
        ) as diversion_share_pct,
        cast(
            round(100.0 * evidential_difficulties_count / nullif(assigned_outcome_count, 0), 1)
            as numeric(5, 1)
        ) as evidential_difficulties_share_pct,
        cast(
            round(100.0 * outcome_14_count / nullif(assigned_outcome_count, 0), 1) as numeric(5, 1)
        ) as outcome_14_share_pct,
        cast(
            round(100.0 * outcome_15_count / nullif(assigned_outcome_count, 0), 1) as numeric(5, 1)
        ) as outcome_15_share_pct,
        cast(
            round(100.0 * outcome_16_count / nullif(assigned_outcome_count, 0), 1) as numeric(5, 1)
        ) as outcome_16_share_pct
    from counts_typed

),

measures as (

    select
        -- ids
        rates.local_authority_code,
        rates.reporting_category,

        -- strings
        rates.category_label,
        rates.local_authority_name,
        rates.division_name,
        rates.financial_year,
        rates.headline_rate,

        -- numerics
        rates.assigned_outcome_count,
        rates.positive_count,
        rates.charge_summons_count,
        rates.diversion_count,
        rates.evidential_difficulties_count,
        rates.outcome_14_count,
        rates.outcome_15_count,
        rates.outcome_16_count,
        rates.other_outcome_count,
        rates.changed_outcome_count,
        rates.positive_rate_pct,
        rates.charge_summons_rate_pct,
        -- The seed names each category's headline rate (outcome_measure_categories.headline_rate).
        case rates.headline_rate
            when 'charge_summons' then rates.charge_summons_rate_pct
            when 'positive' then rates.positive_rate_pct
        end as headline_rate_pct,
        rates.diversion_share_pct,
        rates.evidential_difficulties_share_pct,
        rates.outcome_14_share_pct,
        rates.outcome_15_share_pct,
        rates.outcome_16_share_pct,

        -- dates
        rates.month_start_date,
        outcomes_as_of.outcomes_as_of_date

    from rates
    cross join outcomes_as_of

)

select * from measures
