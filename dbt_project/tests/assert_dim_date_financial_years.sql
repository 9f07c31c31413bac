-- UK financial year April to March, labelled "YYYY/YY"; Q1 = April to June.
-- Returns the dates whose label or quarter is not the hand-written one.

with

dates as (

    select * from {{ ref('dim_date') }}

),

expected as (

    select
        cast(expected_dates.calendar_date as date) as calendar_date,
        expected_dates.financial_year,
        expected_dates.financial_quarter
    from (
        values
        ('2015-01-01', '2014/15', 'Q4'),
        ('2024-03-31', '2023/24', 'Q4'),
        ('2024-04-01', '2024/25', 'Q1'),
        ('2024-06-30', '2024/25', 'Q1'),
        ('2024-07-01', '2024/25', 'Q2'),
        ('2024-12-31', '2024/25', 'Q3'),
        ('2025-01-01', '2024/25', 'Q4'),
        ('2099-04-01', '2099/00', 'Q1'),
        ('2035-12-31', '2035/36', 'Q3')
    ) as expected_dates (calendar_date, financial_year, financial_quarter)
    where cast(expected_dates.calendar_date as date) <= (select max(calendar_date) from dates)

),

mismatches as (

    select
        expected.calendar_date,
        expected.financial_year as expected_financial_year,
        dates.financial_year,
        expected.financial_quarter as expected_financial_quarter,
        dates.financial_quarter
    from expected
    left join dates
        on expected.calendar_date = dates.calendar_date
    where
        dates.date_key is null
        or dates.financial_year <> expected.financial_year
        or dates.financial_quarter <> expected.financial_quarter
        or dates.date_key <> cast(to_char(expected.calendar_date, 'YYYYMMDD') as integer)

)

select * from mismatches
