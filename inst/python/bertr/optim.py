"""AdamWarmup with keras-bert's semantics, working on tf_keras 2.21.

keras-bert 0.89.0 ships an ``AdamWarmup`` written against the old Keras optimizer API, which fails on
current TensorFlow (``'AdamWarmup' object has no attribute '_set_hyper'``). This one reproduces its update:

* step ``t`` (1-based): ``lr_t = lr * t / warmup_steps`` while ``t <= warmup_steps``, else
  ``lr_t = min_lr + (lr - min_lr) * (1 - min(t, decay_steps) / decay_steps)``;
* Adam with the bias correction folded into the step size, ``a_t = lr_t * sqrt(1 - b2^t) / (1 - b1^t)``;
* decoupled weight decay on weights whose name contains one of ``weight_decay_pattern``:
  ``w -= a_t * (m / (sqrt(v) + eps) + weight_decay * w)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from . import runtime

runtime.configure_threads()  # a no-op when bertr already set TensorFlow's threads; else before TF starts
import tensorflow as tf
import tf_keras

DEFAULT_DECAY_PATTERN = ("embeddings", "kernel", "W1", "W2", "Wk", "Wq", "Wv", "Wo")


def calc_train_steps(num_example: int, batch_size: int, epochs: int, warmup_proportion: float = 0.1) -> tuple[int, int]:
    """(total steps, warmup steps), as keras-bert's ``calc_train_steps``."""
    steps = int(math.ceil(num_example / batch_size)) * int(epochs)
    return steps, int(steps * warmup_proportion)


@tf_keras.utils.register_keras_serializable(package="bertr")
class WarmupLinearDecay(tf_keras.optimizers.schedules.LearningRateSchedule):
    """keras-bert's learning-rate schedule; called with the 0-based optimizer iteration."""

    def __init__(self, learning_rate: float, decay_steps: int, warmup_steps: int, min_lr: float = 0.0):
        self.learning_rate = float(learning_rate)
        self.decay_steps = float(max(1, decay_steps))
        self.warmup_steps = float(warmup_steps)
        self.min_lr = float(min_lr)

    def __call__(self, step):
        t = tf.cast(step, tf.float32) + 1.0
        lr = tf.constant(self.learning_rate, tf.float32)
        warm = lr * t / max(self.warmup_steps, 1.0)
        decayed = self.min_lr + (lr - self.min_lr) * (1.0 - tf.minimum(t, self.decay_steps) / self.decay_steps)
        return tf.where(t <= self.warmup_steps, warm, decayed)

    def rate_at(self, t: int) -> float:
        """The rate used by step ``t`` (1-based), computed in Python (the same formula as ``__call__``)."""
        if t <= self.warmup_steps:
            return self.learning_rate * t / max(self.warmup_steps, 1.0)
        return self.min_lr + (self.learning_rate - self.min_lr) * (1.0 - min(t, self.decay_steps) / self.decay_steps)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "decay_steps": self.decay_steps,
            "warmup_steps": self.warmup_steps,
            "min_lr": self.min_lr,
        }


@tf_keras.utils.register_keras_serializable(package="bertr")
class AdamWarmup(tf_keras.optimizers.Adam):
    """Adam with linear warmup, linear decay and decoupled weight decay (keras-bert's AdamWarmup)."""

    def __init__(
        self,
        decay_steps: int,
        warmup_steps: int,
        learning_rate: float = 1e-4,
        min_lr: float = 0.0,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float = 0.0,
        weight_decay_pattern: Sequence[str] | None = DEFAULT_DECAY_PATTERN,
        amsgrad: bool = False,
        fused: bool = True,
        name: str = "AdamWarmup",
        **kwargs,
    ):
        schedule = WarmupLinearDecay(learning_rate, decay_steps, warmup_steps, min_lr)
        super().__init__(
            learning_rate=schedule,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            jit_compile=False,
            name=name,
            **kwargs,
        )
        self.schedule = schedule
        self.decoupled_weight_decay = float(weight_decay)
        self.weight_decay_pattern = None if weight_decay_pattern is None else tuple(weight_decay_pattern)
        self.fused = bool(fused)

    def _decays(self, variable) -> bool:
        if self.decoupled_weight_decay <= 0:
            return False
        if self.weight_decay_pattern is None:
            return True
        return any(part in variable.name for part in self.weight_decay_pattern)

    def update_step(self, gradient, variable):
        """One Adam step for ``variable`` in TensorFlow's fused kernel (``ResourceApplyAdam``: the same
        formula as tf_keras's Adam, which spells it as a dozen separate ops over the whole tensor). Sparse
        gradients (the token embeddings') are made dense first, so every row's moments decay each step as in
        plain Adam. ``fused = False`` spells the step out op by op, as keras-bert's own AdamWarmup does."""
        if not self.fused or self.amsgrad or getattr(self, "adaptive_epsilon", False):
            return self._unfused_update_step(gradient, variable)
        dtype = variable.dtype
        local_step = tf.cast(self.iterations + 1, dtype)
        lr = tf.cast(self.learning_rate, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        beta_1_power, beta_2_power = tf.pow(beta_1, local_step), tf.pow(beta_2, local_step)
        if self._decays(variable):  # w -= a_t * weight_decay * w, from w before the Adam step
            alpha = lr * tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)
            variable.assign(variable * (1 - alpha * self.decoupled_weight_decay))
        if isinstance(gradient, tf.IndexedSlices):
            gradient = tf.convert_to_tensor(gradient)
        index = self._index_dict[self._var_key(variable)]
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=beta_1_power,
            beta2_power=beta_2_power,
            lr=lr,
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=gradient,
            use_locking=False,
        )

    def _unfused_update_step(self, gradient, variable):
        if not self._decays(variable):
            return super().update_step(gradient, variable)
        local_step = tf.cast(self.iterations + 1, variable.dtype)
        lr = tf.cast(self.learning_rate, variable.dtype)
        alpha = (
            lr
            * tf.sqrt(1 - tf.pow(tf.cast(self.beta_2, variable.dtype), local_step))
            / (1 - tf.pow(tf.cast(self.beta_1, variable.dtype), local_step))
        )
        decay = alpha * self.decoupled_weight_decay * tf.identity(variable)  # uses w before the Adam step
        super().update_step(gradient, variable)
        variable.assign_sub(decay)

    def get_config(self):
        config = super().get_config()
        config.pop("learning_rate", None)
        config.update(
            decay_steps=self.schedule.decay_steps,
            warmup_steps=self.schedule.warmup_steps,
            learning_rate=self.schedule.learning_rate,
            min_lr=self.schedule.min_lr,
            weight_decay=self.decoupled_weight_decay,
            weight_decay_pattern=self.weight_decay_pattern,
            fused=self.fused,
        )
        return config
