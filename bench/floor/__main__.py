"""`python -m bench.floor --dsn ... --port ...`."""

from bench.floor.app import main

main()
