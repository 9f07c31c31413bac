-- audit.task_failure now also holds the failed tries Airflow retries (the retry callback records
-- them, so the first alert goes out at the first failed try): its comment says so.

comment on table audit.task_failure is
    'One row each time a task of a run failed: a try that Airflow retries (its '
    'on_retry_callback; the message ends in " (will retry)") or the last try (its '
    'on_failure_callback): task, try, error class and a message with quoted text and database '
    'detail removed: never a value.';
