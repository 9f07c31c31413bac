{#-
    Incremental, a quarter at a time: each run takes the figures of the quarters whose winning
    release (int_cps_outcomes_deduplicated) came in a load batch newer than the newest in the
    table, or was published since it was last built. delete+insert on quarter_start_date replaces
    the whole quarter, so a figure the latest release no longer lists goes too. Run with
    --full-refresh after a change to the dimensions' keys.
-#}
{{
    config(
        materialized='incremental',
        unique_key='quarter_start_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

cps_outcomes as (

    select * from {{ ref('int_cps_outcomes_deduplicated') }}
    {%- if is_incremental() %}
    where {{ rows_published_since_last_build() }}
    {%- endif %}

),

dates as (

    select * from {{ ref('dim_date') }}

),

outcomes_keyed as (

    select
        -- ids
        {{ surrogate_key([
            'cps_outcomes.quarter_start_date',
            'cps_outcomes.area_name',
            'cps_outcomes.case_category',
            'cps_outcomes.measure',
        ]) }} as cps_outcome_key,
        coalesce(quarter_dates.date_key, -1) as quarter_start_date_key,

        -- strings
        cps_outcomes.financial_year,
        cps_outcomes.financial_quarter,
        cps_outcomes.area_name,
        cps_outcomes.case_category,
        cps_outcomes.measure,

        -- numerics
        cps_outcomes.financial_year_start_year,
        cps_outcomes.financial_quarter_number,
        cps_outcomes.volume,
        cps_outcomes.release_count,

        -- dates
        cps_outcomes.quarter_start_date,
        cps_outcomes.published_date,

        -- load lineage
        cps_outcomes._batch_id,
        cps_outcomes._row_number,
        cps_outcomes._published_at

    from cps_outcomes
    left join dates as quarter_dates
        on cps_outcomes.quarter_start_date = quarter_dates.calendar_date

)

select * from outcomes_keyed
