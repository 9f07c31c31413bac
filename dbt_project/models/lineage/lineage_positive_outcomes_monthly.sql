with

outcomes_by_type_lineage as (

    select * from {{ ref('lineage_outcomes_by_type_monthly') }}

),

batches_behind as (

    -- mart_positive_outcomes_monthly adds up mart_outcomes_by_type_monthly's outcome types, so
    -- its rows stand on the same fact rows, all outcome types together.
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        fact_model,
        batch_id,
        cast(sum(fact_row_count) as integer) as fact_row_count
    from outcomes_by_type_lineage
    group by month_start_date, local_authority_code, reporting_category, fact_model, batch_id

)

select * from batches_behind
