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

    -- The latest date the data speaks for: the last right delivered, or the last one recorded
    -- as not met (recorded only after it fell due). Rights due after it are not yet due: some
    -- were delivered early, none can have been missed yet, so they are left out until then.
    select
        greatest(
            max(completed_date),
            max(due_date) filter (where is_not_met)
        ) as data_as_of_date
    from victims_code_records

),

records_by_month as (

    -- Each record due by data_as_of_date with the month it was due in (records outside the
    -- calendar have no month).
    select
        victims_code_records.geography_key,
        rights.right_number,
        victims_code_records.is_met,
        victims_code_records.is_not_met,
        victims_code_records.is_applicable,
        dates.month_start_date
    from victims_code_records
    inner join dates
        on victims_code_records.due_date_key = dates.date_key
    inner join rights
        on victims_code_records.victims_code_right_key = rights.victims_code_right_key
    where
        dates.month_start_date is not null
        and dates.calendar_date <= (select data_as_of.data_as_of_date from data_as_of)

),

counts_by_right as (

    select
        geography_key,
        right_number,
        month_start_date,
        count(*) filter (where is_met) as met_count,
        count(*) filter (where is_not_met) as not_met_count,
        count(*) filter (where not is_applicable) as not_applicable_count
    from records_by_month
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

    -- Every month from the first month a record was due in to the last (the month of
    -- data_as_of_date), so quiet months show 0.
    select
        dates.financial_year,
        dates.month_start_date
    from dates
    where
        dates.calendar_date = dates.month_start_date
        and dates.month_start_date >= (select min(month_start_date) from records_by_month)
        and dates.month_start_date <= (select max(month_start_date) from records_by_month)

),

reported_rights as (

    -- The seed's rights, the unknown right only when a record fell back to it, and 0 for all.
    select
        right_number,
        right_label
    from rights
    where
        right_number > 0
        or right_number in (select records_by_month.right_number from records_by_month)
    union all
    select
        0 as right_number,
        'All rights' as right_label

),

grid as (

    -- month x local authority (the unknown member too, so totals reconcile) x right.
    select
        geographies.geography_key,
        geographies.local_authority_code,
        geographies.local_authority_name,
        geographies.division_name,
        reported_rights.right_number,
        reported_rights.right_label,
        reporting_months.financial_year,
        reporting_months.month_start_date
    from reporting_months
    cross join geographies
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
        cast(
            round(
                1.0 * monthly_counts.met_count
                / nullif(monthly_counts.met_count + monthly_counts.not_met_count, 0),
                4
            ) as numeric(6, 4)
        ) as compliance_rate,

        -- dates
        grid.month_start_date,
        data_as_of.data_as_of_date

    from grid
    cross join data_as_of
    left join monthly_counts
        on
            grid.geography_key = monthly_counts.geography_key
            and grid.right_number = monthly_counts.right_number
            and grid.month_start_date = monthly_counts.month_start_date

)

select * from measures
