{#- Measure 2 (positive outcome rates, recorded-month cohort) for BI tools: pub_mart_positive_outcomes_monthly with display names (macros/bi.sql); its suppression flags are in bi_positive_outcomes_monthly_suppressed. -#}
{{ bi_view(ref('pub_mart_positive_outcomes_monthly'), part='values') }}
