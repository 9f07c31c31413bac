with

flagged_cases as (

    select * from {{ ref('int_marac_cases_flagged') }}

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

measure_parameters as (

    select * from {{ ref('marac_measure_parameters') }}
    where force_code = {{ home_force() }}  -- the home force's settings (seed forces)

),

parameters_typed as (

    -- One row: the seed's parameters (window, population, SafeLives' annual benchmark).
    select
        cast(
            max(case when parameter = 'window_months' then parameter_value end) as integer
        ) as window_months,
        max(case when parameter = 'population_basis' then parameter_value end) as population_basis,
        cast(
            max(
                case
                    when parameter = 'benchmark_cases_per_10000_women_a_year'
                        then parameter_value
                end
            ) as numeric(8, 2)
        ) as benchmark_cases_per_10000_women_a_year
    from measure_parameters

),

monthly_counts as (

    select
        geography_key,
        month_start_date,
        count(*) as cases_heard,
        count(*) filter (where is_repeat) as repeat_cases
    from flagged_cases
    group by geography_key, month_start_date

),

reporting_months as (

    {#- Every month from the first month heard to the last, so months without cases show 0. -#}
    {{ reporting_months(
        'select min(month_start_date) from flagged_cases',
        'select max(month_start_date) from flagged_cases',
    ) }}

),

extract_start as (

    -- The extract's first day: the earliest date any case in it is compared on.
    select min(compared_date) as first_day from flagged_cases

),

monthly_look_back as (

    -- How far back the cases heard in a month must look: from the earliest date compared among
    -- them (a case is often referred before the month it is heard), or the month's first day.
    select
        month_start_date,
        min(compared_date) as earliest_compared_date
    from flagged_cases
    group by month_start_date

),

history as (

    -- A month has the history its repeats need when the look-back of every case heard in it
    -- (window_months before its date) starts on or after the extract's first day: a case whose
    -- last referral could fall before the extract cannot be told from a first referral. The data
    -- are as of the MARAC extract's as-of date.
    select
        months.month_start_date,
        coalesce(
            cast(
                least(monthly_look_back.earliest_compared_date, months.month_start_date)
                - make_interval(months => parameters_typed.window_months)
                as date
            ) >= extract_start.first_day,
            false
        ) as has_full_history,
        (select data_as_of_date from extracts where dataset_name = 'force_marac_cases')
            as data_as_of_date
    from (select distinct month_start_date from reporting_months) as months
    cross join parameters_typed
    cross join extract_start
    left join monthly_look_back
        on months.month_start_date = monthly_look_back.month_start_date

),

grid as (

    -- month x local authority (the unknown member too, so totals reconcile with the fact).
    select
        reporting_months.geography_key,
        reporting_months.local_authority_code,
        reporting_months.local_authority_name,
        reporting_months.division_name,
        reporting_months.financial_year,
        reporting_months.month_start_date
    from reporting_months

),

grid_counted as (

    -- The population is the estimate of the seed's basis that applies to the month's year.
    select
        grid.*,
        cast(coalesce(monthly_counts.cases_heard, 0) as integer) as cases_heard,
        cast(coalesce(monthly_counts.repeat_cases, 0) as integer) as repeat_cases,
        populations.population,
        populations.reference_year as population_reference_year,
        parameters_typed.window_months,
        parameters_typed.benchmark_cases_per_10000_women_a_year
    from grid
    cross join parameters_typed
    left join monthly_counts
        on
            grid.geography_key = monthly_counts.geography_key
            and grid.month_start_date = monthly_counts.month_start_date
    left join populations
        on
            grid.local_authority_code = populations.local_authority_code
            and parameters_typed.population_basis = populations.population_basis
            and extract(year from grid.month_start_date)
            between populations.applies_from_year and populations.applies_to_year

),

rolling_year as (

    -- The twelve months up to and including the month (the grid has every month, so twelve
    -- rows); null until twelve months are in the data, like SafeLives' annual benchmark.
    select
        *,
        case
            when count(*) over last_twelve_months = 12
                then sum(cases_heard) over last_twelve_months
        end as cases_heard_12_months
    from grid_counted
    window last_twelve_months as (
        partition by geography_key
        order by month_start_date
        rows between 11 preceding and current row
    )

),

measures as (

    select
        -- ids
        rolling_year.local_authority_code,

        -- strings
        rolling_year.local_authority_name,
        rolling_year.division_name,
        rolling_year.financial_year,

        -- numerics
        rolling_year.cases_heard,
        rolling_year.repeat_cases,
        {{ pct('rolling_year.repeat_cases', 'rolling_year.cases_heard') }} as repeat_rate_pct,
        rolling_year.population as population_women,
        rolling_year.population_reference_year,
        {{ rate_per('rolling_year.cases_heard', 'rolling_year.population', 10000) }}
            as cases_per_10000_women,
        cast(rolling_year.cases_heard_12_months as integer) as cases_heard_12_months,
        {{ rate_per(
            'rolling_year.cases_heard_12_months', 'rolling_year.population', 10000,
            places=1, data_type='numeric(12, 1)',
        ) }}
            as cases_per_10000_women_12_months,
        rolling_year.benchmark_cases_per_10000_women_a_year,
        rolling_year.window_months as repeat_window_months,

        -- booleans
        {{ is_complete_period('rolling_year.month_start_date', 'history.data_as_of_date') }}
            as is_complete_period,
        history.has_full_history,

        -- dates
        rolling_year.month_start_date,
        history.data_as_of_date

    from rolling_year
    inner join history
        on rolling_year.month_start_date = history.month_start_date

)

select * from measures
