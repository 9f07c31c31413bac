{#- Dimension (protective notice and order types) for BI tools: dim_order_type with display names (macros/bi.sql). -#}
{{ bi_view(ref('dim_order_type')) }}
