with

categorised_crimes as (

    select * from {{ ref('int_crimes_categorised') }}

),

extracts as (

    select * from {{ ref('int_force_extracts_dated') }}

),

month_local_authorities as (

    select * from {{ ref('int_month_local_authority_grid') }}

),

populations as (

    select * from {{ ref('int_populations_unpivoted') }}

),

reporting_categories as (

    select * from {{ ref('reporting_categories') }}

),

trend_breaks as (

    select * from {{ ref('trend_breaks') }}

),

data_as_of as (

    -- One row, even before the extract's first file (max of nothing is null).
    select max(data_as_of_date) as data_as_of_date
    from extracts
    where dataset_name = 'force_crimes'

),

monthly_counts as (

    select
        geography_key,
        reporting_category,
        month_start_date,
        count(*) as crime_count
    from categorised_crimes
    where month_start_date is not null
    group by geography_key, reporting_category, month_start_date

),

reporting_months as (

    {#- Every month from the first recorded month to the last, so months without crimes show 0. -#}
    {{ reporting_months(
        'select min(month_start_date) from categorised_crimes',
        'select max(month_start_date) from categorised_crimes',
    ) }}

),

grid as (

    -- month x local authority (the unknown member too, so totals reconcile) x reporting category.
    select
        reporting_months.geography_key,
        reporting_months.local_authority_code,
        reporting_months.local_authority_name,
        reporting_months.division_name,
        reporting_categories.reporting_category,
        reporting_categories.category_label,
        reporting_categories.population_basis,
        reporting_months.financial_year,
        reporting_months.month_start_date
    from reporting_months
    cross join reporting_categories

),

grid_counted as (

    -- The population is the estimate of the category's basis that applies to the month's year.
    select
        grid.*,
        cast(coalesce(monthly_counts.crime_count, 0) as integer) as crime_count,
        populations.population,
        populations.reference_year as population_reference_year
    from grid
    left join monthly_counts
        on
            grid.geography_key = monthly_counts.geography_key
            and grid.reporting_category = monthly_counts.reporting_category
            and grid.month_start_date = monthly_counts.month_start_date
    left join populations
        on
            grid.local_authority_code = populations.local_authority_code
            and grid.population_basis = populations.population_basis
            and extract(year from grid.month_start_date)
            between populations.applies_from_year and populations.applies_to_year

),

category_months as (

    select distinct
        reporting_category,
        month_start_date
    from grid

),

trend_breaks_by_month as (

    -- The latest break in effect for the month and category, and whether one took effect in the
    -- twelve months up to it (a year-on-year comparison that spans a break).
    select
        category_months.reporting_category,
        category_months.month_start_date,
        (
            array_agg(
                trend_breaks.trend_break_note
                order by trend_breaks.effective_from_date desc, trend_breaks.trend_break_id asc
            )
        )[1] as trend_break_note,
        bool_or(
            trend_breaks.effective_from_date
            > category_months.month_start_date - interval '1 year'
        ) as has_break_in_last_year
    from category_months
    inner join trend_breaks
        on
            category_months.reporting_category = trend_breaks.reporting_category
            and category_months.month_start_date >= trend_breaks.effective_from_date
    group by category_months.reporting_category, category_months.month_start_date

),

compared_with_last_year as (

    -- Same month last year: null when that month is before the first recorded month. A month
    -- is complete when the extract covers its last day (int_force_extracts_dated).
    select
        this_year.*,
        last_year.crime_count as crime_count_same_month_last_year,
        data_as_of.data_as_of_date,
        {{ is_complete_period('this_year.month_start_date', 'data_as_of.data_as_of_date') }}
            as is_complete_period
    from grid_counted as this_year
    cross join data_as_of
    left join grid_counted as last_year
        on
            this_year.geography_key = last_year.geography_key
            and this_year.reporting_category = last_year.reporting_category
            and last_year.month_start_date
            = cast(this_year.month_start_date - interval '1 year' as date)

),

measures as (

    select
        -- ids
        compared_with_last_year.local_authority_code,
        compared_with_last_year.reporting_category,

        -- strings
        compared_with_last_year.category_label,
        compared_with_last_year.local_authority_name,
        compared_with_last_year.division_name,
        compared_with_last_year.financial_year,
        compared_with_last_year.population_basis,
        trend_breaks_by_month.trend_break_note,

        -- numerics
        compared_with_last_year.crime_count,
        compared_with_last_year.population,
        compared_with_last_year.population_reference_year,
        {{ rate_per(
            'compared_with_last_year.crime_count', 'compared_with_last_year.population', 1000,
        ) }}
            as rate_per_1000,
        compared_with_last_year.crime_count_same_month_last_year,
        -- An incomplete month is not compared with a whole one: the change is null.
        case
            when compared_with_last_year.is_complete_period
                then
                    compared_with_last_year.crime_count
                    - compared_with_last_year.crime_count_same_month_last_year
        end as change_on_last_year,
        case
            when compared_with_last_year.is_complete_period
                then {{ pct(
                    'compared_with_last_year.crime_count'
                    ~ ' - compared_with_last_year.crime_count_same_month_last_year',
                    'compared_with_last_year.crime_count_same_month_last_year',
                    data_type='numeric(12, 1)',
                ) }}
        end as change_on_last_year_pct,

        -- booleans
        (
            compared_with_last_year.crime_count_same_month_last_year is not null
            and coalesce(trend_breaks_by_month.has_break_in_last_year, false)
        ) as is_change_across_trend_break,
        compared_with_last_year.is_complete_period,

        -- dates
        compared_with_last_year.month_start_date,
        compared_with_last_year.data_as_of_date

    from compared_with_last_year
    left join trend_breaks_by_month
        on
            compared_with_last_year.reporting_category = trend_breaks_by_month.reporting_category
            and compared_with_last_year.month_start_date = trend_breaks_by_month.month_start_date

)

select * from measures
