with

outcomes as (

    select * from {{ ref('stg_force__outcomes') }}

),

versions_ranked as (

    -- A later file may restate an outcome event: the row of the highest load batch wins.
    select
        *,
        row_number() over (
            partition by crime_id, outcome_sequence
            order by _batch_id desc, _row_number desc
        ) as version_rank
    from outcomes

),

latest_versions as (

    select
        crime_id,
        outcome_code,
        outcome_sequence,
        outcome_date,
        extracted_at,
        _batch_id,
        _row_number,
        _published_at
    from versions_ranked
    where version_rank = 1

)

select * from latest_versions
