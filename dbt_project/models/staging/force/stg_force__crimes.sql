with

source as (

    select * from {{ source('force', 'crimes') }}
    {{- as_of_filter() }}

),

renamed as (

    select
        -- ids
        cast(crime_reference as text) as crime_id,

        -- strings
        cast(ho_offence_code as text) as offence_code,
        cast(local_authority_code as text) as local_authority_code,
        cast(victim_pseudonym as text) as victim_pseudonym,
        cast(victim_age_band as text) as victim_age_band,
        cast(victim_sex as text) as victim_sex,
        cast(suspect_pseudonym as text) as suspect_pseudonym,
        -- empty (a file without the column, or no value): the crime stands
        cast(coalesce(nullif(record_status, ''), 'active') as text) as record_status,

        -- booleans
        cast(domestic_abuse_flag as boolean) as is_domestic_abuse,

        -- dates
        cast(recorded_date as date) as recorded_date,
        cast(offence_date as date) as offence_date,

        -- timestamps
        cast(extracted_at as timestamptz) as extracted_at,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
