with

victims_code_records as (

    select * from {{ ref('fct_victims_code_right') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

rights as (

    select * from {{ ref('dim_victims_code_right') }}

),

data_as_of as (

    -- As in the mart: rights due after the latest date the data speaks for are left out.
    select
        greatest(
            max(completed_date),
            max(due_date) filter (where is_not_met)
        ) as data_as_of_date
    from victims_code_records

),

records_by_month as (

    select
        victims_code_records._batch_id,
        victims_code_records.crime_batch_id,
        geographies.local_authority_code,
        rights.right_number,
        dates.month_start_date
    from victims_code_records
    inner join dates
        on victims_code_records.due_date_key = dates.date_key
    inner join geographies
        on victims_code_records.geography_key = geographies.geography_key
    inner join rights
        on victims_code_records.victims_code_right_key = rights.victims_code_right_key
    where
        dates.month_start_date is not null
        and dates.calendar_date <= (select data_as_of.data_as_of_date from data_as_of)

),

records_with_all_rights as (

    -- Each record under its own right and under right 0 (all rights), as the mart reports.
    select * from records_by_month
    union all
    select
        _batch_id,
        crime_batch_id,
        local_authority_code,
        0 as right_number,
        month_start_date
    from records_by_month

),

fact_rows as (

    -- The record's version, and the version of its crime (where the local authority comes from).
    select
        month_start_date,
        local_authority_code,
        right_number,
        'fct_victims_code_right' as fact_model,
        _batch_id as batch_id
    from records_with_all_rights
    union all
    select
        month_start_date,
        local_authority_code,
        right_number,
        'fct_recorded_crime' as fact_model,
        crime_batch_id as batch_id
    from records_with_all_rights
    where crime_batch_id is not null

),

batches_behind as (

    select
        month_start_date,
        local_authority_code,
        right_number,
        cast(fact_model as text) as fact_model,
        batch_id,
        cast(count(*) as integer) as fact_row_count
    from fact_rows
    group by month_start_date, local_authority_code, right_number, fact_model, batch_id

)

select * from batches_behind
