"""The publish app over the real Redis of the test run, for the publish API's integration tests."""

import pytest

from services.publish.app import create_app


@pytest.fixture
def app(app_env):
    return create_app(app_env)


@pytest.fixture
def api(app):
    return app.test_client()
