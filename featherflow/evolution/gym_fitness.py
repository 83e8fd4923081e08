"""``GymFitness``: the mean episode return of a policy network in a gymnasium environment (extra ``rl``).

The model maps an observation (flattened; a ``Discrete`` observation one-hot encoded) to an action:

* ``Discrete(k)`` action spaces: the model has ``k`` outputs and the action is their argmax;
* ``Box`` action spaces: the model has ``prod(shape)`` outputs, clipped to the bounds (``action="clip"``) or
  squashed into them with ``low + (tanh(out) + 1) / 2 * (high - low)`` (``action="tanh"``).

All episodes of a block of individuals run in lockstep: one batched forward pass per time step for every
running episode (``PopulationForward.rows``), then one ``env.step`` each. An episode ends when the
environment terminates or truncates it, or after ``max_steps`` steps.

Episode seeds depend only on ``(seed, generation, individual key, episode)``, so a score does not depend on
which worker computed it; ``common_seeds=True`` gives every individual of a generation the same episodes
(common random numbers: individuals are compared on equal starts).

>>> GymFitness("CartPole-v1", episodes=2, seed=0)  # environments are made in the workers, on first use
GymFitness('CartPole-v1', episodes=2, max_steps=None, seed=0)
"""

from __future__ import annotations

import numpy as np

from featherflow.evolution.fitness import Fitness, FitnessResult
from featherflow.evolution.noise import derive_seed

_PLAIN_WRAPPERS = {"TimeLimit", "OrderEnforcing", "PassiveEnvChecker"}


def _import_gymnasium():
    try:
        import gymnasium
    except ImportError as error:
        raise ImportError('GymFitness requires gymnasium: pip install "featherflow[rl]"') from error
    return gymnasium


class _Spaces:
    """Observation encoding and action decoding for one environment's spaces."""

    def __init__(self, env, action: str):
        gym = _import_gymnasium()
        spaces = gym.spaces
        observation, act = env.observation_space, env.action_space
        if isinstance(observation, spaces.Discrete):
            self.obs_kind, self.obs_size = "onehot", int(observation.n)
            self.obs_start = int(observation.start)
        elif isinstance(observation, spaces.Box):
            self.obs_kind, self.obs_size = "box", int(np.prod(observation.shape))
        else:
            raise ValueError(f"GymFitness supports Box and Discrete observation spaces. Received: {observation}")
        if isinstance(act, spaces.Discrete):
            self.action_kind, self.outputs, self.action_start = "discrete", int(act.n), int(act.start)
        elif isinstance(act, spaces.Box):
            mode = "clip" if action == "auto" else action
            if mode not in ("clip", "tanh"):
                raise ValueError(f"action must be 'auto', 'clip' or 'tanh'. Received: action={action!r}")
            if mode == "tanh" and not (np.isfinite(act.low).all() and np.isfinite(act.high).all()):
                raise ValueError("action='tanh' needs finite Box bounds; use action='clip'.")
            self.action_kind, self.outputs = mode, int(np.prod(act.shape))
            self.low, self.high = act.low.astype(np.float64).ravel(), act.high.astype(np.float64).ravel()
            self.action_shape, self.action_dtype = act.shape, act.dtype
        else:
            raise ValueError(f"GymFitness supports Discrete and Box action spaces. Received: {act}")

    def encode(self, observation, out: np.ndarray) -> None:
        if self.obs_kind == "box":
            out[:] = np.asarray(observation, dtype=out.dtype).reshape(-1)
        else:
            out[:] = 0
            out[int(observation) - self.obs_start] = 1

    def actions(self, outputs: np.ndarray) -> list:
        if self.action_kind == "discrete":
            # NumPy integers: gymnasium's Discrete.contains checks them faster than Python ints
            return list(outputs.argmax(axis=-1) + self.action_start)
        if self.action_kind == "clip":
            values = np.clip(outputs, self.low, self.high)
        else:
            values = self.low + (np.tanh(outputs) + 1.0) * 0.5 * (self.high - self.low)
        return [v.reshape(self.action_shape).astype(self.action_dtype) for v in values]


class _GymState:
    def __init__(self, fitness: GymFitness):
        self.fitness = fitness
        self.envs: list = []
        self.spaces = _Spaces(self.make(), fitness.action)
        default = getattr(self._made_spec, "max_episode_steps", None)
        self.max_steps = int(fitness.max_steps or default or 10_000)

    def make(self):
        gym = _import_gymnasium()
        env = gym.make(self.fitness.env_id, disable_env_checker=True, **self.fitness.env_kwargs)
        self._made_spec = env.spec
        while isinstance(env, gym.Wrapper) and type(env).__name__ in _PLAIN_WRAPPERS:
            env = env.env  # we count steps ourselves; the plain wrappers only cost time
        self.envs.append(env)
        return env

    def pool(self, count: int) -> list:
        while len(self.envs) < count:
            self.make()
        return self.envs[:count]


class GymFitness(Fitness):
    """Mean return over ``episodes`` episodes of a gymnasium environment.

    Args:
        env_id: a registered environment id (``"CartPole-v1"``, ``"LunarLander-v3"``, ...).
        episodes: episodes per evaluation (re-evaluation uses the algorithm's ``reevaluation_episodes``).
        max_steps: cut an episode after this many steps (default: the environment's time limit).
        seed: base seed of the episodes (mixed with the generation and the individual).
        env_kwargs: extra arguments for ``gymnasium.make``.
        action: ``"auto"`` (argmax for ``Discrete``, ``"clip"`` for ``Box``), ``"clip"`` or ``"tanh"``.
        common_seeds: all individuals of a generation play the same episodes.
    """

    def __init__(self, env_id: str, episodes: int = 1, max_steps: int | None = None, seed: int = 0,
                 env_kwargs: dict | None = None, action: str = "auto", common_seeds: bool = False):
        if int(episodes) < 1:
            raise ValueError(f"episodes must be >= 1. Received: episodes={episodes}")
        if max_steps is not None and int(max_steps) < 1:
            raise ValueError(f"max_steps must be >= 1 or None. Received: max_steps={max_steps}")
        self.env_id = env_id
        self.episodes = int(episodes)
        self.max_steps = None if max_steps is None else int(max_steps)
        self.seed = int(seed)
        self.env_kwargs = dict(env_kwargs or {})
        self.action = action
        self.common_seeds = bool(common_seeds)

    def setup(self, context) -> _GymState:
        return _GymState(self)

    def check_model(self, context) -> None:
        state = _GymState(self)
        spaces = state.spaces
        shape = context.forward.input_shape
        if shape is not None and int(np.prod(shape)) != spaces.obs_size:
            raise ValueError(f"The model takes inputs of shape {shape} but {self.env_id} observations have "
                             f"{spaces.obs_size} values.")
        out = context.model.output_shape if hasattr(context.model, "output_shape") else None
        if isinstance(out, tuple) and out and isinstance(out[-1], int) and out[-1] != spaces.outputs:
            raise ValueError(f"The model has {out[-1]} outputs but {self.env_id} needs {spaces.outputs} "
                             f"(one per {'action' if spaces.action_kind == 'discrete' else 'action dimension'}).")
        for env in state.envs:
            env.close()

    def episode_seed(self, task_seed: int, key: int, episode: int) -> int:
        if self.common_seeds:
            return derive_seed(self.seed, task_seed, episode)
        return derive_seed(self.seed, task_seed, key, episode)

    def evaluate(self, context, state, params, positions, seed_keys, task_seed, episodes,
                 observation_filter=None) -> FitnessResult:
        returns, lengths, stats = self.run_episodes(context, state, params, seed_keys, task_seed, episodes,
                                                    observation_filter)
        count = len(params)
        return FitnessResult(returns.reshape(count, episodes).mean(axis=1),
                             lengths.reshape(count, episodes).sum(axis=1), stats)

    def run_episodes(self, context, state, params, seed_keys, task_seed, episodes, observation_filter=None):
        """Returns ``(returns (P*E,), lengths (P*E,), observation stats or None)``; row ``p*E + e``."""
        params = np.asarray(params)
        count, episodes = len(params), int(episodes)
        rows = count * episodes
        owners = np.repeat(np.arange(count), episodes)
        spaces = state.spaces
        envs = state.pool(rows)
        dtype = context.layout.dtype
        obs = np.empty((rows, spaces.obs_size), dtype=dtype)
        for row in range(rows):
            seed = self.episode_seed(task_seed, int(seed_keys[row // episodes]), row % episodes)
            observation, _ = envs[row].reset(seed=seed)
            spaces.encode(observation, obs[row])
        returns = [0.0] * rows  # Python lists: per-step scalar updates are cheaper than on arrays
        lengths = [0] * rows
        box = spaces.obs_kind == "box" and obs.shape[1] == int(np.prod(envs[0].observation_space.shape)) and \
            len(envs[0].observation_space.shape) == 1
        track = observation_filter is not None
        if track:
            mean, std = (np.asarray(a, dtype=dtype) for a in observation_filter)
            obs_count = np.zeros(count, dtype=np.int64)
            obs_sum = np.zeros((count, spaces.obs_size))
            obs_sumsq = np.zeros((count, spaces.obs_size))
        forward = context.forward
        active = np.arange(rows)  # rows still running
        bound_rows = active  # rows whose weights are bound in the forward pass
        bound = forward.bind_rows(params, owners)
        max_steps = state.max_steps
        while active.size:
            if active.size < 0.75 * bound_rows.size:  # rebinding gathers weights: only when it pays
                bound_rows = active
                bound = forward.bind_rows(params, owners[active])
            x = obs[bound_rows]
            if track:
                running = x if bound_rows is active else obs[active]
                np.add.at(obs_count, owners[active], 1)
                np.add.at(obs_sum, owners[active], running)
                np.add.at(obs_sumsq, owners[active], np.square(running, dtype=np.float64))
                x = (x - mean) / std
            outputs = forward.run_rows(bound, x)
            if bound_rows is not active:
                outputs = outputs[np.searchsorted(bound_rows, active)]
            actions = spaces.actions(outputs)
            finished = []
            for j, row in enumerate(active.tolist()):
                observation, reward, terminated, truncated, _ = envs[row].step(actions[j])
                returns[row] += reward
                lengths[row] += 1
                if terminated or truncated or lengths[row] >= max_steps:
                    finished.append(j)
                elif box:
                    obs[row] = observation  # the common case: a flat Box observation, no reshaping
                else:
                    spaces.encode(observation, obs[row])
            if finished:
                active = np.delete(active, finished)
        returns, lengths = np.asarray(returns, dtype=np.float64), np.asarray(lengths, dtype=np.int64)
        stats = (obs_count, obs_sum, obs_sumsq) if track else None
        return returns, lengths, stats

    def evaluate_model(self, model, episodes: int = 100, seed: int = 12345, observation_filter=None) -> dict:
        """Play ``episodes`` fresh episodes with ``model`` (its current weights).

        Returns ``{"mean", "std", "min", "max", "returns", "steps"}``.
        """
        from featherflow.evolution.worker import local_context

        context = local_context(model)
        state = self.setup(context)
        params = context.layout.get()[None]
        returns, lengths, _ = self.run_episodes(context, state, params, np.zeros(1, np.int64),
                                                derive_seed(seed, 0xF1E5), episodes, observation_filter)
        for env in state.envs:
            env.close()
        return {"mean": float(returns.mean()), "std": float(returns.std()), "min": float(returns.min()),
                "max": float(returns.max()), "returns": returns, "steps": int(lengths.sum())}

    def __repr__(self) -> str:
        return f"GymFitness({self.env_id!r}, episodes={self.episodes}, max_steps={self.max_steps}, seed={self.seed})"
