{#-
    The date table BI tools relate every view to: one row per day of whole UK financial years
    (1 April to 31 March) covering dim_date's calendar, with calendar and financial year, quarter
    and month. Computed from the day itself, so the days dim_date does not reach (before its first
    1 April, after its last 31 March) are here too; dim_date's unknown member (no date) is left
    out: Power BI refuses a date table with a null or missing date. The month's first day is
    "Month start", so it does not clash with the fact views' "Month" (their key to "Date").
-#}
with

dim_date as (

    select * from {{ ref('dim_date') }}

),

calendar_bounds as (

    -- The first 1 April on or before dim_date's first day, the last 31 March on or after its last.
    select
        make_date(
            cast(extract(year from min(calendar_date) - interval '3 months') as integer), 4, 1
        ) as first_day,
        make_date(
            cast(extract(year from max(calendar_date) - interval '3 months') as integer) + 1, 3, 31
        ) as last_day
    from dim_date
    where calendar_date is not null

),

calendar_days as (

    select cast(day as date) as calendar_date
    from calendar_bounds
    cross join generate_series(first_day, last_day, interval '1 day') as days (day)

),

attributes as (

    select
        calendar_date,
        cast(to_char(calendar_date, 'YYYYMMDD') as integer) as date_key,
        cast(extract(year from calendar_date) as integer) as calendar_year,
        cast(extract(quarter from calendar_date) as integer) as calendar_quarter,
        cast(extract(month from calendar_date) as integer) as calendar_month,
        to_char(calendar_date, 'FMMonth') as month_name,
        to_char(calendar_date, 'YYYY-MM') as year_month,
        cast(date_trunc('month', calendar_date) as date) as month_start_date,
        cast(extract(year from calendar_date - interval '3 months') as integer)
            as financial_year_start_year,
        -- April = 1 ... March = 12, for sorting months in financial-year order
        cast(extract(month from calendar_date - interval '3 months') as integer)
            as financial_month_number,
        cast(extract(day from calendar_date) as integer) as day_of_month,
        to_char(calendar_date, 'FMDay') as day_name,
        cast(extract(isodow from calendar_date) as integer) as iso_day_of_week
    from calendar_days

),

display as (

    select
        calendar_date as "Date",
        date_key as "Date key",
        calendar_year as "Year",
        calendar_quarter as "Quarter number",
        calendar_year || ' Q' || calendar_quarter as "Quarter",
        calendar_month as "Month number",
        month_name as "Month name",
        year_month as "Year-month",
        month_start_date as "Month start",
        financial_year_start_year || '/'
        || to_char((financial_year_start_year + 1) % 100, 'FM00') as "Financial year",
        financial_year_start_year as "Financial year start year",
        make_date(financial_year_start_year, 4, 1) as "Financial year start",
        'Q' || ((financial_month_number - 1) / 3 + 1) as "Financial quarter",
        (financial_month_number - 1) / 3 + 1 as "Financial quarter number",
        financial_year_start_year || '/'
        || to_char((financial_year_start_year + 1) % 100, 'FM00')
        || ' Q' || ((financial_month_number - 1) / 3 + 1) as "Financial year and quarter",
        financial_month_number as "Financial month number",
        day_of_month as "Day of month",
        day_name as "Day name",
        iso_day_of_week as "ISO day of week",
        iso_day_of_week in (6, 7) as "Is weekend"
    from attributes

)

select * from display
