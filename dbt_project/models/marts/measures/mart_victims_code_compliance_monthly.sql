with

assessed_rights as (

    select * from {{ ref('int_victims_code_rights_assessed') }}

),

month_local_authorities as (

    select * from {{ ref('int_month_local_authority_grid') }}

),

rights as (

    select * from {{ ref('dim_victims_code_right') }}

),

data_as_of as (

    -- The extract's as-of date and the latest due date measured (as-of less the recording lag).
    select
        max(data_as_of_date) as data_as_of_date,
        max(measured_through_date) as measured_through_date
    from assessed_rights

),

counts_by_right as (

    select
        geography_key,
        right_number,
        month_start_date,
        count(*) filter (where is_met) as met_count,
        count(*) filter (where is_not_met) as not_met_count,
        count(*) filter (where is_met_late) as met_late_count,
        count(*) filter (where is_overdue_without_status) as overdue_without_status_count,
        count(*) filter (where is_not_applicable) as not_applicable_count
    from assessed_rights
    group by geography_key, right_number, month_start_date

),

counts_all_rights as (

    -- right_number 0: every right together (each applicable record counts once).
    select
        geography_key,
        0 as right_number,
        month_start_date,
        sum(met_count) as met_count,
        sum(not_met_count) as not_met_count,
        sum(met_late_count) as met_late_count,
        sum(overdue_without_status_count) as overdue_without_status_count,
        sum(not_applicable_count) as not_applicable_count
    from counts_by_right
    group by geography_key, month_start_date

),

monthly_counts as (

    select * from counts_by_right
    union all
    select * from counts_all_rights

),

reporting_months as (

    {#- Every month from the first month a measured right was due in to the last (the month of
        measured_through_date), so quiet months show 0. -#}
    {{ reporting_months(
        'select min(month_start_date) from assessed_rights',
        'select max(month_start_date) from assessed_rights',
    ) }}

),

reported_rights as (

    -- The seed's rights, the unknown right only when a record fell back to it, and 0 for all.
    select
        right_number,
        right_label
    from rights
    where
        right_number > 0
        or right_number in (select assessed_rights.right_number from assessed_rights)
    union all
    select
        0 as right_number,
        'All rights' as right_label

),

grid as (

    -- month x local authority (the unknown member too, so totals reconcile) x right.
    select
        reporting_months.geography_key,
        reporting_months.local_authority_code,
        reporting_months.local_authority_name,
        reporting_months.division_name,
        reported_rights.right_number,
        reported_rights.right_label,
        reporting_months.financial_year,
        reporting_months.month_start_date
    from reporting_months
    cross join reported_rights

),

measures as (

    select
        -- ids
        grid.local_authority_code,
        grid.right_number,

        -- strings
        grid.right_label,
        grid.local_authority_name,
        grid.division_name,
        grid.financial_year,

        -- numerics
        cast(coalesce(monthly_counts.met_count, 0) as integer) as met_count,
        cast(coalesce(monthly_counts.not_met_count, 0) as integer) as not_met_count,
        cast(
            coalesce(monthly_counts.met_count, 0) + coalesce(monthly_counts.not_met_count, 0)
            as integer
        ) as applicable_count,
        cast(coalesce(monthly_counts.not_applicable_count, 0) as integer) as not_applicable_count,
        cast(coalesce(monthly_counts.met_late_count, 0) as integer) as met_late_count,
        cast(coalesce(monthly_counts.overdue_without_status_count, 0) as integer)
            as overdue_without_status_count,
        cast(
            round(
                1.0 * monthly_counts.met_count
                / nullif(monthly_counts.met_count + monthly_counts.not_met_count, 0),
                4
            ) as numeric(6, 4)
        ) as compliance_rate,

        -- booleans
        {{ is_complete_period('grid.month_start_date', 'data_as_of.measured_through_date') }}
            as is_complete_period,

        -- dates
        grid.month_start_date,
        data_as_of.data_as_of_date,
        data_as_of.measured_through_date

    from grid
    cross join data_as_of
    left join monthly_counts
        on
            grid.geography_key = monthly_counts.geography_key
            and grid.right_number = monthly_counts.right_number
            and grid.month_start_date = monthly_counts.month_start_date

)

select * from measures
