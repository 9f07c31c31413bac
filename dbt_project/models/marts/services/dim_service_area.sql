with

service_areas as (

    select * from {{ ref('service_areas') }}
    where force_code = {{ home_force() }}  -- the home force's (seed forces)

),

local_authorities as (

    select * from {{ ref('local_authorities') }}
    where force_code = {{ home_force() }}  -- the home force's (seed forces)

),

areas as (

    select
        -- ids
        {{ surrogate_key(['service_areas.area_code']) }} as service_area_key,
        cast(service_areas.area_code as text) as area_code,

        -- strings
        cast(service_areas.area_name as text) as area_name,
        cast(service_areas.area_type as text) as area_type,
        cast(coalesce(local_authorities.division_name, 'All divisions') as text) as division_name,

        -- booleans
        service_areas.area_type <> 'local_authority' as is_county_wide

    from service_areas
    left join local_authorities
        on service_areas.area_code = local_authorities.local_authority_code

),

unknown_member as (

    -- Return rows whose area is missing or not in the seed point here.
    select
        {{ unknown_member_key() }} as service_area_key,
        '-1' as area_code,
        'Unknown' as area_name,
        'Unknown' as area_type,
        'Unknown' as division_name,
        false as is_county_wide

),

areas_with_unknown as (

    select * from areas
    union all
    select * from unknown_member

)

select * from areas_with_unknown
