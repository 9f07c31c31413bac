{#-
    Incremental: each run takes the current figures (int_service_returns_deduplicated) that came
    in a load batch newer than the newest in the table, or were published since it was last built
    (a batch published late). delete+insert on the row's key replaces a restated quarter. Run with
    --full-refresh after a change to the dimensions' keys or to its columns (on_schema_change fail).
-#}
{{
    config(
        materialized='incremental',
        unique_key='service_return_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

service_returns as (

    select * from {{ ref('int_service_returns_deduplicated') }}
    {%- if is_incremental() %}
    where {{ rows_published_since_last_build() }}
    {%- endif %}

),

dates as (

    select * from {{ ref('dim_date') }}

),

services as (

    select * from {{ ref('dim_service') }}

),

service_areas as (

    select * from {{ ref('dim_service_area') }}

),

financial_quarters as (

    -- Each financial quarter's first and last day, from the calendar (Q1 = April-June).
    select
        financial_year,
        financial_quarter,
        min(calendar_date) as quarter_start_date,
        max(calendar_date) as quarter_end_date
    from dates
    where date_key <> -1
    group by financial_year, financial_quarter

),

service_returns_keyed as (

    -- Keys to the dimensions, falling back to each one's unknown member.
    select
        -- ids
        {{ surrogate_key([
            'service_returns.service_code',
            'service_returns.financial_year',
            'service_returns.financial_quarter',
            'service_returns.area_code',
        ]) }} as service_return_key,
        coalesce(services.service_key, {{ unknown_member_key() }}) as service_key,
        coalesce(service_areas.service_area_key, {{ unknown_member_key() }}) as service_area_key,
        coalesce(quarter_starts.date_key, -1) as quarter_start_date_key,
        coalesce(submitted_dates.date_key, -1) as submitted_date_key,

        -- strings
        service_returns.service_code,
        service_returns.area_code,
        service_returns.financial_year,
        service_returns.financial_quarter,

        -- numerics
        service_returns.referrals_received,
        service_returns.clients_engaged,
        service_returns.cases_closed,
        service_returns.cases_closed_positive,

        -- booleans
        coalesce(service_areas.is_county_wide, false) as is_county_wide,

        -- dates
        financial_quarters.quarter_start_date,
        financial_quarters.quarter_end_date,
        service_returns.submitted_date,

        -- load lineage
        service_returns._batch_id,
        service_returns._row_number,
        service_returns._published_at

    from service_returns
    left join services
        on service_returns.service_code = services.service_code
    left join service_areas
        on service_returns.area_code = service_areas.area_code
    left join financial_quarters
        on
            service_returns.financial_year = financial_quarters.financial_year
            and service_returns.financial_quarter = financial_quarters.financial_quarter
    left join dates as quarter_starts
        on financial_quarters.quarter_start_date = quarter_starts.calendar_date
    left join dates as submitted_dates
        on service_returns.submitted_date = submitted_dates.calendar_date

)

select * from service_returns_keyed
