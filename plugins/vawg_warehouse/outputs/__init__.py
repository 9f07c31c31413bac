"""What the warehouse writes for people: run reports, Data Docs, the scorecard, Metabase
questions, the reports app the Airflow plugin mounts and the headless browser they use."""
