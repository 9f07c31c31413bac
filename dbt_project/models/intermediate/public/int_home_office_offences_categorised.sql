{#- Each row of the winning Home Office releases under every VAWG category its code adds into. -#}
with

recorded_crimes as (

    select * from {{ ref('int_home_office_recorded_crimes_deduplicated') }}

),

category_rules as (

    select * from {{ ref('reporting_category_rules') }}

),

reporting_categories as (

    select * from {{ ref('reporting_categories') }}

),

offence_categories as (

    -- The categories defined by offence code (the DA flag is not in Home Office tables).
    select
        category_rules.reporting_category,
        category_rules.ho_offence_code
    from category_rules
    inner join reporting_categories
        on category_rules.reporting_category = reporting_categories.reporting_category
    where category_rules.selection_rule = 'offence_code'

),

categorised as (

    select
        recorded_crimes.financial_year,
        recorded_crimes.financial_quarter_number,
        recorded_crimes.force_name,
        recorded_crimes.ho_offence_code,
        offence_categories.reporting_category,
        recorded_crimes.offence_count,
        recorded_crimes._batch_id
    from recorded_crimes
    inner join offence_categories
        on recorded_crimes.ho_offence_code = offence_categories.ho_offence_code

)

select * from categorised
