"""``python -m crypto_observability.log_analyzer`` runs the same command as the ``log-analyzer`` script."""

from crypto_observability.log_analyzer.cli import main

main(prog_name="log-analyzer")
