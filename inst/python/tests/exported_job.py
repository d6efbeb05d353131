"""Predicts with bertr exports in a process that cannot import bertr or keras-bert (run by test_export.py).

Reads ``{"exports": [{"path", "texts", "pairs"}]}`` as JSON on stdin; for each, loads the SavedModel with
``tf.saved_model.load`` and prints its ``serving_default`` and ``tokenize`` outputs as JSON on stdout, with the
modules the process had loaded.
"""

import importlib.abc
import json
import sys

BLOCKED = ("bertr", "keras_bert", "keras_transformer", "keras_multi_head", "keras_pos_embd", "keras_embed_sim")


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked in this process: an export must load without it")
        return None


sys.meta_path.insert(0, Blocker())

import tensorflow as tf  # after the blocker
import tensorflow_text  # noqa: F401  (registers the ops the export uses)


def plain(value):
    value = value.numpy()
    if value.dtype == object:
        return [v.decode("utf-8") for v in value.tolist()]
    return value.tolist()


results = []
for job in json.load(sys.stdin)["exports"]:
    model = tf.saved_model.load(job["path"])
    inputs = {"texts": tf.constant(job["texts"], tf.string)}
    if job.get("pairs") is not None:
        inputs["pairs"] = tf.constant(job["pairs"], tf.string)
    served = model.signatures["serving_default"](**inputs)
    tokens = model.signatures["tokenize"](**inputs)
    results.append(
        {"serve": {k: plain(v) for k, v in served.items()}, "tokenize": {k: plain(v) for k, v in tokens.items()}}
    )
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"results": results, "modules": loaded}))
