"""The VAWG data warehouse: extract, pseudonymise, load, validate and orchestrate."""

__version__ = "0.1.0"
