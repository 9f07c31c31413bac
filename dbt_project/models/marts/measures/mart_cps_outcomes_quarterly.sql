with

cps_outcomes as (

    select * from {{ ref('fct_cps_outcome') }}

),

areas as (

    select * from {{ ref('cps_areas') }}

),

case_categories as (

    select * from {{ ref('cps_case_categories') }}

),

measures as (

    select * from {{ ref('cps_measures') }}

),

reporting_area_outcomes as (

    -- The figures of the area the mart reports (seed cps_areas.is_reporting_area: Lancashire),
    -- never the CPS Area's (North West), which include it.
    select cps_outcomes.*
    from cps_outcomes
    inner join areas
        on cps_outcomes.area_name = areas.area_name
    where areas.is_reporting_area

),

categorised_outcomes as (

    -- Each CPS case category adds into its reporting category (seed cps_case_categories:
    -- stalking and harassment into stalking_and_harassment; adult rape, part of rape, into none),
    -- and each measure counts where the seed cps_measures' flags say.
    select
        reporting_area_outcomes.quarter_start_date,
        case_categories.reporting_category,
        reporting_area_outcomes.volume,
        reporting_area_outcomes.published_date,
        measures.is_legal_decision,
        measures.is_charged,
        measures.is_administrative_finalisation,
        measures.is_completed_prosecution,
        measures.is_conviction
    from reporting_area_outcomes
    inner join case_categories
        on reporting_area_outcomes.case_category = case_categories.case_category
    inner join measures
        on reporting_area_outcomes.measure = measures.measure
    where case_categories.reporting_category is not null

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
    group by quarter_start_date, reporting_category

),

reporting_quarters as (

    -- The quarters the reporting area has figures for.
    select distinct
        quarter_start_date,
        financial_year,
        financial_quarter,
        area_name
    from reporting_area_outcomes

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
        cast(
            round(100.0 * quarterly_totals.charged / nullif(quarterly_totals.legal_decisions, 0), 1)
            as numeric(5, 1)
        ) as charge_rate_pct,
        cast(quarterly_totals.administrative_finalisations as integer)
            as administrative_finalisations,
        cast(quarterly_totals.completed_prosecutions as integer) as completed_prosecutions,
        cast(quarterly_totals.convictions as integer) as convictions,
        cast(
            round(
                100.0 * quarterly_totals.convictions
                / nullif(quarterly_totals.completed_prosecutions, 0),
                1
            ) as numeric(5, 1)
        ) as conviction_rate_pct,

        -- booleans
        quarterly_totals.reporting_category is not null as has_figures,

        -- dates
        quarterly_totals.published_date

    from grid
    left join quarterly_totals
        on
            grid.quarter_start_date = quarterly_totals.quarter_start_date
            and grid.reporting_category = quarterly_totals.reporting_category

)

select * from measured
