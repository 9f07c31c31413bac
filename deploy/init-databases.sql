-- Runs once when the compose PostgreSQL starts empty: one database for Airflow's metadata,
-- one for the warehouse, each with its own login.
create role airflow login password 'airflow';
create database airflow owner airflow;
create role vawg login password 'vawg' createrole;
create database vawg owner vawg;
