{#-
    Measure 1's selection, once: which reporting categories each recorded crime counts in (seed
    reporting_category_rules). mart_reporting_monthly, its lineage and both measure 2 cohorts
    read it; no other model repeats the rules.
-#}
with

recorded_crimes as (

    select * from {{ ref('fct_recorded_crime') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

offences as (

    select * from {{ ref('dim_offence') }}

),

reporting_category_rules as (

    select * from {{ ref('reporting_category_rules') }}

),

crimes_described as (

    -- Each crime with its recorded month (null outside the calendar), place and offence code.
    select
        recorded_crimes.crime_key,
        recorded_crimes.geography_key,
        geographies.local_authority_code,
        offences.offence_code,
        recorded_crimes.is_domestic_abuse,
        dates.month_start_date,
        recorded_crimes._batch_id
    from recorded_crimes
    left join dates
        on recorded_crimes.recorded_date_key = dates.date_key
    inner join geographies
        on recorded_crimes.geography_key = geographies.geography_key
    inner join offences
        on recorded_crimes.offence_key = offences.offence_key

),

crimes_by_offence_rule as (

    -- In a category by its offence code.
    select
        crimes_described.crime_key,
        reporting_category_rules.reporting_category,
        crimes_described.geography_key,
        crimes_described.local_authority_code,
        crimes_described.month_start_date,
        crimes_described._batch_id
    from crimes_described
    inner join reporting_category_rules
        on crimes_described.offence_code = reporting_category_rules.ho_offence_code
    where reporting_category_rules.selection_rule = 'offence_code'

),

crimes_by_flag_rule as (

    -- In a category by the domestic abuse flag, whatever the offence.
    select
        crimes_described.crime_key,
        reporting_category_rules.reporting_category,
        crimes_described.geography_key,
        crimes_described.local_authority_code,
        crimes_described.month_start_date,
        crimes_described._batch_id
    from crimes_described
    inner join reporting_category_rules
        on reporting_category_rules.selection_rule = 'domestic_abuse_flag'
    where crimes_described.is_domestic_abuse

),

categorised_crimes as (

    -- A crime counts once in every category it falls in: a DA-flagged rape counts in
    -- domestic_abuse, rape and sexual_offences (union removes a crime matched twice in one).
    select * from crimes_by_offence_rule
    union
    select * from crimes_by_flag_rule

)

select * from categorised_crimes
