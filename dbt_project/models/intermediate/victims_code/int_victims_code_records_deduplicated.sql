with

records as (

    select * from {{ ref('stg_force__victims_code_records') }}

),

versions_ranked as (

    -- A later file may restate a record (e.g. a review finds a not-met right was delivered):
    -- the row of the highest load batch wins (the file contract rules out a tie within a file).
    select
        *,
        {{ version_rank(['record_id']) }}
    from records

),

latest_versions as (

    select
        record_id,
        crime_id,
        victim_pseudonym,
        status,
        recorded_by_unit,
        right_number,
        cast(version_count as integer) as version_count,
        due_date,
        completed_date,
        extracted_at,
        _batch_id,
        _row_number,
        _published_at
    from versions_ranked
    where version_rank = 1

)

select * from latest_versions
