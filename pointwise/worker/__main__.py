"""`python -m pointwise.worker`: how the pool starts a worker process."""

from pointwise.worker.loop import main

main()
