with

order_events as (

    select * from {{ ref('stg_force__protective_order_events') }}

),

versions_ranked as (

    -- A later file may restate an event: the row of the highest load batch wins
    -- (the last row of the file breaks a tie, which the file contract rules out).
    select
        *,
        {{ version_rank(['order_id', 'event_sequence']) }}
    from order_events

),

latest_versions as (

    select
        order_id,
        crime_id,
        order_type,
        event_type,
        local_authority_code,
        victim_pseudonym,
        perpetrator_pseudonym,
        event_sequence,
        cast(version_count as integer) as version_count,
        event_date,
        extracted_at,
        _batch_id,
        _row_number,
        _published_at
    from versions_ranked
    where version_rank = 1

)

select * from latest_versions
