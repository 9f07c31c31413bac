{#-
    The one category dimension every view relates to by "Category code" (reporting_monthly,
    positive_outcomes_*, outcomes_by_type_monthly, peer_comparison_yearly; measure_headlines'
    series_id for measures 1 and 2): every reporting category of seed reporting_categories,
    stalking_and_harassment included, with display names.
-#}
with

categories as (

    select * from {{ ref('reporting_categories') }}

),

display as (

    select
        reporting_category as "Category code",
        category_label as "Category",
        population_basis as "Population basis",
        rate_definition as "Rate definition",
        sort_order as "Sort order",
        status as "Classification status"
    from categories

)

select * from display
