with

marac_cases as (

    select * from {{ ref('stg_force__marac_cases') }}

),

versions_ranked as (

    -- A later file may restate a case: the row of the highest load batch wins
    -- (the last row of the file breaks a tie, which the file contract rules out).
    select
        *,
        {{ version_rank(['case_id']) }}
    from marac_cases

),

latest_versions as (

    select
        case_id,
        referring_agency,
        local_authority_code,
        victim_pseudonym,
        perpetrator_pseudonym,
        risk_basis,
        cast(version_count as integer) as version_count,
        heard_date,
        referred_date,
        extracted_at,
        _batch_id,
        _row_number,
        _published_at
    from versions_ranked
    where version_rank = 1

)

select * from latest_versions
