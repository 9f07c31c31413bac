with

grants as (

    select * from {{ ref('int_grants_classified') }}

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

batches_behind as (

    -- The grants mart_funding_secured_yearly adds up (the same model), by load batch.
    select
        financial_years.financial_year,
        funders.funder_name,
        schemes.scheme_name,
        cast('fct_grant' as text) as fact_model,
        grants._batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from grants
    inner join financial_years
        on grants.financial_year_start_year = financial_years.financial_year_start_year
    inner join funders
        on grants.funder_key = funders.funder_key
    inner join schemes
        on grants.funding_scheme_key = schemes.funding_scheme_key
    group by
        financial_years.financial_year, funders.funder_name, schemes.scheme_name, grants._batch_id

)

select * from batches_behind
