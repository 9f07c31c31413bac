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

reporting_category_rules as (

    select * from {{ ref('reporting_category_rules') }}

),

outcome_measure_categories as (

    select * from {{ ref('outcome_measure_categories') }}

),

ranked_events as (

    -- As in the mart: a crime counts in the month its current outcome (highest sequence) was
    -- assigned, when that outcome is not open.
    select
        outcome_events.crime_key,
        outcome_events._batch_id,
        outcome_events.outcome_key,
        outcome_events.outcome_date_key,
        row_number() over (
            partition by outcome_events.crime_key
            order by outcome_events.outcome_sequence desc
        ) as recency_rank
    from outcome_events

),

current_events as (

    select
        ranked_events.crime_key,
        ranked_events._batch_id,
        dates.month_start_date
    from ranked_events
    inner join outcomes
        on ranked_events.outcome_key = outcomes.outcome_key
    inner join dates
        on ranked_events.outcome_date_key = dates.date_key
    where
        ranked_events.recency_rank = 1
        and not outcomes.is_open

),

closed_crimes as (

    select
        current_events.crime_key,
        current_events.month_start_date,
        current_events._batch_id as outcome_batch_id,
        recorded_crimes._batch_id as crime_batch_id,
        geographies.local_authority_code,
        recorded_crimes.is_domestic_abuse,
        offences.offence_code
    from current_events
    inner join recorded_crimes
        on current_events.crime_key = recorded_crimes.crime_key
    inner join offences
        on recorded_crimes.offence_key = offences.offence_key
    inner join geographies
        on recorded_crimes.geography_key = geographies.geography_key

),

categorised_crimes as (

    -- The measured categories a crime falls in (reporting_category_rules, as in the mart).
    select distinct
        closed_crimes.crime_key,
        closed_crimes.month_start_date,
        closed_crimes.local_authority_code,
        closed_crimes.outcome_batch_id,
        closed_crimes.crime_batch_id,
        reporting_category_rules.reporting_category
    from closed_crimes
    inner join reporting_category_rules
        on
            (
                reporting_category_rules.selection_rule = 'offence_code'
                and closed_crimes.offence_code = reporting_category_rules.ho_offence_code
            )
            or (
                reporting_category_rules.selection_rule = 'domestic_abuse_flag'
                and closed_crimes.is_domestic_abuse
            )
    inner join outcome_measure_categories
        on reporting_category_rules.reporting_category = outcome_measure_categories.reporting_category

),

fact_rows as (

    select
        month_start_date,
        local_authority_code,
        reporting_category,
        cast('fct_recorded_crime' as text) as fact_model,
        crime_batch_id as batch_id
    from categorised_crimes
    union all
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        cast('fct_crime_outcome_event' as text) as fact_model,
        outcome_batch_id as batch_id
    from categorised_crimes

),

batches_behind as (

    select
        month_start_date,
        local_authority_code,
        reporting_category,
        fact_model,
        batch_id,
        cast(count(*) as integer) as fact_row_count
    from fact_rows
    group by month_start_date, local_authority_code, reporting_category, fact_model, batch_id

)

select * from batches_behind
