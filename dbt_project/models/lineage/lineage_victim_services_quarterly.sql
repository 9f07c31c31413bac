with

service_returns as (

    select * from {{ ref('fct_service_return') }}

),

services as (

    select * from {{ ref('dim_service') }}

),

returns_by_quarter as (

    -- Each return (a service's area in a quarter) under the service and quarter the mart sums.
    select
        service_returns._batch_id,
        service_returns.financial_year,
        service_returns.financial_quarter,
        services.service_code
    from service_returns
    inner join services
        on service_returns.service_key = services.service_key
    where service_returns.quarter_start_date is not null

),

batches_behind as (

    select
        financial_year,
        financial_quarter,
        service_code,
        cast('fct_service_return' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from returns_by_quarter
    group by financial_year, financial_quarter, service_code, _batch_id

)

select * from batches_behind
