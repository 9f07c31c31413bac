with

current_outcomes as (

    select * from {{ ref('fct_crime_current_outcome') }}

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

measured_rules as (

    -- The category rules of the categories measure 2 reports (as the mart selects them).
    select reporting_category_rules.*
    from reporting_category_rules
    inner join outcome_measure_categories
        on reporting_category_rules.reporting_category = outcome_measure_categories.reporting_category

),

crimes_by_month as (

    -- Each crime with its recorded month, local authority, offence and current outcome type, and
    -- the batches of the crime's version and of its current outcome event.
    select
        current_outcomes.crime_key,
        current_outcomes._batch_id as crime_batch_id,
        current_outcomes.current_outcome_batch_id,
        geographies.local_authority_code,
        offences.offence_code,
        outcomes.outcome_code,
        current_outcomes.is_domestic_abuse,
        dates.month_start_date
    from current_outcomes
    inner join dates
        on current_outcomes.recorded_date_key = dates.date_key
    inner join geographies
        on current_outcomes.geography_key = geographies.geography_key
    inner join offences
        on current_outcomes.offence_key = offences.offence_key
    inner join outcomes
        on current_outcomes.current_outcome_key = outcomes.outcome_key
    where dates.month_start_date is not null

),

categorised_crimes as (

    select
        crimes_by_month.crime_key,
        crimes_by_month.crime_batch_id,
        crimes_by_month.current_outcome_batch_id,
        crimes_by_month.local_authority_code,
        measured_rules.reporting_category,
        crimes_by_month.outcome_code,
        crimes_by_month.month_start_date
    from crimes_by_month
    inner join measured_rules
        on crimes_by_month.offence_code = measured_rules.ho_offence_code
    where measured_rules.selection_rule = 'offence_code'
    union
    select
        crimes_by_month.crime_key,
        crimes_by_month.crime_batch_id,
        crimes_by_month.current_outcome_batch_id,
        crimes_by_month.local_authority_code,
        measured_rules.reporting_category,
        crimes_by_month.outcome_code,
        crimes_by_month.month_start_date
    from crimes_by_month
    inner join measured_rules
        on measured_rules.selection_rule = 'domestic_abuse_flag'
    where crimes_by_month.is_domestic_abuse

),

fact_rows as (

    -- Two facts stand behind each crime counted: its version (fct_recorded_crime) and, once it
    -- has one, its current outcome event (fct_crime_outcome_event).
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        outcome_code,
        'fct_recorded_crime' as fact_model,
        crime_batch_id as batch_id
    from categorised_crimes
    union all
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        outcome_code,
        'fct_crime_outcome_event' as fact_model,
        current_outcome_batch_id as batch_id
    from categorised_crimes
    where current_outcome_batch_id is not null

),

batches_behind as (

    select
        month_start_date,
        local_authority_code,
        reporting_category,
        outcome_code,
        cast(fact_model as text) as fact_model,
        batch_id,
        cast(count(*) as integer) as fact_row_count
    from fact_rows
    group by
        month_start_date, local_authority_code, reporting_category, outcome_code, fact_model, batch_id

)

select * from batches_behind
