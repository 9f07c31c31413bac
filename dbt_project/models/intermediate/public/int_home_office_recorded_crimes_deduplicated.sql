with

recorded_crimes as (

    select * from {{ ref('stg_public__home_office_recorded_crimes') }}

),

releases_ranked as (

    -- Each open data table restates every quarter since its first year: for each quarter the
    -- release (load batch) registered last wins, as a whole.
    select
        financial_year,
        financial_quarter_number,
        _batch_id,
        row_number() over (
            partition by financial_year, financial_quarter_number
            order by _batch_id desc
        ) as release_rank
    from recorded_crimes
    group by financial_year, financial_quarter_number, _batch_id

),

latest_releases as (

    select recorded_crimes.*
    from recorded_crimes
    inner join releases_ranked
        on
            recorded_crimes.financial_year = releases_ranked.financial_year
            and recorded_crimes.financial_quarter_number = releases_ranked.financial_quarter_number
            and recorded_crimes._batch_id = releases_ranked._batch_id
    where releases_ranked.release_rank = 1

)

select * from latest_releases
