with

recorded_crimes as (

    select * from {{ ref('int_home_office_recorded_crimes_deduplicated') }}

),

police_forces as (

    select * from {{ ref('police_forces') }}

),

category_rules as (

    select * from {{ ref('reporting_category_rules') }}

),

reporting_categories as (

    select * from {{ ref('reporting_categories') }}

),

offence_categories as (

    -- The VAWG categories defined by offence code (the DA flag is not in Home Office tables).
    select
        reporting_category,
        ho_offence_code
    from category_rules
    where selection_rule = 'offence_code'

),

years as (

    select
        financial_year,
        count(distinct financial_quarter_number) as quarters_published
    from recorded_crimes
    group by financial_year

),

force_totals as (

    -- Offences per financial year, force and category, over the quarters published (negative
    -- adjustments included, as the Home Office publishes them).
    select
        recorded_crimes.financial_year,
        recorded_crimes.force_name,
        offence_categories.reporting_category,
        sum(recorded_crimes.offence_count) as offence_count
    from recorded_crimes
    inner join offence_categories
        on recorded_crimes.ho_offence_code = offence_categories.ho_offence_code
    group by
        recorded_crimes.financial_year,
        recorded_crimes.force_name,
        offence_categories.reporting_category

),

area_members as (

    -- Which forces make up each compared area: Lancashire and each of its most similar group
    -- (as themselves), the group (members with a population, Lancashire excluded), and England
    -- and Wales (every territorial force; national bodies never).
    select
        force_name as area_name,
        'force' as area_level,
        case when is_home_force then 1 else 2 end as area_order,
        force_name,
        population
    from police_forces
    where area_type = 'territorial_force' and (is_home_force or is_most_similar_group_member)

    union all

    select
        'Most similar group' as area_name,
        'most_similar_group' as area_level,
        3 as area_order,
        force_name,
        population
    from police_forces
    where
        area_type = 'territorial_force'
        and is_most_similar_group_member
        and not is_home_force
        and population is not null

    union all

    select
        'England and Wales' as area_name,
        'england_and_wales' as area_level,
        4 as area_order,
        force_name,
        null as population
    from police_forces
    where area_type = 'territorial_force'

),

areas as (

    select
        area_members.area_name,
        area_members.area_level,
        area_members.area_order,
        count(*) as forces_in_area,
        case
            when area_members.area_level = 'england_and_wales'
                then (
                    select max(police_forces.population) from police_forces
                    where police_forces.area_type = 'country'
                )
            else sum(area_members.population)
        end as population
    from area_members
    group by area_members.area_name, area_members.area_level, area_members.area_order

),

area_totals as (

    select
        force_totals.financial_year,
        area_members.area_name,
        force_totals.reporting_category,
        sum(force_totals.offence_count) as offence_count
    from force_totals
    inner join area_members
        on force_totals.force_name = area_members.force_name
    group by force_totals.financial_year, area_members.area_name, force_totals.reporting_category

),

grid as (

    select
        years.financial_year,
        years.quarters_published,
        areas.area_name,
        areas.area_level,
        areas.area_order,
        areas.forces_in_area,
        areas.population,
        reporting_categories.reporting_category,
        reporting_categories.category_label
    from years
    cross join areas
    cross join reporting_categories
    where reporting_categories.reporting_category in (
        select offence_categories.reporting_category from offence_categories
    )

),

final as (

    select
        -- keys
        cast(grid.financial_year as text) as financial_year,
        cast(grid.area_name as text) as area_name,
        cast(grid.reporting_category as text) as reporting_category,

        -- strings
        cast(grid.area_level as text) as area_level,
        cast(grid.category_label as text) as category_label,

        -- numerics
        cast(grid.area_order as integer) as area_order,
        cast(grid.forces_in_area as integer) as forces_in_area,
        cast(grid.quarters_published as integer) as quarters_published,
        cast(coalesce(area_totals.offence_count, 0) as integer) as offence_count,
        cast(grid.population as integer) as population,
        cast(
            round(1000.0 * coalesce(area_totals.offence_count, 0) / nullif(grid.population, 0), 3)
            as numeric
        ) as rate_per_1000

    from grid
    left join area_totals
        on
            grid.financial_year = area_totals.financial_year
            and grid.area_name = area_totals.area_name
            and grid.reporting_category = area_totals.reporting_category

)

select * from final
