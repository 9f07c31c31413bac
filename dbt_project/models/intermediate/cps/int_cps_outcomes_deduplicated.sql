with

cps_outcomes as (

    select * from {{ ref('stg_cps__quarterly_outcomes') }}

),

releases_of_quarters as (

    -- Every release (load batch) that holds a quarter, with the date it was published.
    select
        cps_financial_year,
        financial_quarter,
        _batch_id,
        max(published_date) as release_published_date
    from cps_outcomes
    group by cps_financial_year, financial_quarter, _batch_id

),

releases_ranked as (

    -- A release restates the three quarters before its own: for each quarter the release
    -- published last wins (the later load batch breaks a tie), as a whole, so a figure the
    -- latest release no longer lists is dropped rather than kept from an older one.
    select
        *,
        row_number() over (
            partition by cps_financial_year, financial_quarter
            order by release_published_date desc, _batch_id desc
        ) as release_rank,
        count(*) over (partition by cps_financial_year, financial_quarter) as release_count
    from releases_of_quarters

),

latest_releases as (

    select
        cps_outcomes.*,
        cast(releases_ranked.release_count as integer) as release_count
    from cps_outcomes
    inner join releases_ranked
        on
            cps_outcomes.cps_financial_year = releases_ranked.cps_financial_year
            and cps_outcomes.financial_quarter = releases_ranked.financial_quarter
            and cps_outcomes._batch_id = releases_ranked._batch_id
    where releases_ranked.release_rank = 1

),

quarters_dated as (

    -- The CPS writes 2024-25; the warehouse 2024/25 (dim_date.financial_year). Q1 starts 1 April.
    select
        *,
        cast(left(cps_financial_year, 4) as integer) as financial_year_start_year,
        cast(right(financial_quarter, 1) as integer) as financial_quarter_number
    from latest_releases

),

final as (

    select
        -- strings
        financial_year_start_year || '/'
        || to_char((financial_year_start_year + 1) % 100, 'FM00') as financial_year,
        financial_quarter,
        area_name,
        case_category,
        measure,

        -- numerics
        financial_year_start_year,
        financial_quarter_number,
        volume,
        release_count,

        -- dates
        cast(
            make_date(financial_year_start_year, 4, 1)
            + (financial_quarter_number - 1) * interval '3 months' as date
        ) as quarter_start_date,
        published_date,

        -- load lineage
        _batch_id,
        _row_number,
        _published_at

    from quarters_dated

)

select * from final
