{#-
    The CPS context mart's selection, once: the reporting area's figures under the reporting
    category they add into, with the measure flags. mart_cps_outcomes_quarterly adds it up; its
    lineage lists its batches.
-#}
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

home_force as (

    select * from {{ ref('forces') }}
    where force_code = {{ home_force() }}

),

categorised_outcomes as (

    -- The figures of the home force's area (seed forces: its police force area code in cps_areas),
    -- never the CPS Area's (North West), which include it. Each CPS case category adds into its
    -- reporting category (seed cps_case_categories: stalking and harassment into
    -- stalking_and_harassment; adult rape, part of rape, into none), and each measure counts
    -- where the seed cps_measures' flags say.
    select
        cps_outcomes.quarter_start_date,
        cps_outcomes.financial_year,
        cps_outcomes.financial_quarter,
        cps_outcomes.area_name,
        cps_outcomes.case_category,
        cps_outcomes.measure,
        case_categories.reporting_category,
        cps_outcomes.volume,
        cps_outcomes.published_date,
        measures.is_legal_decision,
        measures.is_charged,
        measures.is_administrative_finalisation,
        measures.is_completed_prosecution,
        measures.is_conviction,
        cps_outcomes._batch_id
    from cps_outcomes
    inner join areas
        on cps_outcomes.area_name = areas.area_name
    inner join case_categories
        on cps_outcomes.case_category = case_categories.case_category
    inner join measures
        on cps_outcomes.measure = measures.measure
    inner join home_force
        on areas.police_force_area_code = home_force.police_force_area_code

)

select * from categorised_outcomes
