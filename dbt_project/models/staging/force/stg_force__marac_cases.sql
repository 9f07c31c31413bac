with

source as (

    select * from {{ source('force', 'marac_cases') }}
    {{- as_of_filter() }}

),

renamed as (

    select
        -- ids
        cast(case_reference as text) as case_id,

        -- strings
        cast(referring_agency as text) as referring_agency,
        cast(local_authority_code as text) as local_authority_code,
        cast(victim_pseudonym as text) as victim_pseudonym,
        cast(perpetrator_pseudonym as text) as perpetrator_pseudonym,
        cast(risk_basis as text) as risk_basis,

        -- dates
        cast(date_heard as date) as heard_date,
        cast(date_referred as date) as referred_date,

        -- timestamps
        cast(extracted_at as timestamptz) as extracted_at,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
