with

source as (

    select * from {{ source('audit', 'publication_audit') }}

),

renamed as (

    select
        -- ids
        cast(audit_id as bigint) as audit_id,

        -- booleans
        cast(is_decision as boolean) as is_decision,

        -- timestamps
        cast(audited_at as timestamptz) as audited_at

    from source

)

select * from renamed
