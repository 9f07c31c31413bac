with

calendar_days as (

    select cast(calendar_day as date) as calendar_date
    from generate_series(
        cast('{{ var("dim_date_start", "2015-01-01") }}' as date),
        cast('{{ var("dim_date_end", "2035-12-31") }}' as date),
        interval '1 day'
    ) as days (calendar_day)

),

financial_years as (

    -- UK financial year April to March: shifting a date back three months puts April in
    -- January, so the shifted year and quarter are the financial year and quarter (Apr-Jun = Q1).
    select
        calendar_date,
        cast(extract(year from calendar_date - interval '3 months') as integer)
            as financial_year_start_year,
        cast(extract(quarter from calendar_date - interval '3 months') as integer)
            as financial_quarter_number
    from calendar_days

),

calendar_dates as (

    select
        -- ids
        cast(to_char(calendar_date, 'YYYYMMDD') as integer) as date_key,

        -- strings
        to_char(calendar_date, 'FMDay') as day_name,
        to_char(calendar_date, 'FMMonth') as month_name,
        to_char(calendar_date, 'YYYY-MM') as year_month,
        financial_year_start_year || '/'
        || to_char((financial_year_start_year + 1) % 100, 'FM00') as financial_year,
        'Q' || financial_quarter_number as financial_quarter,

        -- numerics
        cast(extract(year from calendar_date) as integer) as calendar_year,
        cast(extract(quarter from calendar_date) as integer) as calendar_quarter,
        cast(extract(month from calendar_date) as integer) as calendar_month,
        cast(extract(day from calendar_date) as integer) as day_of_month,
        cast(extract(isodow from calendar_date) as integer) as iso_day_of_week,
        financial_year_start_year,
        financial_quarter_number,

        -- booleans
        extract(isodow from calendar_date) in (6, 7) as is_weekend,

        -- dates
        calendar_date,
        cast(date_trunc('month', calendar_date) as date) as month_start_date,
        make_date(financial_year_start_year, 4, 1) as financial_year_start_date

    from financial_years

),

unknown_member as (

    -- Facts whose date is missing or outside the calendar point here.
    select
        -1 as date_key,
        'Unknown' as day_name,
        'Unknown' as month_name,
        'Unknown' as year_month,
        'Unknown' as financial_year,
        'Unknown' as financial_quarter,
        cast(null as integer) as calendar_year,
        cast(null as integer) as calendar_quarter,
        cast(null as integer) as calendar_month,
        cast(null as integer) as day_of_month,
        cast(null as integer) as iso_day_of_week,
        cast(null as integer) as financial_year_start_year,
        cast(null as integer) as financial_quarter_number,
        cast(null as boolean) as is_weekend,
        cast(null as date) as calendar_date,
        cast(null as date) as month_start_date,
        cast(null as date) as financial_year_start_date

),

dates_with_unknown as (

    select * from calendar_dates
    union all
    select * from unknown_member

)

select * from dates_with_unknown
