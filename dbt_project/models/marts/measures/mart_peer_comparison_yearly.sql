with

recorded_crimes as (

    select * from {{ ref('int_home_office_recorded_crimes_deduplicated') }}

),

categorised_offences as (

    select * from {{ ref('int_home_office_offences_categorised') }}

),

area_members as (

    select * from {{ ref('int_peer_areas_composed') }}

),

force_populations as (

    select * from {{ ref('int_force_populations') }}

),

reporting_categories as (

    select * from {{ ref('reporting_categories') }}

),

category_rules as (

    select * from {{ ref('reporting_category_rules') }}

),

years as (

    -- A year is complete when all four of its quarters are published; the data are as of the
    -- end of the latest quarter published (quarter 1 = April to June).
    select
        financial_year,
        cast(left(financial_year, 4) as integer) as financial_year_start_year,
        count(distinct financial_quarter_number) as quarters_published,
        cast(
            make_date(cast(left(financial_year, 4) as integer), 4, 1)
            + make_interval(months => 3 * max(financial_quarter_number))
            as date
        ) - 1 as latest_quarter_end_date
    from recorded_crimes
    group by financial_year

),

force_totals as (

    -- Offences per financial year, force and category, over the quarters published (negative
    -- adjustments included, as the Home Office publishes them).
    select
        financial_year,
        force_name,
        reporting_category,
        sum(offence_count) as offence_count
    from categorised_offences
    group by financial_year, force_name, reporting_category

),

populations_by_year as (

    -- Each force's estimate of each basis for each financial year: the latest at or before the
    -- year it starts in, else the earliest (int_force_populations: ONS estimates loaded, else seed police_force_populations).
    select distinct on (
        years.financial_year, force_populations.force_name, force_populations.population_basis
    )
        years.financial_year,
        force_populations.force_name,
        force_populations.population_basis,
        force_populations.population,
        force_populations.reference_year
    from years
    cross join force_populations
    order by
        years.financial_year,
        force_populations.force_name,
        force_populations.population_basis,
        force_populations.reference_year <= years.financial_year_start_year desc,
        case
            when force_populations.reference_year <= years.financial_year_start_year
                then -force_populations.reference_year
            else force_populations.reference_year
        end

),

category_years as (

    -- A category is available in a year when at least one of its offence codes is in the year's
    -- tables (any force or body, any quarter); when none is, its count is not 0 but unknown.
    select distinct
        financial_year,
        reporting_category
    from categorised_offences

),

category_codes as (

    select
        reporting_category,
        string_agg(ho_offence_code, ', ' order by ho_offence_code) as offence_codes
    from category_rules
    where selection_rule = 'offence_code'
    group by reporting_category

),

areas as (

    select
        area_name,
        area_level,
        area_order,
        count(*) as forces_in_area
    from area_members
    group by area_name, area_level, area_order

),

population_areas as (

    -- Each area and the forces whose populations make it up.
    select distinct
        area_name,
        population_area_name
    from area_members

),

population_bases as (

    select distinct population_basis from reporting_categories

),

area_populations as (

    -- The area's population of each basis for the year: the sum over the distinct estimates
    -- behind it; null when one of them is missing.
    select
        years.financial_year,
        population_areas.area_name,
        bases.population_basis,
        case
            when count(populations_by_year.population) = count(*)
                then sum(populations_by_year.population)
        end as population,
        max(populations_by_year.reference_year) as population_reference_year
    from years
    cross join population_areas
    cross join population_bases as bases
    left join populations_by_year
        on
            years.financial_year = populations_by_year.financial_year
            and population_areas.population_area_name = populations_by_year.force_name
            and bases.population_basis = populations_by_year.population_basis
    group by years.financial_year, population_areas.area_name, bases.population_basis

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
        years.latest_quarter_end_date,
        areas.area_name,
        areas.area_level,
        areas.area_order,
        areas.forces_in_area,
        reporting_categories.reporting_category,
        reporting_categories.category_label,
        reporting_categories.population_basis,
        reporting_categories.rate_definition
    from years
    cross join areas
    cross join reporting_categories
    where reporting_categories.reporting_category in (
        -- the categories defined by offence code (the DA flag is not in Home Office tables)
        select category_rules.reporting_category
        from category_rules
        where category_rules.selection_rule = 'offence_code'
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
        cast(grid.population_basis as text) as population_basis,
        cast(grid.rate_definition as text) as rate_definition,

        -- numerics
        cast(grid.area_order as integer) as area_order,
        cast(grid.forces_in_area as integer) as forces_in_area,
        cast(grid.quarters_published as integer) as quarters_published,
        cast(
            case
                when category_years.reporting_category is not null
                    then coalesce(area_totals.offence_count, 0)
            end as integer
        ) as offence_count,
        cast(area_populations.population as integer) as population,
        cast(area_populations.population_reference_year as integer) as population_reference_year,
        {{ rate_per(
            'case when category_years.reporting_category is not null '
            ~ 'then coalesce(area_totals.offence_count, 0) end',
            'area_populations.population', 1000, places=3, data_type='numeric',
        ) }} as rate_per_1000,
        cast(
            case
                when category_years.reporting_category is null
                    then
                        'not available: none of the category''s offence codes ('
                        || coalesce(category_codes.offence_codes, 'none')
                        || ') is in the Home Office tables loaded for the year'
            end as text
        ) as not_available_reason,

        -- booleans
        grid.quarters_published = 4 as is_complete_period,

        -- dates
        max(grid.latest_quarter_end_date) over () as data_as_of_date

    from grid
    left join area_totals
        on
            grid.financial_year = area_totals.financial_year
            and grid.area_name = area_totals.area_name
            and grid.reporting_category = area_totals.reporting_category
    left join area_populations
        on
            grid.financial_year = area_populations.financial_year
            and grid.area_name = area_populations.area_name
            and grid.population_basis = area_populations.population_basis
    left join category_years
        on
            grid.financial_year = category_years.financial_year
            and grid.reporting_category = category_years.reporting_category
    left join category_codes
        on grid.reporting_category = category_codes.reporting_category

)

select * from final
