with

source as (

    select * from {{ source('services', 'quarterly_returns') }}
    {{- as_of_filter() }}

),

renamed as (

    select
        -- ids
        cast(service_code as text) as service_code,
        cast(local_authority_code as text) as area_code,

        -- strings
        cast(financial_year as text) as financial_year,
        cast(financial_quarter as text) as financial_quarter,

        -- numerics
        cast(referrals_received as integer) as referrals_received,
        cast(clients_engaged as integer) as clients_engaged,
        cast(cases_closed as integer) as cases_closed,
        cast(cases_closed_positive as integer) as cases_closed_positive,

        -- dates
        cast(submitted_date as date) as submitted_date,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
