with

policeuk_crimes as (

    select * from {{ ref('stg_public__policeuk_street_crimes') }}

),

load_batches as (

    select * from {{ ref('stg_audit__load_batches') }}

),

releases as (

    -- Every release (load batch) of a force's month. The force is the <force> of the file's
    -- name, YYYY-MM-<force>-street.csv (the data.police.uk force id), whatever its folder.
    select distinct
        policeuk_crimes._batch_id,
        policeuk_crimes.crime_month_start_date,
        substring(
            load_batches.file_name from '[0-9]{4}-[0-9]{2}-([a-z0-9-]+)-street\.csv$'
        ) as force_code
    from policeuk_crimes
    inner join load_batches
        on policeuk_crimes._batch_id = load_batches.batch_id

),

releases_ranked as (

    -- A month may be published again (outcomes changed): the release registered last wins for
    -- its force and month, as a whole; the earlier releases stay in raw_public.
    select
        *,
        row_number() over (
            partition by force_code, crime_month_start_date
            order by _batch_id desc
        ) as release_rank,
        count(*) over (partition by force_code, crime_month_start_date) as release_count
    from releases

),

latest_releases as (

    select
        policeuk_crimes.*,
        releases_ranked.force_code,
        cast(releases_ranked.release_count as integer) as release_count
    from policeuk_crimes
    inner join releases_ranked
        on
            policeuk_crimes._batch_id = releases_ranked._batch_id
            and policeuk_crimes.crime_month_start_date = releases_ranked.crime_month_start_date
    where releases_ranked.release_rank = 1

)

select * from latest_releases
