with

categorised_offences as (

    select * from {{ ref('int_home_office_offences_categorised') }}

),

area_members as (

    select * from {{ ref('int_peer_areas_composed') }}

),

batches_behind as (

    -- The rows mart_peer_comparison_yearly sums (the same models: int_home_office_offences_
    -- categorised under the areas of int_peer_areas_composed), by the release they come from.
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
