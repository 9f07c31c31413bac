with

services as (

    select * from {{ ref('services') }}
    where force_code = {{ home_force() }}  -- the home force's register (seed forces)

),

service_types as (

    select * from {{ ref('service_types') }}

),

services_described as (

    select
        -- ids
        {{ surrogate_key(['services.service_code']) }} as service_key,
        cast(services.service_code as text) as service_code,

        -- strings
        cast(services.service_name as text) as service_name,
        cast(services.service_type as text) as service_type,
        cast(service_types.service_type_label as text) as service_type_label,
        cast(services.provider_code as text) as provider_code,
        cast(services.provider_name as text) as provider_name,
        cast(services.commissioned_by as text) as commissioned_by,
        cast(services.coverage as text) as coverage,
        cast(services.return_breakdown as text) as return_breakdown,
        cast(service_types.engagement_definition as text) as engagement_definition,
        cast(service_types.positive_outcome_definition as text) as positive_outcome_definition,
        cast(services.status as text) as classification_status

    from services
    left join service_types
        on services.service_type = service_types.service_type

),

unknown_member as (

    -- Return rows whose service code is missing or not in the seed point here.
    select
        {{ unknown_member_key() }} as service_key,
        '-1' as service_code,
        'Unknown' as service_name,
        'Unknown' as service_type,
        'Unknown' as service_type_label,
        'Unknown' as provider_code,
        'Unknown' as provider_name,
        'Unknown' as commissioned_by,
        'Unknown' as coverage,
        'Unknown' as return_breakdown,
        cast(null as text) as engagement_definition,
        cast(null as text) as positive_outcome_definition,
        'U' as classification_status

),

services_with_unknown as (

    select * from services_described
    union all
    select * from unknown_member

)

select * from services_with_unknown
