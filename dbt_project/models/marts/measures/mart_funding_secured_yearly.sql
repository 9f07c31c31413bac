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

yearly_totals as (

    -- Money of the grants for each financial year (the year the money is for), as the latest
    -- register snapshot records it. A declined bid counts in applied only; an allocation (no bid)
    -- in awarded and received only.
    select
        financial_year_start_year,
        funder_key,
        funding_scheme_key,
        count(*) as grant_count,
        count(amount_awarded) as awarded_grant_count,
        coalesce(sum(amount_applied), 0) as amount_applied,
        coalesce(sum(amount_awarded), 0) as amount_awarded,
        coalesce(sum(amount_received), 0) as amount_received
    from grants
    group by financial_year_start_year, funder_key, funding_scheme_key

),

financial_years as (

    -- Every financial year from the first in the register to the last, so a year without a
    -- grant from a scheme shows 0 (and next year's change is against 0, not missing).
    select distinct
        financial_year_start_year,
        financial_year
    from dates
    where
        financial_year_start_year
        between (select min(financial_year_start_year) from yearly_totals)
        and (select max(financial_year_start_year) from yearly_totals)

),

funder_schemes as (

    select distinct
        funder_key,
        funding_scheme_key
    from yearly_totals

),

grid as (

    select
        financial_years.financial_year_start_year,
        financial_years.financial_year,
        funder_schemes.funder_key,
        funder_schemes.funding_scheme_key,
        cast(coalesce(yearly_totals.grant_count, 0) as integer) as grant_count,
        cast(coalesce(yearly_totals.awarded_grant_count, 0) as integer) as awarded_grant_count,
        coalesce(yearly_totals.amount_applied, 0) as amount_applied,
        coalesce(yearly_totals.amount_awarded, 0) as amount_awarded,
        coalesce(yearly_totals.amount_received, 0) as amount_received
    from financial_years
    cross join funder_schemes
    left join yearly_totals
        on
            financial_years.financial_year_start_year = yearly_totals.financial_year_start_year
            and funder_schemes.funder_key = yearly_totals.funder_key
            and funder_schemes.funding_scheme_key = yearly_totals.funding_scheme_key

),

compared_with_previous_year as (

    -- The previous financial year: null when it is before the first year in the register.
    select
        this_year.*,
        previous_year.amount_applied as amount_applied_previous_year,
        previous_year.amount_awarded as amount_awarded_previous_year,
        previous_year.amount_received as amount_received_previous_year
    from grid as this_year
    left join grid as previous_year
        on
            this_year.funder_key = previous_year.funder_key
            and this_year.funding_scheme_key = previous_year.funding_scheme_key
            and previous_year.financial_year_start_year = this_year.financial_year_start_year - 1

),

measured as (

    select
        -- ids
        compared_with_previous_year.financial_year,
        funders.funder_name,
        schemes.scheme_name,

        -- strings
        funders.funder_type,
        funders.classification_status as funder_type_status,

        -- numerics
        compared_with_previous_year.financial_year_start_year,
        compared_with_previous_year.grant_count,
        compared_with_previous_year.awarded_grant_count,
        cast(compared_with_previous_year.amount_applied as numeric(14, 2)) as amount_applied,
        cast(compared_with_previous_year.amount_awarded as numeric(14, 2)) as amount_awarded,
        cast(compared_with_previous_year.amount_received as numeric(14, 2)) as amount_received,
        cast(compared_with_previous_year.amount_applied_previous_year as numeric(14, 2))
            as amount_applied_previous_year,
        cast(compared_with_previous_year.amount_awarded_previous_year as numeric(14, 2))
            as amount_awarded_previous_year,
        cast(compared_with_previous_year.amount_received_previous_year as numeric(14, 2))
            as amount_received_previous_year,
        cast(
            compared_with_previous_year.amount_applied
            - compared_with_previous_year.amount_applied_previous_year as numeric(14, 2)
        ) as change_in_applied,
        cast(
            compared_with_previous_year.amount_awarded
            - compared_with_previous_year.amount_awarded_previous_year as numeric(14, 2)
        ) as change_in_awarded,
        cast(
            compared_with_previous_year.amount_received
            - compared_with_previous_year.amount_received_previous_year as numeric(14, 2)
        ) as change_in_received,
        cast(
            round(
                100.0
                * (
                    compared_with_previous_year.amount_awarded
                    - compared_with_previous_year.amount_awarded_previous_year
                )
                / nullif(compared_with_previous_year.amount_awarded_previous_year, 0),
                1
            ) as numeric(12, 1)
        ) as change_in_awarded_pct,

        -- booleans
        funders.is_government_funder as is_government_funding,
        schemes.is_competitive

    from compared_with_previous_year
    inner join funders
        on compared_with_previous_year.funder_key = funders.funder_key
    inner join schemes
        on compared_with_previous_year.funding_scheme_key = schemes.funding_scheme_key

)

select * from measured
