-- Victims' Code records are extracted from the day their right is triggered, before any status is
-- recorded (contract force_victims_code: status is optional). The measure counts a right still
-- without a status once it is overdue by the recording lag as not met (docs/measures.md,
-- measure 4), so such rows must reach raw_force.victims_code.

alter table raw_force.victims_code alter column status drop not null;
comment on column raw_force.victims_code.status is
    'met, not_met or not_applicable; null while the right is triggered and no status is recorded yet.';
