"""Team policy in ``registry.yaml``: name prefixes per team and required tags.

```yaml
teams:                     # team → the prefix its model and experiment names start with
  fraud: {prefix: fraud-}
  pricing: {prefix: pricing-}
required_tags:             # tag keys every model / version / run must carry
  models: [team]
  versions: [owner]
  runs: [team]
```

``runsite models check`` enforces the model and version rules; ``runsite runs check
--base REF`` enforces the run rules (experiment names and run tags) on the runs a branch
adds, with the policy read from the manifest at the base (a pull request cannot relax
the rules it is checked against). With CODEOWNERS per prefix (docs/ci.md) the names
become access control.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runsite.registry.manifest import Problem, RegisteredModel, problem

TAG_KINDS = ("models", "versions", "runs")


@dataclass
class TeamPolicy:
    prefixes: dict[str, str] = field(default_factory=dict)  # team → prefix
    required: dict[str, list[str]] = field(default_factory=dict)  # kind → tag keys

    @property
    def empty(self) -> bool:
        return not self.prefixes and not any(self.required.values())

    def team_of(self, name: str) -> str | None:
        """The team whose prefix ``name`` starts with (the longest prefix wins)."""
        found = [(len(p), t) for t, p in self.prefixes.items() if name.startswith(p)]
        return max(found)[1] if found else None

    def name_problem(self, what: str, name: str) -> str | None:
        if not self.prefixes or self.team_of(name) is not None:
            return None
        known = ", ".join(f"{p!r} ({t})" for t, p in sorted(self.prefixes.items()))
        return f"{what} {name!r} starts with no team's prefix ({known})"

    def missing_tags(self, kind: str, tags: dict[str, str]) -> list[str]:
        return [k for k in self.required.get(kind, []) if not str(tags.get(k) or "").strip()]


def validate(doc: Any) -> list[Problem]:
    """Shape problems of ``teams`` and ``required_tags``."""
    out: list[Problem] = []
    teams = doc.get("teams")
    if teams is not None:
        if not isinstance(teams, dict):
            return [problem("'teams' must map team names to {prefix: …}", doc, "teams")]
        for team, node in teams.items():
            prefix = node.get("prefix") if isinstance(node, dict) else None
            if not isinstance(prefix, str) or not prefix:
                out.append(problem(f"team {team!r} needs a prefix (text)", teams, team))
            elif isinstance(node, dict) and set(node) - {"prefix"}:
                extra = ", ".join(sorted(str(k) for k in set(node) - {"prefix"}))
                out.append(
                    problem(f"team {team!r}: unknown key {extra} (known: prefix)", teams, team)
                )
    req = doc.get("required_tags")
    if req is not None:
        if not isinstance(req, dict):
            return [
                *out,
                problem(
                    "'required_tags' must map models/versions/runs to lists", doc, "required_tags"
                ),
            ]
        for kind, keys in req.items():
            if kind not in TAG_KINDS:
                out.append(
                    problem(
                        f"unknown key {kind!r} in required_tags (known: {', '.join(TAG_KINDS)})",
                        req,
                        kind,
                    )
                )
            elif not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
                out.append(problem(f"required_tags.{kind} must be a list of tag keys", req, kind))
    return out


def policy_of(doc: Any) -> TeamPolicy:
    """The team policy of a (valid) parsed manifest; empty when it has none."""
    pol = TeamPolicy()
    if not isinstance(doc, dict):
        return pol
    teams = doc.get("teams")
    if isinstance(teams, dict):
        for team, node in teams.items():
            if isinstance(node, dict) and isinstance(node.get("prefix"), str) and node["prefix"]:
                pol.prefixes[str(team)] = str(node["prefix"])
    req = doc.get("required_tags")
    if isinstance(req, dict):
        for kind in TAG_KINDS:
            keys = req.get(kind)
            if isinstance(keys, list):
                pol.required[kind] = [str(k) for k in keys if isinstance(k, str) and k]
    return pol


def model_problems(doc: Any, models: dict[str, RegisteredModel]) -> list[Problem]:
    """Model names against the team prefixes; a model's ``team`` tag (when it has one)
    against the team its prefix names; required model and version tags."""
    pol = policy_of(doc)
    out: list[Problem] = []
    if pol.empty:
        return out
    nodes = doc["models"]
    for model in models.values():
        why = pol.name_problem("model", model.name)
        if why:
            out.append(problem(why, nodes, model.name))
        team = pol.team_of(model.name)
        tagged = model.tags.get("team")
        if team and tagged and tagged != team:
            out.append(
                problem(
                    f"model {model.name!r} is tagged team={tagged!r} but its prefix "
                    f"{pol.prefixes[team]!r} belongs to team {team!r}",
                    nodes,
                    model.name,
                )
            )
        missing = pol.missing_tags("models", model.tags)
        if missing:
            out.append(
                problem(
                    f"model {model.name!r} lacks the required tag(s) {', '.join(missing)} "
                    f"(runsite models tag {model.name} KEY VALUE)",
                    nodes,
                    model.name,
                )
            )
        for mv in model.versions:
            missing = pol.missing_tags("versions", mv.tags)
            if missing:
                node = next(
                    (
                        v
                        for v in nodes[model.name].get("versions") or []
                        if isinstance(v, dict) and v.get("version") == mv.version
                    ),
                    nodes[model.name],
                )
                out.append(
                    problem(
                        f"{model.name} v{mv.version} lacks the required tag(s) "
                        f"{', '.join(missing)} (runsite models tag {model.name} KEY VALUE "
                        f"--version {mv.version})",
                        node,
                        "version",
                    )
                )
    return out
