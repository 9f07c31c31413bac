{#-
    The date table BI tools relate every view to: one row per day of dim_date's calendar, with
    calendar and UK financial year and quarter. dim_date's unknown member (date_key -1, no date)
    is left out: Power BI refuses a date table with a null or missing date.
-#}
with

dim_date as (

    select * from {{ ref('dim_date') }}

),

calendar_days as (

    select * from dim_date
    where calendar_date is not null

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
        month_start_date as "Month",
        financial_year as "Financial year",
        financial_year_start_year as "Financial year start year",
        financial_year_start_date as "Financial year start",
        financial_quarter as "Financial quarter",
        financial_quarter_number as "Financial quarter number",
        financial_year || ' ' || financial_quarter as "Financial year and quarter",
        day_of_month as "Day of month",
        day_name as "Day name",
        iso_day_of_week as "ISO day of week",
        is_weekend as "Is weekend"
    from calendar_days

)

select * from display
