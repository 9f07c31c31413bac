with

crimes_placed as (

    select * from {{ ref('int_policeuk_crimes_placed') }}

),

source_rows as (

    -- Behind each crime mart_public_crime_monthly counts (the same model): its street file row
    -- and, when it has one, its current outcome row (a Crime ID repeated in the street file gives
    -- its outcome row once per crime counted).
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
        month_start_date, force_code, geography_key, crime_type, outcome_category,
        fact_model, batch_id

)

select * from batches_behind
