{#-
    Measure 2, recorded-cohort basis, once: each crime of a measured category with its current
    outcome. mart_outcomes_by_type_monthly (and so mart_positive_outcomes_monthly) counts it;
    lineage_outcomes_by_type_monthly lists its batches.
-#}
with

categorised_crimes as (

    select * from {{ ref('int_crimes_categorised') }}

),

current_outcomes as (

    select * from {{ ref('fct_crime_current_outcome') }}

),

outcomes as (

    select * from {{ ref('dim_outcome') }}

),

outcome_measure_categories as (

    select * from {{ ref('outcome_measure_categories') }}

),

cohort_crimes as (

    -- The crimes recorded in a month, in each measured category (the rules of measure 1), each
    -- by its one current outcome (outcome 0 when it has no outcome event yet).
    select
        categorised_crimes.crime_key,
        categorised_crimes.reporting_category,
        categorised_crimes.geography_key,
        categorised_crimes.local_authority_code,
        categorised_crimes.month_start_date,
        current_outcomes.current_outcome_key as outcome_key,
        outcomes.outcome_code,
        outcomes.is_open,
        outcomes.is_positive,
        outcomes.is_charge_summons,
        outcomes.is_diversion,
        outcomes.is_evidential_difficulties,
        current_outcomes.has_outcome_event,
        categorised_crimes._batch_id,
        current_outcomes.current_outcome_batch_id
    from categorised_crimes
    inner join outcome_measure_categories
        on categorised_crimes.reporting_category = outcome_measure_categories.reporting_category
    inner join current_outcomes
        on categorised_crimes.crime_key = current_outcomes.crime_key
    inner join outcomes
        on current_outcomes.current_outcome_key = outcomes.outcome_key
    where categorised_crimes.month_start_date is not null

)

select * from cohort_crimes
