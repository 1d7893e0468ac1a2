"""Release commands: promote, registry, history (registered on the `mergeml` group)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("promote")
@click.argument("stage")
@click.option("--rev", default="HEAD", show_default=True, help="The commit to promote.")
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    default="minor",
    show_default=True,
    help="How to number a model that has no version yet.",
)
@click.option("--remote", default="origin", show_default=True, help="Where to push.")
@click.option("--dry-run", is_flag=True, help="Check everything and show the plan; write nothing.")
@click.option("--message", default="", help="Why: recorded in the tags.")
def promote(stage: str, rev: str, bump: str, remote: str, dry_run: bool, message: str) -> None:
    """Promote REV to STAGE: gated merge into release/STAGE plus GTO tags, pushed atomically.

    Refused before any ref is written when the tree is dirty, the stage is unknown, REV is
    not on REMOTE's main, it skips a required earlier stage, or it fails the gates
    (absolute, and against the model now in STAGE). Promoting what is already there
    writes nothing and exits 0.
    """
    from mergeml import promotion
    from mergeml.config.compose import load_yaml
    from mergeml.config.stage import artifact_name
    from mergeml.scm import Git, PushRejected, actor

    artifact = artifact_name(load_yaml(Path("dvc.yaml")))
    repo = Git()
    for attempt in range(1, 4):
        repo.fetch(remote)
        plan = promotion.plan(repo, artifact, stage, rev, bump=bump, remote=remote)
        if plan.already:
            if attempt > 1:
                raise promotion.PromotionError(
                    f"another promotion put {artifact} {plan.version} in {stage} first"
                )
            click.echo(f"{artifact} {plan.version} is already in {stage}; nothing written")
            return
        tags = ([f"{artifact}@{plan.version}"] if plan.new_version else []) + [plan.stage_tag]
        if dry_run:
            click.echo(f"would push release/{stage} -> {plan.release_new[:12]} and {tags}")
            return
        try:
            promotion.execute(repo, plan, remote=remote, actor=actor(repo), message=message)
        except PushRejected as exc:
            click.echo(f"attempt {attempt}: {exc}; fetching and checking again", err=True)
            continue
        click.echo(f"promoted {artifact} {plan.version} to {stage}: {', '.join(tags)}")
        return
    raise promotion.PromotionError(f"{remote} rejected the promotion 3 times; nothing written")


@click.command("registry")
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
def registry_cmd(as_json: bool) -> None:
    """Every model version: commit, model md5, key metrics, current stages (from git tags)."""
    import json

    from mergeml.registry import read_registry
    from mergeml.scm import Git

    data = read_registry(Git())
    if as_json:
        click.echo(json.dumps(data, indent=2, allow_nan=False))
        return
    for name, art in data["artifacts"].items():
        stages = ", ".join(f"{s}: {v}" for s, v in art["stages"].items()) or "no stage"
        click.echo(f"{name}  latest {art['latest'] or '-'}  ({stages})")
        for v in art["versions"]:
            metrics = ", ".join(
                f"{k} {val:.4g}" for k, val in list((v["metrics"] or {}).items())[:3]
            )
            md5 = (v["model_md5"] or "unavailable")[:12]
            flags = " [deregistered]" if v["deregistered"] else ""
            click.echo(
                f"  {v['version']}  {v['commit'][:7]}  md5 {md5}  "
                f"{metrics or 'metrics unavailable'}  {' '.join(v['stages'])}{flags}"
            )
    for warning in data["warnings"]:
        click.echo(f"warning: {warning}", err=True)


@click.command("history")
@click.argument("stage")
@click.option("--json", "as_json", is_flag=True, help="Print the assignments as JSON.")
def history_cmd(stage: str, as_json: bool) -> None:
    """Every assignment of STAGE, oldest first: version, commit, time, actor, message."""
    import json
    from datetime import UTC, datetime

    from mergeml.registry import stage_history
    from mergeml.scm import Git

    items = stage_history(Git(), stage)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    if not items:
        click.echo(f"no assignments of stage '{stage}'")
    for a in items:
        when = datetime.fromtimestamp(a["timestamp"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        action = "unassigned" if a["unassign"] else "assigned"
        click.echo(
            f"{when}  {a['artifact']} {a['version'] or a['commit'][:7]}  {action} by "
            f"{a['actor']}  ({a['tag']}): {a['message'].splitlines()[0] if a['message'] else ''}"
        )


RELEASE_COMMANDS = (promote, registry_cmd, history_cmd)
