"""What the Dockerfile's image targets install, compared with what their code imports: the
distributions are derived from the import statements (tests/support/images.py), never listed
by hand, so a new import of a library the image lacks fails here instead of in a pod. Each
comparison is also shown to fail on a Dockerfile with an install left out."""

from __future__ import annotations

import re

import pytest

from tests.support import images

# The checkout folders whose code runs in each image. The runtime image runs every component
# (api, processors, spider workers, demo sites, the CLI). Airflow runs the plugins, the DAGs
# and the sluice package, and the crawl operator seeds crawls through sluice.crawl.runner,
# where Scrapy imports spiders.settings and the spider modules by names written in strings
# (SCRAPY_SETTINGS_MODULE, SPIDER_MODULES), which no import statement shows: hence spiders/.
IMAGES = {
    "runtime": ("sluice", "plugins", "spiders", "processors", "api", "demo", "dags"),
    "airflow": ("sluice", "plugins", "dags", "spiders"),
}
PROVIDERS = {
    "apache-airflow-providers-apache-kafka",
    "apache-airflow-providers-postgres",
    "apache-airflow-providers-mongo",
    "apache-airflow-providers-redis",
    "apache-airflow-providers-common-messaging",
}


@pytest.fixture(scope="module")
def dockerfile(settings) -> str:
    return (settings.project_dir / "Dockerfile").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def needs(settings) -> dict[str, dict[str, set[str]]]:
    """Per image, the distributions its code imports, each with the modules that need it."""
    return {target: images.needed(settings.project_dir, roots) for target, roots in IMAGES.items()}


def missing(needs: dict[str, set[str]], installs: set[str]) -> dict[str, list[str]]:
    """The needed distributions an image does not install, with the modules that need them."""
    return {name: sorted(modules) for name, modules in needs.items() if name not in installs}


@pytest.mark.parametrize("target", IMAGES)
def test_the_image_installs_every_distribution_its_code_imports(
    settings, dockerfile, needs, target
):
    installs = images.installed(dockerfile, target, settings.project_dir)
    assert not missing(needs[target], installs)


def test_the_airflow_code_imports_the_four_providers(needs):
    # The derivation itself: were it to find nothing, every image would look complete.
    assert set(needs["airflow"]) >= PROVIDERS


def test_the_spider_code_imports_scrapy_playwright(needs):
    assert "scrapy-playwright" in needs["runtime"]


def test_an_airflow_image_without_the_mongo_provider_is_named(settings, needs, broken_copy):
    broken = broken_copy("Dockerfile", "apache-airflow-providers-mongo ", "")
    installs = images.installed(broken.read_text(encoding="utf-8"), "airflow", settings.project_dir)
    assert set(missing(needs["airflow"], installs)) == {"apache-airflow-providers-mongo"}


def test_a_runtime_image_with_only_the_sluice_wheel_misses_the_libraries(
    settings, needs, broken_copy
):
    broken = broken_copy("Dockerfile", "/wheels/*.whl", "/wheels/sluice-*.whl")
    installs = images.installed(broken.read_text(encoding="utf-8"), "runtime", settings.project_dir)
    # The wheel brings only pyproject's dependencies, not the spiders' or the API's libraries.
    assert {"scrapy-playwright", "flask-smorest"} <= set(missing(needs["runtime"], installs))


def test_an_import_no_distribution_ships_is_reported(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.setuptools.packages.find]\ninclude = ["app*"]\n', encoding="utf-8"
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("import no_such_library\n", encoding="utf-8")
    assert images.needed(tmp_path, ["app"]) == {"?": {"no_such_library"}}


def test_the_runtime_image_installs_debian_chromium(dockerfile):
    # spiders/settings.py starts the Chromium at SLUICE_CHROMIUM, /usr/bin/chromium by default.
    assert "chromium" in images.apt_packages(images.stages(dockerfile)["runtime"])


def test_the_runtime_image_installs_fonts(dockerfile):
    packages = images.apt_packages(images.stages(dockerfile)["runtime"])
    assert any(package.startswith("fonts-") for package in packages), packages


def test_the_airflow_image_pins_every_distribution_it_names(settings, dockerfile):
    stage = images.stages(dockerfile)["airflow"]
    unpinned = set()
    for command in images.pip_commands(stage):
        pinned = {
            images.requirement_name(line)[0]
            for path in command.constraint_files
            for line in images.requirement_file(
                images.copied_file(stage, path, settings.project_dir)
            )
            if "==" in line
        }
        unpinned |= {images.requirement_name(spec)[0] for spec in command.requirements} - pinned
    assert not unpinned


def test_the_airflow_base_image_is_the_airflow_of_requirements(settings, dockerfile):
    image = re.search(r"^ARG AIRFLOW_IMAGE=\S+:(\d+\.\d+\.\d+)", dockerfile, re.MULTILINE)
    requirements = (settings.project_dir / "requirements.txt").read_text(encoding="utf-8")
    pin = re.search(r"^apache-airflow==(\S+)", requirements, re.MULTILINE)
    assert image and pin and image.group(1) == pin.group(1)
