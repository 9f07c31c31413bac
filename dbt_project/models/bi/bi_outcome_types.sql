{#- Dimension (Home Office outcome types) for BI tools: dim_outcome with display names (macros/bi.sql). -#}
{{ bi_view(ref('dim_outcome')) }}
