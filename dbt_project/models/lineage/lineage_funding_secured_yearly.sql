with

grants as (

    select * from {{ ref('fct_grant') }}

),

funders as (

    select * from {{ ref('dim_funder') }}

),

schemes as (

    select * from {{ ref('dim_funding_scheme') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

financial_years as (

    select distinct
        financial_year_start_year,
        financial_year
    from dates
    where date_key <> -1

),

grants_by_year as (

    -- Each grant's current version under the financial year, funder and scheme the mart sums it in.
    select
        grants._batch_id,
        financial_years.financial_year,
        funders.funder_name,
        schemes.scheme_name
    from grants
    inner join financial_years
        on grants.financial_year_start_year = financial_years.financial_year_start_year
    inner join funders
        on grants.funder_key = funders.funder_key
    inner join schemes
        on grants.funding_scheme_key = schemes.funding_scheme_key

),

batches_behind as (

    select
        financial_year,
        funder_name,
        scheme_name,
        cast('fct_grant' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from grants_by_year
    group by financial_year, funder_name, scheme_name, _batch_id

)

select * from batches_behind
