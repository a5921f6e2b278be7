"""``sluice process``: run the processors (raw archiver and normalizer)."""

from __future__ import annotations

import json
import signal
import sys
import threading

import click

from sluice.settings import Settings


@click.command("process")
@click.option(
    "--group",
    "groups",
    multiple=True,
    type=click.Choice(["archiver", "normalizer"]),
    help="Processor group(s) to run (default: both).",
)
@click.option("--until-idle", is_flag=True, help="Stop when caught up and idle for --idle-seconds.")
@click.option("--idle-seconds", default=5.0, show_default=True)
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--topic", "topics", multiple=True, help="Topic to read (default: the raw topics).")
@click.option(
    "--consumer-group", help="Kafka consumer group id (default: sluice.<group>); one group only."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run's figures as JSON.")
@click.pass_obj
def process(
    settings: Settings,
    groups: tuple[str, ...],
    until_idle: bool,
    idle_seconds: float,
    batch_size: int,
    topics: tuple[str, ...],
    consumer_group: str | None,
    as_json: bool,
) -> None:
    """Consume the raw topics into MongoDB and PostgreSQL until stopped (or idle)."""
    from processors.app import GROUPS, build
    from processors.metrics import ProcessorMetrics
    from sluice.cli.metrics import serve_or_exit

    selected = groups or GROUPS
    if consumer_group and len(selected) != 1:
        raise click.UsageError("--consumer-group needs exactly one --group")
    metrics = ProcessorMetrics()
    serve_or_exit(settings)
    runtimes = {
        name: build(
            settings,
            name,
            topics=list(topics) or None,
            consumer_group_id=consumer_group,
            batch_size=batch_size,
            metrics=metrics.for_group(name),
        )
        for name in selected
    }
    results: dict[str, object] = {}
    errors: dict[str, str] = {}

    def stop(*_: object) -> None:
        for runtime in runtimes.values():
            runtime.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def run(name: str) -> None:
        try:
            results[name] = runtimes[name].run(until_idle=idle_seconds if until_idle else None)
        except Exception as exc:  # reported below with the group's name; exit code 1
            errors[name] = f"{type(exc).__name__}: {exc}"
            stop()

    threads = [threading.Thread(target=run, args=(name,), name=name) for name in runtimes]
    for thread in threads:
        thread.start()
    # Join with a timeout so the main thread keeps receiving signals.
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(0.5)
    report = {name: {k: v for k, v in vars(stats).items()} for name, stats in results.items()}
    if as_json:
        click.echo(json.dumps({"groups": report, "errors": errors}, indent=2))
    else:
        for name, stats in report.items():
            click.echo(
                f"{name}: {stats['consumed']} consumed, {stats['written']} stored, "
                f"{stats['rejected']} rejected ({stats['reason']})"
            )
        for name, error in errors.items():
            click.echo(f"sluice: {name} failed: {error}", err=True)
    sys.exit(1 if errors else 0)
