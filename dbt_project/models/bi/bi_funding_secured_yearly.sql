{#- Measure 6 (additional Government funding secured) for BI tools: mart_funding_secured_yearly with display names (macros/bi.sql). -#}
{{ bi_view(ref('mart_funding_secured_yearly')) }}
