"""The only place keras-seq imports torch, jax or tensorflow: per-backend fast paths.

Each fast path returns None where it would not compute exactly what the generic `keras.ops`
code computes, with a reason a test can read, and the caller then runs the generic code.
"""
