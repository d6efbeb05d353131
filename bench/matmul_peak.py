"""Part (d)'s denominator: the float32 matmul peak of this machine in TensorFlow, with bertr's thread settings.

For each shape, `reps` timed matmuls after a warm-up; the peak is the best shape's median GFLOP/s
(2 m k n FLOPs per [m, k] x [k, n] product)."""
import time

import numpy as np


def matmul_peak(shapes=((1024, 1024, 1024), (2048, 2048, 2048), (4096, 384, 1536), (4096, 1536, 384)),
                reps=10):
    from bertr import runtime

    runtime.configure_threads()
    import tensorflow as tf

    results = []
    for m, k, n in shapes:
        a = tf.random.normal((m, k), dtype=tf.float32)
        b = tf.random.normal((k, n), dtype=tf.float32)
        tf.matmul(a, b).numpy()
        times = []
        for _ in range(reps):
            started = time.perf_counter()
            tf.matmul(a, b).numpy()
            times.append(time.perf_counter() - started)
        median = float(np.median(times))
        results.append({"shape": [m, k, n], "median_s": median, "gflops": 2 * m * k * n / median / 1e9})
    best = max(results, key=lambda r: r["gflops"])
    return {"peak_gflops": best["gflops"], "peak_shape": best["shape"], "shapes": results,
            "threads": list(runtime.configure_threads())}


if __name__ == "__main__":  # part_peak.R runs this in a fresh process with TensorFlow's own oneDNN setting
    import json

    print(json.dumps(matmul_peak()))
