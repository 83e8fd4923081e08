"""Flat parameter, gradient and slot buffers: the memory layout every optimizer updates.

On ``build`` the trainable variables of one dtype are re-homed into one contiguous parameter
buffer: each ``Variable.value`` becomes a reshaped view of a slice of it. A twin gradient buffer
has the same layout, and so does every optimizer slot (``m``, ``v``, ...). An optimizer step is
then a handful of vectorized array operations over whole buffers, whatever the number of
variables (``docs/architecture.md``, "Speed is in the design").

A *run* ``(start, stop)`` is an element range of a group; a full step is one run covering the
whole buffer, a step over a subset of the variables (``apply_gradients`` with only some of them)
is one run per stretch of adjacent variables.
"""

from __future__ import annotations

from featherflow import compiler as _compiler
from featherflow.backend.arrays import array_module
from featherflow.core.variable import Variable


class FlatGroup:
    """The variables of one dtype, their flat parameter/gradient/slot buffers and work buffers.

    Args:
        variables: the trainable variables (all of one dtype), in buffer order.
        slot_specs: ``[(slot_name, initial_value), ...]`` slots to allocate: zero-filled, filled
            with ``initial_value``, or a copy of the parameters when ``initial_value == "params"``.
        num_work: how many scratch buffers of the group's size the update needs.
        old: an earlier group holding some of these variables (a rebuild after new variables
            appeared); their slot values are carried over.
    """

    def __init__(self, variables, slot_specs, num_work, old=None):
        self.variables = list(variables)
        first = self.variables[0].value
        xp = array_module(first)
        self.xp = xp
        self.dtype = first.dtype
        self.sizes = [int(v.value.size) for v in self.variables]
        self.shapes = [tuple(v.value.shape) for v in self.variables]
        self.offsets = []
        total = 0
        for size in self.sizes:
            self.offsets.append(total)
            total += size
        self.size = total
        self.index = {id(v): i for i, v in enumerate(self.variables)}
        self.params = xp.empty(total, dtype=self.dtype)
        self.grads = xp.zeros(total, dtype=self.dtype)
        self.param_views = []
        self.grad_views = []
        for v, start, size, shape in zip(self.variables, self.offsets, self.sizes, self.shapes):
            self.params[start:start + size] = v.value.reshape(-1)
            view = self.params[start:start + size].reshape(shape)
            # Re-homing: the one place a Variable's array is rebound; everything else writes into it in place
            # (Variable.assign), so views taken by the optimizer and the trainer stay valid.
            v.value = view
            self.param_views.append(view)
            self.grad_views.append(self.grads[start:start + size].reshape(shape))
        self.slots = {}
        self.slot_views = {}
        for name, initial in slot_specs:
            if isinstance(initial, str):  # "params": a copy of the parameters (EMA averages)
                buf = self.params.copy()
            elif initial:
                buf = xp.full(total, initial, dtype=self.dtype)
            else:
                buf = xp.zeros(total, dtype=self.dtype)
            if old is not None and name in old.slots:
                for i, v in enumerate(self.variables):
                    j = old.index.get(id(v))
                    if j is not None:
                        a, n = old.offsets[j], old.sizes[j]
                        buf[self.offsets[i]:self.offsets[i] + self.sizes[i]] = old.slots[name][a:a + n]
            self.slots[name] = buf
            self.slot_views[name] = [buf[s:s + n].reshape(shape)
                                     for s, n, shape in zip(self.offsets, self.sizes, self.shapes)]
        self.work = [xp.empty(total, dtype=self.dtype) for _ in range(num_work)]
        self.full_run = [(0, total)]
        self.constrained = [i for i, v in enumerate(self.variables) if getattr(v, "constraint", None) is not None]

    def resync(self) -> None:
        """Re-home any variable whose array was rebound since build (copying its value in)."""
        for v, view in zip(self.variables, self.param_views):
            if _compiler.concrete(v.value) is not view:
                with _compiler.init_scope():
                    view[...] = v.value
                v.value = view

    def runs_for(self, indices) -> list:
        """Merge sorted variable indices into element runs ``[(start, stop), ...]``."""
        runs = []
        for i in sorted(indices):
            start, stop = self.offsets[i], self.offsets[i] + self.sizes[i]
            if runs and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], stop)
            else:
                runs.append((start, stop))
        return runs

    def slot_variables(self, slot_name) -> list:
        """``Variable`` objects whose values are views of one slot's buffer, one per variable."""
        out = []
        for v, view in zip(self.variables, self.slot_views[slot_name]):
            slot = Variable(view, trainable=False, name=f"{slot_name}/{v.name}")
            slot.value = view  # the slot variable aliases the flat slot buffer
            out.append(slot)
        return out
