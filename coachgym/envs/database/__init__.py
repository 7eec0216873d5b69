"""Database environment: SQL over SQLite (default), MariaDB/MySQL or PostgreSQL; DBBench compatible.

See `env.DatabaseEnv` for the episode's story, `tasks` and `dbbench` for the suites, `expert` for
the scripted solver and `servers` for throwaway local servers used by tests and CI.
"""

from coachgym.envs.database.env import DatabaseEnv

__all__ = ["DatabaseEnv"]
