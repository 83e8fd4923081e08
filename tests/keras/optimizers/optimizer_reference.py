"""Independent float64 NumPy implementations of the published optimizer updates (tf.keras 2.12
formulas), one variable at a time, for the golden tests."""

from __future__ import annotations

import numpy as np


def clip(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    if clipnorm:
        return [g * clipnorm / max(np.linalg.norm(g), clipnorm) for g in grads]
    if global_clipnorm:
        norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
        return [g * global_clipnorm / max(norm, global_clipnorm) for g in grads]
    if clipvalue:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


class Reference:
    """``step(params, grads)`` updates the float64 arrays in ``params`` in place."""

    def __init__(self, name, lr, weight_decay=None, clip_args=None, **hyper):
        self.name, self.lr, self.wd, self.hyper = name, lr, weight_decay, hyper
        self.clip_args = clip_args or {}
        self.state = {}
        self.t = 0

    def slot(self, key, i, shape, init=0.0):
        return self.state.setdefault((key, i), np.full(shape, init, dtype=np.float64))

    def step(self, params, grads):
        self.t += 1
        t, lr, h = self.t, self.lr, self.hyper
        grads = clip([np.asarray(g, np.float64) for g in grads], **self.clip_args)
        if self.wd:
            for p in params:
                p -= p * self.wd * lr
        for i, (p, g) in enumerate(zip(params, grads)):
            getattr(self, "_" + self.name)(i, p, g, t, lr, h)

    def _sgd(self, i, p, g, t, lr, h):
        mu = h.get("momentum", 0.0)
        if not mu:
            p -= lr * g
            return
        m = self.slot("m", i, p.shape)
        m[...] = mu * m - lr * g
        if h.get("nesterov"):
            p += mu * m - lr * g
        else:
            p += m

    def _rmsprop(self, i, p, g, t, lr, h):
        rho, mu, eps = h.get("rho", 0.9), h.get("momentum", 0.0), h.get("epsilon", 1e-7)
        v = self.slot("v", i, p.shape)
        v[...] = rho * v + (1 - rho) * g * g
        if h.get("centered"):
            a = self.slot("a", i, p.shape)
            a[...] = rho * a + (1 - rho) * g
            denom = v - a * a + eps
        else:
            denom = v + eps
        inc = lr * g / np.sqrt(denom)
        if mu:
            mom = self.slot("mom", i, p.shape)
            mom[...] = mu * mom + inc
            p -= mom
        else:
            p -= inc

    def _adagrad(self, i, p, g, t, lr, h):
        acc = self.slot("acc", i, p.shape, h.get("initial_accumulator_value", 0.1))
        acc += g * g
        p -= lr * g / np.sqrt(acc + h.get("epsilon", 1e-7))

    def _adadelta(self, i, p, g, t, lr, h):
        rho, eps = h.get("rho", 0.95), h.get("epsilon", 1e-7)
        eg, ed = self.slot("eg", i, p.shape), self.slot("ed", i, p.shape)
        eg[...] = rho * eg + (1 - rho) * g * g
        delta = -np.sqrt(ed + eps) / np.sqrt(eg + eps) * g
        ed[...] = rho * ed + (1 - rho) * delta * delta
        p += lr * delta

    def _adam(self, i, p, g, t, lr, h):
        b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
        m, v = self.slot("m", i, p.shape), self.slot("v", i, p.shape)
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * g * g
        if h.get("amsgrad"):
            vhat = self.slot("vhat", i, p.shape)
            vhat[...] = np.maximum(vhat, v)
            v = vhat
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p -= lr_t * m / (np.sqrt(v) + eps)

    _adamw = _adam

    def _adamax(self, i, p, g, t, lr, h):
        b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
        m, u = self.slot("m", i, p.shape), self.slot("u", i, p.shape)
        m[...] = b1 * m + (1 - b1) * g
        u[...] = np.maximum(b2 * u, np.abs(g))
        p -= lr / (1 - b1 ** t) * m / (u + eps)

    def _nadam(self, i, p, g, t, lr, h):
        b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)

        def mu(k):
            return b1 * (1 - 0.5 * 0.96 ** k)

        prod_t = np.prod([mu(k) for k in range(1, t + 1)])
        prod_next = prod_t * mu(t + 1)
        m, v = self.slot("m", i, p.shape), self.slot("v", i, p.shape)
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * g * g
        m_hat = mu(t + 1) * m / (1 - prod_next) + (1 - mu(t)) * g / (1 - prod_t)
        v_hat = v / (1 - b2 ** t)
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)

    def _ftrl(self, i, p, g, t, lr, h):
        power = h.get("learning_rate_power", -0.5)
        l1 = h.get("l1_regularization_strength", 0.0)
        l2 = h.get("l2_regularization_strength", 0.0) + h.get("beta", 0.0) / (2 * lr)
        shrink = h.get("l2_shrinkage_regularization_strength", 0.0)
        n = self.slot("n", i, p.shape, h.get("initial_accumulator_value", 0.1))
        z = self.slot("z", i, p.shape)
        n_new = n + g * g
        z += g + 2 * shrink * p - (n_new ** -power - n ** -power) / lr * p
        quadratic = n_new ** -power / lr + 2 * l2
        p[...] = (np.clip(z, -l1, l1) - z) / quadratic
        n[...] = n_new

    def _lion(self, i, p, g, t, lr, h):
        b1, b2 = h.get("beta_1", 0.9), h.get("beta_2", 0.99)
        m = self.slot("m", i, p.shape)
        p -= lr * np.sign(b1 * m + (1 - b1) * g)
        m[...] = b2 * m + (1 - b2) * g
