with

service_returns as (

    select * from {{ ref('int_service_returns_placed') }}

),

services as (

    select * from {{ ref('dim_service') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

financial_quarters as (

    -- Each financial quarter and its first day, from the calendar.
    select
        financial_year,
        financial_quarter,
        min(calendar_date) as quarter_start_date
    from dates
    where date_key <> -1
    group by financial_year, financial_quarter

),

returns_by_service_quarter as (

    -- A service's quarter: its areas added together (a service reports by local authority or
    -- county-wide, never both: see assert_service_returns_are_county_wide_or_by_area).
    select
        service_key,
        financial_year,
        financial_quarter,
        count(*) as areas_reported,
        sum(referrals_received) as referrals_received,
        sum(clients_engaged) as clients_engaged,
        sum(cases_closed) as cases_closed,
        sum(cases_closed_positive) as cases_closed_positive,
        max(submitted_date) as latest_submitted_date
    from service_returns
    group by service_key, financial_year, financial_quarter

),

reporting_quarters as (

    -- Every financial quarter from the first returned to the last, so a missing return shows.
    select
        financial_quarters.financial_year,
        financial_quarters.financial_quarter,
        financial_quarters.quarter_start_date
    from financial_quarters
    where
        financial_quarters.quarter_start_date >= (
            select min(service_returns.quarter_start_date) from service_returns
        )
        and financial_quarters.quarter_start_date <= (
            select max(service_returns.quarter_start_date) from service_returns
        )

),

reported_services as (

    -- The register's services, and the unknown service only when a return fell back to it.
    select *
    from services
    where
        service_code <> '-1'
        or service_key in (
            select returns_by_service_quarter.service_key from returns_by_service_quarter
        )

),

grid as (

    select
        reported_services.service_key,
        reported_services.service_code,
        reported_services.service_name,
        reported_services.service_type,
        reported_services.provider_name,
        reported_services.commissioned_by,
        reported_services.positive_outcome_definition,
        reporting_quarters.financial_year,
        reporting_quarters.financial_quarter,
        reporting_quarters.quarter_start_date
    from reporting_quarters
    cross join reported_services

),

measures as (

    select
        -- ids
        grid.financial_year,
        grid.financial_quarter,
        grid.service_code,

        -- strings
        grid.service_name,
        grid.service_type,
        grid.provider_name,
        grid.commissioned_by,
        grid.positive_outcome_definition,

        -- numerics
        cast(coalesce(returns_by_service_quarter.areas_reported, 0) as integer) as areas_reported,
        cast(returns_by_service_quarter.referrals_received as integer) as referrals_received,
        cast(returns_by_service_quarter.clients_engaged as integer) as clients_engaged,
        {{ pct(
            'returns_by_service_quarter.clients_engaged',
            'returns_by_service_quarter.referrals_received',
            data_type='numeric(6, 1)'
        ) }} as engagement_rate_pct,
        cast(returns_by_service_quarter.cases_closed as integer) as cases_closed,
        cast(returns_by_service_quarter.cases_closed_positive as integer) as cases_closed_positive,
        {{ pct(
            'returns_by_service_quarter.cases_closed_positive',
            'returns_by_service_quarter.cases_closed'
        ) }} as positive_outcome_share_pct,

        -- booleans
        returns_by_service_quarter.service_key is not null as is_return_received,
        -- a quarterly return covers its whole quarter: a quarter is complete when it is in
        returns_by_service_quarter.service_key is not null as is_complete_period,

        -- dates
        grid.quarter_start_date,
        returns_by_service_quarter.latest_submitted_date,
        -- the data cover to the end of the newest quarter returned (a return is dated to its
        -- quarter's end, as bi.data_as_of dates the files), not to the day it was submitted
        cast(
            max(grid.quarter_start_date)
            filter (where returns_by_service_quarter.service_key is not null) over ()
            + interval '3 months'
            - interval '1 day'
            as date
        ) as data_as_of_date

    from grid
    left join returns_by_service_quarter
        on
            grid.service_key = returns_by_service_quarter.service_key
            and grid.financial_year = returns_by_service_quarter.financial_year
            and grid.financial_quarter = returns_by_service_quarter.financial_quarter

)

select * from measures
