"""Everything that imports TensorFlow: the worker process `python -m pointwise.worker` and what it runs.

Importing this package (or `environment`) is free; the other modules load TensorFlow or Keras.

    loop.py               the process: read jobs from stdin, write events to stdout (`pointwise.protocol`)
    handlers.py           JobHandler: one method per job kind
    runtime.py            the Runtime interface (input, compile, sync, step, memory) and the RUNTIMES registry
    tensorflow_runtime.py TensorFlowRuntime, the one runtime today
    equivalence.py        does each variant compute Conv2D 1x1?
    timing.py             the timer
    ceilings.py           the device's GEMM peak and copy bandwidth
    environment.py        the environment card
    lesson_forms.py       the Classroom's four forms run by real Keras layers
"""
