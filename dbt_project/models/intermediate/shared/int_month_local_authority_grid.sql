with

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

months as (

    select
        financial_year,
        month_start_date
    from dates
    where calendar_date = month_start_date

),

month_local_authorities as (

    -- Every month of dim_date x every local authority (the unknown member too, so a mart's
    -- totals reconcile with its fact). A measure mart keeps the months of its data
    -- (macro reporting_months) and adds its own categories.
    select
        geographies.geography_key,
        geographies.local_authority_code,
        geographies.local_authority_name,
        geographies.division_name,
        months.financial_year,
        months.month_start_date
    from months
    cross join geographies

)

select * from month_local_authorities
