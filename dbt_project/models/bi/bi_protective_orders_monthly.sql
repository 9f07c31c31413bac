{#- Measure 5 (protective notices and orders) for BI tools: pub_mart_protective_orders_monthly with display names (macros/bi.sql). -#}
{{ bi_view(ref('pub_mart_protective_orders_monthly')) }}
