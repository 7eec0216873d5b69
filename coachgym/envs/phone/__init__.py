"""Phone-screen emulator: Android-like apps on a simulated 1080x2400 phone, drawn with Pillow.

Entry points: `PhoneEnv` (gym id `coachgym/Phone-v0`), `suite.builtin_suite`, `expert.PhoneExpert`.
"""

from coachgym.envs.phone.env import PhoneEnv

__all__ = ["PhoneEnv"]
