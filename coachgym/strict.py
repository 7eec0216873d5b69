"""The pydantic base of configs people write by hand (training YAML, eval and collect options).

A misspelt key (`learnig_rate`) would otherwise be ignored and its default silently used, so an
unknown key is an error that names the closest known one. Ranges stay on each field
(`Field(gt=0)`); this module only rejects keys.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from coachgym.errors import did_you_mean


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
        unknown = [str(key) for key in data if key not in known]
        if unknown:
            message = "; ".join(f"unknown key {key!r}{did_you_mean(key, known)}" for key in unknown)
            raise PydanticCustomError("unknown_key", "{message}", {"message": message})
        return data
