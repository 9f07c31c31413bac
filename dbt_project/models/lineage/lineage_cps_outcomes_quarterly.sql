with

cps_outcomes as (

    select * from {{ ref('fct_cps_outcome') }}

),

areas as (

    select * from {{ ref('cps_areas') }}

),

case_categories as (

    select * from {{ ref('cps_case_categories') }}

),

measures as (

    select * from {{ ref('cps_measures') }}

),

categorised_outcomes as (

    -- The reporting area's figures under the reporting category they add into (as in the mart).
    select
        cps_outcomes._batch_id,
        cps_outcomes.quarter_start_date,
        case_categories.reporting_category
    from cps_outcomes
    inner join areas
        on cps_outcomes.area_name = areas.area_name
    inner join case_categories
        on cps_outcomes.case_category = case_categories.case_category
    inner join measures
        on cps_outcomes.measure = measures.measure
    where
        areas.is_reporting_area
        and case_categories.reporting_category is not null

),

batches_behind as (

    select
        quarter_start_date,
        reporting_category,
        cast('fct_cps_outcome' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from categorised_outcomes
    group by quarter_start_date, reporting_category, _batch_id

)

select * from batches_behind
