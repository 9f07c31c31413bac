-- A service reports a quarter either by local authority or county-wide (seed services,
-- return_breakdown), never both: a county-wide row beside local authority rows would double count
-- in mart_victim_services_quarterly (docs/measures.md: a total beside its parts).
-- Returns the service-quarters that have both.

with

service_returns as (

    select * from {{ ref('fct_service_return') }}

),

mixed_quarters as (

    select
        service_code,
        financial_year,
        financial_quarter,
        count(*) filter (where is_county_wide) as county_wide_rows,
        count(*) filter (where not is_county_wide) as local_authority_rows
    from service_returns
    group by service_code, financial_year, financial_quarter
    having bool_or(is_county_wide) and bool_or(not is_county_wide)

)

select * from mixed_quarters
