with

crimes as (

    select * from {{ ref('stg_force__crimes') }}

),

versions_ranked as (

    -- A later file may restate a crime: the row of the highest load batch wins
    -- (the last row of the file breaks a tie, which the file contract rules out).
    select
        *,
        {{ version_rank(['crime_id']) }}
    from crimes

),

latest_versions as (

    select
        crime_id,
        offence_code,
        local_authority_code,
        victim_pseudonym,
        victim_age_band,
        victim_sex,
        suspect_pseudonym,
        cast(version_count as integer) as version_count,
        is_domestic_abuse,
        recorded_date,
        offence_date,
        extracted_at,
        _batch_id,
        _row_number,
        _published_at
    from versions_ranked
    where version_rank = 1

)

select * from latest_versions
