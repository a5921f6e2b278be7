"""Settings: defaults of the design, environment over .env, named errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.settings import Settings, SettingsError, find_project_dir, load_settings


def test_defaults_are_the_addresses_of_the_design(tmp_path):
    s = load_settings({}, project_dir=tmp_path)
    assert s.postgres_url.endswith("@127.0.0.1:5432/sluice")
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.mongo_url == "mongodb://127.0.0.1:27017/sluice"
    assert s.airflow_url == "http://127.0.0.1:8080"
    assert s.api_url == "http://127.0.0.1:5000"
    assert s.demo_site_url == "http://127.0.0.1:8000"
    assert s.prometheus_url == "http://127.0.0.1:9090"
    assert s.stack_dir == tmp_path / ".stack"
    assert s.cache_dir == Path.home() / ".cache" / "sluice"


def test_environment_wins_over_dotenv_which_wins_over_defaults(tmp_path):
    (tmp_path / ".env").write_text(
        "SLUICE_REDIS_URL=redis://127.0.0.1:6380/1\nSLUICE_KAFKA_BOOTSTRAP=127.0.0.1:19092\n"
    )
    s = load_settings({"SLUICE_KAFKA_BOOTSTRAP": "127.0.0.1:29092"}, project_dir=tmp_path)
    assert s.redis_url == "redis://127.0.0.1:6380/1"
    assert s.kafka_bootstrap == "127.0.0.1:29092"


def test_paths_and_numbers_are_converted(tmp_path):
    s = load_settings(
        {
            "SLUICE_STACK_DIR": "var/stack",
            "SLUICE_CACHE_DIR": "/opt/cache",
            "SLUICE_KAFKA_CONTROLLER_PORT": "19093",
        },
        project_dir=tmp_path,
    )
    assert s.stack_dir == tmp_path / "var" / "stack"
    assert s.cache_dir == Path("/opt/cache")
    assert s.kafka_controller_port == 19093


def test_xdg_cache_home_moves_the_cache(tmp_path):
    s = load_settings({"XDG_CACHE_HOME": "/xdg"}, project_dir=tmp_path)
    assert s.cache_dir == Path("/xdg/sluice")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLUICE_REDIS_URL", "localhost:6379", "SLUICE_REDIS_URL='localhost:6379' is not a URL"),
        ("SLUICE_POSTGRES_URL", "mysql://x@h/db", "SLUICE_POSTGRES_URL='mysql://x@h/db'"),
        ("SLUICE_MONGO_URL", "mongodb://h:99999/x", "SLUICE_MONGO_URL='mongodb://h:99999/x'"),
        (
            "SLUICE_KAFKA_BOOTSTRAP",
            "127.0.0.1",
            "SLUICE_KAFKA_BOOTSTRAP='127.0.0.1' is not host:port",
        ),
        ("SLUICE_KAFKA_CONTROLLER_PORT", "ninety", "SLUICE_KAFKA_CONTROLLER_PORT='ninety'"),
        ("SLUICE_LOG_LEVEL", "loud", "SLUICE_LOG_LEVEL='loud' is not a log level"),
        ("SLUICE_RETAIN_RAW_ITEMS_DAYS", "-1", "SLUICE_RETAIN_RAW_ITEMS_DAYS=-1 must not be"),
    ],
)
def test_a_malformed_value_is_refused_by_name(tmp_path, name, value, message):
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value}, project_dir=tmp_path)
    assert message in str(caught.value)


def test_settings_are_frozen(tmp_path):
    s = load_settings({}, project_dir=tmp_path)
    with pytest.raises(AttributeError):
        s.redis_url = "redis://elsewhere:1/0"  # type: ignore[misc]


def test_project_dir_is_found_from_a_subdirectory(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "sluice"\n')
    nested = tmp_path / "spiders" / "deep"
    nested.mkdir(parents=True)
    assert find_project_dir(nested) == tmp_path


def test_every_setting_is_documented_in_env_example():
    root = Path(__file__).resolve().parents[3]
    documented = (root / ".env.example").read_text()
    for name in Settings.__dataclass_fields__:
        if name == "project_dir":
            continue
        assert f"SLUICE_{name.upper()}=" in documented, f"SLUICE_{name.upper()} is undocumented"
