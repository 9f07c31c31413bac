with

grants as (

    select * from {{ ref('stg_funding__grants') }}

),

versions_ranked as (

    -- Every snapshot of the register restates each grant: the version of the latest register
    -- date wins (the later load batch breaks a tie, e.g. a corrected file for the same day).
    select
        *,
        {{ version_rank(['grant_id'], 'register_date desc, _batch_id desc') }},
        lag(grant_status) over (
            partition by grant_id
            order by register_date, _batch_id
        ) as previous_grant_status,
        lead(register_date) over (
            partition by grant_id
            order by register_date, _batch_id
        ) as next_register_date
    from grants

),

versions as (

    select
        -- ids
        {{ surrogate_key(['grant_id', '_batch_id']) }} as grant_version_key,
        grant_id,

        -- strings
        funder_name,
        scheme_name,
        purpose,
        financial_year,
        grant_status,
        previous_grant_status,

        -- numerics
        cast(version_rank as integer) as version_rank,
        cast(version_count as integer) as version_count,
        amount_applied,
        amount_awarded,
        amount_received,

        -- booleans
        version_rank = 1 as is_current_version,
        (previous_grant_status is distinct from grant_status) as is_status_changed,

        -- dates
        applied_date,
        awarded_date,
        received_date,
        register_date as valid_from_date,
        next_register_date as valid_to_date,

        -- load lineage
        _batch_id,
        _row_number,
        _published_at

    from versions_ranked

)

select * from versions
