{#-
    Measure 1 for publication: complete months only, small numbers suppressed. The flags come
    from int_published_crime_cells_suppressed, the one suppression of every cell measures 1 and
    2 publish (this month's crime_count is the cohort of pub_mart_positive_outcomes_monthly too;
    last year's is the same cell a year earlier).
-#}
with

mart as (

    select * from {{ ref('mart_reporting_monthly') }}

),

cells as (

    select * from {{ ref('int_published_crime_cells_suppressed') }}
    where cell_kind = 'recorded'

),

flagged as (

    -- Complete months only (is_complete_period); stalking_and_harassment has no cells (it is
    -- not published: it holds stalking and harassment, published beside it).
    select
        mart.*,
        this_month.is_suppressed as crime_count__suppressed,
        coalesce(last_year.is_suppressed, false) as crime_count_same_month_last_year__suppressed
    from mart
    inner join cells as this_month
        on
            mart.month_start_date = this_month.month_start_date
            and mart.reporting_category = this_month.reporting_category
            and mart.local_authority_code = this_month.local_authority_code
    left join cells as last_year
        on
            cast(mart.month_start_date - interval '1 year' as date) = last_year.month_start_date
            and mart.reporting_category = last_year.reporting_category
            and mart.local_authority_code = last_year.local_authority_code
    where mart.is_complete_period

),

{{ published_columns(
    'flagged',
    key_columns=['month_start_date', 'local_authority_code', 'reporting_category'],
    passthrough_columns=[
        'category_label', 'local_authority_name', 'division_name', 'financial_year',
        'population_basis', 'trend_break_note', 'population', 'population_reference_year',
        'is_change_across_trend_break',
    ],
    count_columns=['crime_count', 'crime_count_same_month_last_year'],
    rates={
        'rate_per_1000': ['crime_count'],
        'change_on_last_year': ['crime_count', 'crime_count_same_month_last_year'],
        'change_on_last_year_pct': ['crime_count', 'crime_count_same_month_last_year'],
    },
    trailing_columns=['data_as_of_date'],
) }}

select * from published
