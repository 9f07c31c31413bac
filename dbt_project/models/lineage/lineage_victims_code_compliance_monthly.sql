with

assessed_rights as (

    select * from {{ ref('int_victims_code_rights_assessed') }}

),

records_with_all_rights as (

    -- The records mart_victims_code_compliance_monthly counts (the same model), under their
    -- right and under right 0 (all rights).
    select
        _batch_id,
        crime_batch_id,
        local_authority_code,
        right_number,
        month_start_date
    from assessed_rights
    union all
    select
        _batch_id,
        crime_batch_id,
        local_authority_code,
        0 as right_number,
        month_start_date
    from assessed_rights

),

fact_rows as (

    -- Each record and, when its crime is in the extract, the crime that gives its local authority.
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
