with

marac_cases as (

    select * from {{ ref('fct_marac_case') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

cases_by_month as (

    -- Each case in the month it was heard and its local authority, as the mart counts it.
    select
        marac_cases._batch_id,
        geographies.local_authority_code,
        dates.month_start_date
    from marac_cases
    inner join dates
        on marac_cases.heard_date_key = dates.date_key
    inner join geographies
        on marac_cases.geography_key = geographies.geography_key
    where dates.month_start_date is not null

),

batches_behind as (

    select
        month_start_date,
        local_authority_code,
        cast('fct_marac_case' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from cases_by_month
    group by month_start_date, local_authority_code, _batch_id

)

select * from batches_behind
