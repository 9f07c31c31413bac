with

service_returns as (

    select * from {{ ref('stg_services__quarterly_returns') }}

),

versions_ranked as (

    -- A later workbook may restate a quarter (late referrals and closures recorded): the row of
    -- the highest load batch wins (the contract rules out a repeated key within a workbook).
    select
        *,
        {{ version_rank(['service_code', 'financial_year', 'financial_quarter', 'area_code']) }}
    from service_returns

),

latest_versions as (

    select
        service_code,
        area_code,
        financial_year,
        financial_quarter,
        referrals_received,
        clients_engaged,
        cases_closed,
        cases_closed_positive,
        cast(version_count as integer) as version_count,
        submitted_date,
        _batch_id,
        _row_number,
        _published_at
    from versions_ranked
    where version_rank = 1

)

select * from latest_versions
