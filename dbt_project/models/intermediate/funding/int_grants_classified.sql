{#-
    Measure 6's rule, once: each grant (current version) with the kind of money it is and how
    much of it can be additional. mart_funding_secured_yearly adds it up; its lineage lists its
    batches.
-#}
with

grants as (

    select * from {{ ref('fct_grant') }}

),

funders as (

    select * from {{ ref('dim_funder') }}

),

schemes as (

    select * from {{ ref('dim_funding_scheme') }}

),

additionality_rules as (

    select * from {{ ref('funding_additionality_rules') }}

),

grants_classified as (

    select
        grants.grant_key,
        grants.funder_key,
        grants.funding_scheme_key,
        grants.financial_year_start_year,
        funders.funder_type,
        funders.is_government_funder,
        schemes.allocation_type,
        additionality_rules.additional_rule,
        grants.grant_status,
        grants.amount_applied,
        grants.amount_awarded,
        grants.amount_received,
        grants.register_date,
        grants._batch_id
    from grants
    inner join funders
        on grants.funder_key = funders.funder_key
    inner join schemes
        on grants.funding_scheme_key = schemes.funding_scheme_key
    left join additionality_rules
        on schemes.allocation_type = additionality_rules.allocation_type

)

select * from grants_classified
