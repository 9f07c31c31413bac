{#- Measure 2 (positive outcome rates, month the outcome was assigned) for BI tools: pub_mart_positive_outcomes_closed_monthly with display names (macros/bi.sql); its suppression flags are in bi_positive_outcomes_closed_monthly_suppressed. -#}
{{ bi_view(ref('pub_mart_positive_outcomes_closed_monthly'), part='values') }}
