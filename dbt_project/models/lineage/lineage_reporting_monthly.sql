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

crimes_by_month as (

    -- Each crime with the key columns mart_reporting_monthly counts it under.
    select
        recorded_crimes.crime_key,
        recorded_crimes._batch_id,
        geographies.local_authority_code,
        offences.offence_code,
        recorded_crimes.is_domestic_abuse,
        dates.month_start_date
    from recorded_crimes
    inner join dates
        on recorded_crimes.recorded_date_key = dates.date_key
    inner join geographies
        on recorded_crimes.geography_key = geographies.geography_key
    inner join offences
        on recorded_crimes.offence_key = offences.offence_key
    where dates.month_start_date is not null

),

categorised_crimes as (

    -- The mart's category rules (seed reporting_category_rules): by offence code, or by the
    -- domestic abuse flag whatever the offence; a crime counts once per category.
    select
        crimes_by_month.crime_key,
        crimes_by_month._batch_id,
        crimes_by_month.local_authority_code,
        reporting_category_rules.reporting_category,
        crimes_by_month.month_start_date
    from crimes_by_month
    inner join reporting_category_rules
        on crimes_by_month.offence_code = reporting_category_rules.ho_offence_code
    where reporting_category_rules.selection_rule = 'offence_code'
    union
    select
        crimes_by_month.crime_key,
        crimes_by_month._batch_id,
        crimes_by_month.local_authority_code,
        reporting_category_rules.reporting_category,
        crimes_by_month.month_start_date
    from crimes_by_month
    inner join reporting_category_rules
        on reporting_category_rules.selection_rule = 'domestic_abuse_flag'
    where crimes_by_month.is_domestic_abuse

),

batches_behind as (

    select
        month_start_date,
        local_authority_code,
        reporting_category,
        cast('fct_recorded_crime' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from categorised_crimes
    group by month_start_date, local_authority_code, reporting_category, _batch_id

)

select * from batches_behind
