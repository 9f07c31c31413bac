{#-
    Generic test for a date table: no null date and no day missing between its first and last
    day (Power BI refuses a date table with either). Fails with one row per fault.
    Usage (a model's data_tests): - bi_date_has_no_gap
-#}
{% test bi_date_has_no_gap(model, date_column='"Date"') %}

with

days as (

    select {{ date_column }} as calendar_date from {{ model }}

),

null_dates as (

    select 'null date' as fault, null::date as calendar_date, count(*) as day_count
    from days
    where calendar_date is null
    having count(*) > 0

),

gaps as (

    select
        'day missing after' as fault,
        calendar_date,
        (next_date - calendar_date - 1) as day_count
    from (
        select calendar_date, lead(calendar_date) over (order by calendar_date) as next_date
        from days
        where calendar_date is not null
    ) as ordered
    where next_date - calendar_date > 1

)

select * from null_dates
union all
select * from gaps

{% endtest %}
