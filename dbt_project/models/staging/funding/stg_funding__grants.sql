with

source as (

    select * from {{ source('funding', 'grants') }}
    {{- as_of_filter() }}

),

renamed as (

    select
        -- ids
        cast(grant_reference as text) as grant_id,

        -- strings
        cast(funder as text) as funder_name,
        cast(scheme as text) as scheme_name,
        cast(purpose as text) as purpose,
        cast(financial_year as text) as financial_year,
        cast(status as text) as grant_status,

        -- numerics
        cast(amount_applied as numeric(14, 2)) as amount_applied,
        cast(amount_awarded as numeric(14, 2)) as amount_awarded,
        cast(amount_received as numeric(14, 2)) as amount_received,

        -- dates
        cast(date_applied as date) as applied_date,
        cast(date_awarded as date) as awarded_date,
        cast(date_received as date) as received_date,
        cast(register_date as date) as register_date,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
