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

    -- The categories the mart reports: defined by offence code and in the reporting categories.
    select
        category_rules.reporting_category,
        category_rules.ho_offence_code
    from category_rules
    inner join reporting_categories
        on category_rules.reporting_category = reporting_categories.reporting_category
    where category_rules.selection_rule = 'offence_code'

),

area_members as (

    -- The forces whose offences each compared area adds up (as in the mart): Lancashire and each
    -- of its most similar group as themselves, the group (members with a population, Lancashire
    -- excluded), England and Wales (every territorial force; national bodies never).
    select
        force_name as area_name,
        force_name
    from police_forces
    where area_type = 'territorial_force' and (is_home_force or is_most_similar_group_member)

    union all

    select
        'Most similar group' as area_name,
        force_name
    from police_forces
    where
        area_type = 'territorial_force'
        and is_most_similar_group_member
        and not is_home_force
        and population is not null

    union all

    select
        'England and Wales' as area_name,
        force_name
    from police_forces
    where area_type = 'territorial_force'

),

categorised_offences as (

    -- Each row of the winning releases under every category its offence code adds into.
    select
        recorded_crimes._batch_id,
        recorded_crimes.financial_year,
        recorded_crimes.force_name,
        offence_categories.reporting_category,
        recorded_crimes.offence_count
    from recorded_crimes
    inner join offence_categories
        on recorded_crimes.ho_offence_code = offence_categories.ho_offence_code

),

batches_behind as (

    select
        cast(categorised_offences.financial_year as text) as financial_year,
        cast(area_members.area_name as text) as area_name,
        cast(categorised_offences.reporting_category as text) as reporting_category,
        cast('int_home_office_recorded_crimes_deduplicated' as text) as fact_model,
        categorised_offences._batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count,
        cast(sum(categorised_offences.offence_count) as integer) as offence_count
    from categorised_offences
    inner join area_members
        on categorised_offences.force_name = area_members.force_name
    group by
        categorised_offences.financial_year,
        area_members.area_name,
        categorised_offences.reporting_category,
        categorised_offences._batch_id

)

select * from batches_behind
