with

policeuk_crimes as (

    select * from {{ ref('int_policeuk_crimes_deduplicated') }}

),

crime_outcomes as (

    select * from {{ ref('int_policeuk_crime_outcomes_ranked') }}

),

outcome_categories as (

    select * from {{ ref('policeuk_outcome_categories') }}

),

local_authority_names as (

    select * from {{ ref('policeuk_local_authority_names') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

no_outcome as (

    select min(outcome_category) as outcome_category
    from outcome_categories
    where outcome_group = 'none'

),

crimes_placed as (

    -- Each crime (street file row) under the key the mart counts it in (the mart's rules: local
    -- authority from the LSOA name, else the unknown member; the outcomes files' current outcome,
    -- else the street file's, else "no outcome"), with the batch of its street file row and, when
    -- its outcome comes from the outcomes files, the batch of that outcome row.
    select
        policeuk_crimes._batch_id as crime_batch_id,
        crime_outcomes._batch_id as outcome_batch_id,
        policeuk_crimes.crime_month_start_date as month_start_date,
        cast(policeuk_crimes.force_code as text) as force_code,
        cast(
            coalesce(geographies.geography_key, {{ unknown_member_key() }}) as text
        ) as geography_key,
        cast(policeuk_crimes.crime_type as text) as crime_type,
        cast(
            coalesce(
                crime_outcomes.outcome_category,
                policeuk_crimes.last_outcome_category,
                no_outcome.outcome_category
            ) as text
        ) as outcome_category
    from policeuk_crimes
    cross join no_outcome
    left join crime_outcomes
        on policeuk_crimes.crime_id = crime_outcomes.crime_id
    left join local_authority_names
        on
            regexp_replace(policeuk_crimes.lsoa_name, ' [0-9]{3}[A-Z]$', '')
            = local_authority_names.lsoa_local_authority_name
    left join geographies
        on local_authority_names.local_authority_code = geographies.local_authority_code

),

source_rows as (

    -- Behind each crime counted: its street file row and, when it has one, its current outcome
    -- row (a Crime ID repeated in the street file gives its outcome row once per crime counted).
    select
        month_start_date,
        force_code,
        geography_key,
        crime_type,
        outcome_category,
        'int_policeuk_crimes_deduplicated' as fact_model,
        crime_batch_id as batch_id
    from crimes_placed
    union all
    select
        month_start_date,
        force_code,
        geography_key,
        crime_type,
        outcome_category,
        'int_policeuk_crime_outcomes_ranked' as fact_model,
        outcome_batch_id as batch_id
    from crimes_placed
    where outcome_batch_id is not null

),

batches_behind as (

    select
        month_start_date,
        force_code,
        geography_key,
        crime_type,
        outcome_category,
        cast(fact_model as text) as fact_model,
        batch_id,
        cast(count(*) as integer) as fact_row_count
    from source_rows
    group by
        month_start_date, force_code, geography_key, crime_type, outcome_category, fact_model, batch_id

)

select * from batches_behind
