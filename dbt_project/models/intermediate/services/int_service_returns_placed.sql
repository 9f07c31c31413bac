{#-
    The victim services mart's selection, once: each return of a quarter in the calendar, with
    its service's code. mart_victim_services_quarterly adds it up; its lineage lists its batches.
-#}
with

service_returns as (

    select * from {{ ref('fct_service_return') }}

),

services as (

    select * from {{ ref('dim_service') }}

),

returns_placed as (

    select
        service_returns.service_return_key,
        service_returns.service_key,
        services.service_code,
        service_returns.financial_year,
        service_returns.financial_quarter,
        service_returns.quarter_start_date,
        service_returns.referrals_received,
        service_returns.clients_engaged,
        service_returns.cases_closed,
        service_returns.cases_closed_positive,
        service_returns.submitted_date,
        service_returns._batch_id
    from service_returns
    inner join services
        on service_returns.service_key = services.service_key
    where service_returns.quarter_start_date is not null

)

select * from returns_placed
