with

source as (

    select * from {{ source('public', 'home_office_recorded_crime') }}

),

renamed as (

    select
        -- strings
        cast(financial_year as text) as financial_year,
        cast(force_name as text) as force_name,
        cast(offence_description as text) as offence_description,
        cast(offence_group as text) as offence_group,
        cast(offence_subgroup as text) as offence_subgroup,
        cast(btrim(offence_code) as text) as ho_offence_code,

        -- numerics
        -- Great Expectations holds both to their patterns; a batch an operator released as it was
        -- may break them: such a value is null here (and flagged by the tests), never a failed build
        cast(
            case when btrim(financial_quarter) ~ '^[1-4]$' then btrim(financial_quarter) end
            as integer
        ) as financial_quarter_number,
        -- exported counts are space-padded, zero may be written -00, adjustments are negative,
        -- and a sheet's number format may have put thousands separators in ("1,234")
        cast(
            case
                when number_of_offences ~ '^ *-?([0-9]{1,9}|[0-9]{1,3}(,[0-9]{3}){1,2}) *$'
                    then replace(btrim(number_of_offences), ',', '')
            end as integer
        ) as offence_count,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
