"""Analytics on the warehouse: epidemiology, operations, surveillance, forecasting."""
