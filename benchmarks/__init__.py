"""Speed and memory benchmarks: keras-seq vs Keras built-in layers vs native PyTorch."""
