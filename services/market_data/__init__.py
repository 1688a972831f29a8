"""The market-data service ("market-data"): FastAPI over ccxt, with its MarketLogger."""
