"""Extractors that fetch source data over the network and write it as landing files."""
