with

categorised_outcomes as (

    select * from {{ ref('int_cps_outcomes_categorised') }}

),

case_categories as (

    select * from {{ ref('cps_case_categories') }}

),

quarterly_totals as (

    select
        quarter_start_date,
        reporting_category,
        coalesce(sum(volume) filter (where is_legal_decision), 0) as legal_decisions,
        coalesce(sum(volume) filter (where is_charged), 0) as charged,
        coalesce(sum(volume) filter (where is_administrative_finalisation), 0)
            as administrative_finalisations,
        coalesce(sum(volume) filter (where is_completed_prosecution), 0) as completed_prosecutions,
        coalesce(sum(volume) filter (where is_conviction), 0) as convictions,
        max(published_date) as published_date
    from categorised_outcomes
    where reporting_category is not null
    group by quarter_start_date, reporting_category

),

reporting_quarters as (

    -- The quarters the reporting area has figures for. A CPS release publishes whole quarters:
    -- every quarter here is complete, and the data are as of the end of the latest one.
    select distinct
        quarter_start_date,
        financial_year,
        financial_quarter,
        area_name
    from categorised_outcomes

),

data_as_of as (

    select cast(max(quarter_start_date) + interval '3 months' as date) - 1 as data_as_of_date
    from categorised_outcomes

),

reporting_categories as (

    -- The CPS case flags each reporting category adds up, and how sure that is (the least sure
    -- member's status: stalking and harassment by force area are unconfirmed).
    select
        reporting_category,
        string_agg(category_label, '; ' order by sort_order) as cps_case_categories,
        case
            when bool_or(status = 'U') then 'U'
            when bool_or(status = 'P') then 'P'
            else 'C'
        end as category_status
    from case_categories
    where reporting_category is not null
    group by reporting_category

),

grid as (

    -- quarter x reporting category: a category the quarter's release does not publish (e.g.
    -- stalking in older releases) shows has_figures false and null figures, never 0.
    select
        reporting_quarters.*,
        reporting_categories.reporting_category,
        reporting_categories.cps_case_categories,
        reporting_categories.category_status
    from reporting_quarters
    cross join reporting_categories

),

measured as (

    select
        -- ids
        grid.quarter_start_date,
        grid.reporting_category,

        -- strings
        grid.financial_year,
        grid.financial_quarter,
        grid.area_name,
        grid.cps_case_categories,
        grid.category_status,

        -- numerics
        cast(quarterly_totals.legal_decisions as integer) as legal_decisions,
        cast(quarterly_totals.charged as integer) as charged,
        {{ pct('quarterly_totals.charged', 'quarterly_totals.legal_decisions') }}
            as charge_rate_pct,
        cast(quarterly_totals.administrative_finalisations as integer)
            as administrative_finalisations,
        cast(quarterly_totals.completed_prosecutions as integer) as completed_prosecutions,
        cast(quarterly_totals.convictions as integer) as convictions,
        {{ pct('quarterly_totals.convictions', 'quarterly_totals.completed_prosecutions') }}
            as conviction_rate_pct,

        -- booleans
        quarterly_totals.reporting_category is not null as has_figures,
        true as is_complete_period,

        -- dates
        quarterly_totals.published_date,
        data_as_of.data_as_of_date

    from grid
    cross join data_as_of
    left join quarterly_totals
        on
            grid.quarter_start_date = quarterly_totals.quarter_start_date
            and grid.reporting_category = quarterly_totals.reporting_category

)

select * from measured
