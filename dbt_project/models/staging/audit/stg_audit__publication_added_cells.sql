with

source as (

    select * from {{ source('audit', 'publication_cell_added') }}

),

renamed as (

    select
        -- ids
        cast(audit_id as bigint) as audit_id,

        -- strings
        cast(suppression_model as text) as suppression_model,
        cast(component as text) as component,
        cast(cell as text) as cell

    from source

)

select * from renamed
