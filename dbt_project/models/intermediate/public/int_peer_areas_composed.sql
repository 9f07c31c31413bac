{#- The areas mart_peer_comparison_yearly compares and the forces each adds up, once. -#}
with

police_forces_listed as (

    select * from {{ ref('police_forces') }}

),

home_force as (

    select * from {{ ref('forces') }}
    where force_code = {{ home_force() }}

),

most_similar_groups as (

    select * from {{ ref('most_similar_groups') }}

),

police_forces as (

    -- Each force with whether it is the home force (seed forces, the setting VAWG_HOME_FORCE)
    -- or a member of the home force's most similar group (seed most_similar_groups).
    select
        police_forces_listed.force_name,
        police_forces_listed.area_type,
        home_force.force_name is not null as is_home_force,
        exists(
            select 1
            from most_similar_groups
            inner join home_force as home
                on most_similar_groups.force_code = home.force_code
            where
                most_similar_groups.member_force_name = police_forces_listed.force_name
                and police_forces_listed.force_name <> home.force_name
        ) as is_most_similar_group_member
    from police_forces_listed
    left join home_force
        on police_forces_listed.force_name = home_force.force_name

),

force_populations as (

    select * from {{ ref('int_force_populations') }}

),

group_members as (

    -- The most similar group: its members that have an estimate of all residents (the home
    -- force excluded).
    select force_name
    from police_forces
    where
        area_type = 'territorial_force'
        and is_most_similar_group_member
        and not is_home_force
        and force_name in (
            select force_populations.force_name
            from force_populations
            where force_populations.population_basis = 'persons'
        )

),

country as (

    select max(force_name) as force_name
    from police_forces
    where area_type = 'country'

),

area_members as (

    -- The home force and each member of its most similar group as themselves; the group; England and
    -- Wales (every territorial force; national bodies never, whose population is the country's).
    select
        force_name as area_name,
        'force' as area_level,
        case when is_home_force then 1 else 2 end as area_order,
        force_name,
        force_name as population_area_name
    from police_forces
    where area_type = 'territorial_force' and (is_home_force or is_most_similar_group_member)

    union all

    select
        'Most similar group' as area_name,
        'most_similar_group' as area_level,
        3 as area_order,
        force_name,
        force_name as population_area_name
    from group_members

    union all

    select
        'England and Wales' as area_name,
        'england_and_wales' as area_level,
        4 as area_order,
        police_forces.force_name,
        country.force_name as population_area_name
    from police_forces
    cross join country
    where police_forces.area_type = 'territorial_force'

)

select
    cast(area_name as text) as area_name,
    cast(force_name as text) as force_name,
    cast(area_level as text) as area_level,
    cast(area_order as integer) as area_order,
    cast(population_area_name as text) as population_area_name
from area_members
